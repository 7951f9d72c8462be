/**
 * CloudWatch metrics through the Embedded Metric Format: one JSON line on stdout that CloudWatch Logs turns into
 * metrics, with no API call on the hot path (the format Powertools' metrics utility writes).
 */
export function emfLine(
  namespace: string,
  dimensions: Record<string, string>,
  metrics: Record<string, number>,
  now: () => number = Date.now,
): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now(),
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [Object.keys(dimensions)],
          Metrics: Object.keys(metrics).map((name) => ({
            Name: name,
            Unit: name.endsWith("_ms") ? "Milliseconds" : "Count",
          })),
        },
      ],
    },
    ...dimensions,
    ...metrics,
  });
}
