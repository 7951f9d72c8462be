/** RFC 8288 `Link` header pointing at the next page: the same query with `marker` moved on. */
export function nextPageLink(
  baseUrl: string,
  path: string,
  query: Record<string, string | number | undefined>,
  marker: string,
): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && key !== "marker") params.set(key, String(value));
  }
  params.set("marker", marker);
  return `<${baseUrl}${path}?${params.toString()}>; rel="next"`;
}
