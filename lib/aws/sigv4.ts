import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";

type SourceData = string | ArrayBuffer | ArrayBufferView;

const bytesOf = (data: SourceData): Buffer | string =>
  typeof data === "string"
    ? data
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** SHA-256, or HMAC-SHA-256 with a secret, as the SigV4 signer takes it: Node's own crypto. */
class NodeSha256 {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", bytesOf(this.secret));
  }
}

export type SigningCredentials = ConstructorParameters<typeof SignatureV4>[0]["credentials"];

export interface RequestToSign {
  method: string;
  url: URL;
  /** Headers that will be sent as they are (lower-case names). */
  headers: Record<string, string>;
  body?: string;
}

export interface SigningOptions {
  region: string;
  credentials: SigningCredentials;
  /** @default "execute-api" (API Gateway) */
  service?: string;
  /** For reproducible signatures in tests. @default now */
  signingDate?: Date;
}

/**
 * Signs a request with AWS Signature Version 4 and answers the headers to send: the given ones plus `host`,
 * `x-amz-date`, `authorization` (and `x-amz-security-token` for temporary credentials). The service recomputes
 * the signature (API Gateway's IAM authorization for the CLI, Lambda's Invoke for the operation starter).
 */
export async function signRequest(
  request: RequestToSign,
  options: SigningOptions,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: options.service ?? "execute-api",
    region: options.region,
    credentials: options.credentials,
    sha256: NodeSha256,
    // No x-amz-content-sha256 header (an S3 convention): the payload hash is in the canonical request either way,
    // and signatures then match AWS's published SigV4 test suite.
    applyChecksum: false,
  });
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of request.url.searchParams) {
    const seen = query[name];
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  const signed = await signer.sign(
    new HttpRequest({
      method: request.method,
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      ...(request.url.port ? { port: Number(request.url.port) } : {}),
      path: request.url.pathname,
      query,
      headers: { ...request.headers, host: request.url.host },
      ...(request.body === undefined ? {} : { body: request.body }),
    }),
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  return signed.headers;
}
