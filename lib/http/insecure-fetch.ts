import { request } from "node:https";

const NO_BODY = new Set([101, 204, 205, 304]);

/**
 * `fetch` over HTTPS that accepts any certificate, for BMCs and pod managers configured with `verify_ca: false`
 * (self-signed certificates are the norm there). Built on node:https so that no HTTP client library has to be
 * bundled into every Lambda; the traffic is still encrypted.
 */
export function insecureFetch(input: URL | string, init: RequestInit = {}): Promise<Response> {
  const url = typeof input === "string" ? new URL(input) : input;
  // Nothing to verify over plain HTTP.
  if (url.protocol !== "https:") return fetch(url, init);
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: init.method ?? "GET",
        headers,
        rejectUnauthorized: false,
        ...(init.signal ? { signal: init.signal } : {}),
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("error", reject);
        incoming.on("end", () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (value !== undefined)
              responseHeaders.set(name, Array.isArray(value) ? value.join(", ") : value);
          }
          const status = incoming.statusCode ?? 502;
          resolve(
            new Response(NO_BODY.has(status) ? null : Buffer.concat(chunks), {
              status,
              headers: responseHeaders,
            }),
          );
        });
      },
    );
    outgoing.on("error", reject);
    if (typeof init.body === "string") outgoing.write(init.body);
    outgoing.end();
  });
}
