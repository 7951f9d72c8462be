/**
 * CloudWatch metrics through Powertools for AWS Lambda's metrics utility: the Embedded Metric Format, one JSON line
 * on stdout that CloudWatch Logs turns into metrics, with no API call on the hot path. Namespace `Valence`, the
 * `service` dimension on every metric. Only what we use: no cold-start metric, no middleware.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

export const metrics = new Metrics({ namespace: "Valence", serviceName: "valence" });

/** Publishes `figures` as one EMF line: a name ending in `_ms` is a duration in milliseconds, anything else a count. */
export function publishFigures(figures: Record<string, number>): void {
  for (const [name, value] of Object.entries(figures)) {
    metrics.addMetric(name, name.endsWith("_ms") ? MetricUnit.Milliseconds : MetricUnit.Count, value);
  }
  metrics.publishStoredMetrics();
}
