import type { SigningCredentials } from "../lib/aws/sigv4.ts";

export {
  type RequestToSign,
  type SigningCredentials,
  type SigningOptions,
  signRequest,
} from "../lib/aws/sigv4.ts";

/** `https://abc123.execute-api.eu-west-1.amazonaws.com` → `eu-west-1`; `undefined` for any other host. */
export function apiGatewayRegion(url: URL): string | undefined {
  return /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/i.exec(url.hostname)?.[1];
}

/** The standard AWS credential chain (environment, shared config and SSO, web identity, container, instance). */
export async function defaultCredentials(): Promise<SigningCredentials> {
  const { fromNodeProviderChain } = await import("@aws-sdk/credential-providers");
  return fromNodeProviderChain();
}
