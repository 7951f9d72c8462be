import { type SigningCredentials, signRequest } from "./sigv4.ts";

/** One signed request to an AWS service endpoint. */
export interface SignedCall {
  url: URL;
  region: string;
  /** The signing name (`lambda`, `events`). */
  service: string;
  credentials: SigningCredentials;
  headers: Record<string, string>;
  body: string;
  fetch?: typeof fetch;
  /** @default 10 s */
  timeoutMs?: number;
}

/** What the service answered: its status, its error type (`x-amzn-errortype`) when it refused, and its body. */
export interface SignedAnswer {
  status: number;
  errorType: string;
  text: string;
}

/**
 * POSTs a body signed with SigV4 (the AWS SDK's own signer) and reads the answer. For the two one-call APIs the
 * functions need besides DynamoDB and Secrets Manager (Lambda's asynchronous Invoke, EventBridge's PutEvents):
 * their SDK clients would each add ~16 KB to every function that calls them.
 */
export async function signedPost(call: SignedCall): Promise<SignedAnswer> {
  const headers = await signRequest(
    { method: "POST", url: call.url, headers: call.headers, body: call.body },
    { region: call.region, credentials: call.credentials, service: call.service },
  );
  const response = await (call.fetch ?? fetch)(call.url, {
    method: "POST",
    headers,
    body: call.body,
    signal: AbortSignal.timeout(call.timeoutMs ?? 10_000),
  });
  const text = await response.text().catch(() => "");
  const errorType = (response.headers.get("x-amzn-errortype") ?? "").split(":")[0] ?? "";
  return { status: response.status, errorType, text };
}

/** The service's DNS suffix in a partition (`aws-cn` has its own). */
export function dnsSuffixOf(partition: string): string {
  return partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com";
}
