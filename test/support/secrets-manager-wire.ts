import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as Secrets Manager receives it: the action (`X-Amz-Target`), the JSON input, the headers. */
export interface SecretsManagerRequest {
  url: string;
  action: string;
  input: Record<string, unknown>;
  headers: Record<string, string>;
}

/** What a fake answers for one action: the output, or a thrown error whose `name` is Secrets Manager's type. */
export type SecretsManagerHandler = (action: string, input: Record<string, unknown>) => unknown;

/** Secrets Manager refuses with this error type (`ResourceNotFoundException`, ...). */
export function refusal(type: string, message = type): Error {
  return Object.assign(new Error(message), { name: type });
}

/** Secrets Manager's JSON 1.1 answer to one request: 200 with the output, or 400 with `__type` and `message`. */
async function answer(handler: SecretsManagerHandler, request: SecretsManagerRequest): Promise<Response> {
  try {
    return Response.json((await handler(request.action, request.input)) ?? {});
  } catch (error) {
    const { name, message } = error as Error;
    return Response.json(
      { __type: name, message },
      { status: 400, headers: { "x-amzn-errortype": `${name}:http://internal.amazon.com/coral/` } },
    );
  }
}

function requestOf(url: string, headers: Record<string, string>, body: string): SecretsManagerRequest {
  const target = headers["x-amz-target"] ?? "";
  if (!target.startsWith("secretsmanager.")) throw new Error(`not a Secrets Manager request: ${target}`);
  return {
    url,
    action: target.slice("secretsmanager.".length),
    input: JSON.parse(body) as Record<string, unknown>,
    headers,
  };
}

/** A `fetch` that answers as Secrets Manager would, recording every request: for unit tests, no network. */
export function secretsManagerFetch(handler: SecretsManagerHandler): {
  fetch: typeof fetch;
  requests: SecretsManagerRequest[];
} {
  const requests: SecretsManagerRequest[] = [];
  const fake = async (url: URL | string | Request, init?: RequestInit) => {
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const request = requestOf(String(url), headers, String(init?.body ?? "{}"));
    requests.push(request);
    return answer(handler, request);
  };
  return { fetch: fake as typeof fetch, requests };
}

/** The same over HTTP on 127.0.0.1, for code that reaches Secrets Manager at a configured endpoint. */
export async function serveSecretsManager(
  handler: SecretsManagerHandler,
): Promise<{ url: string; requests: SecretsManagerRequest[]; close(): Promise<void> }> {
  const requests: SecretsManagerRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", async () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(incoming.headers)) headers[name] = String(value);
      const request = requestOf(incoming.url ?? "/", headers, Buffer.concat(chunks).toString("utf8"));
      requests.push(request);
      const response = await answer(handler, request);
      outgoing.writeHead(response.status, Object.fromEntries(response.headers.entries()));
      outgoing.end(await response.text());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
