import { createCredentialChain, fromEnv, fromHttp } from "@aws-sdk/credential-providers";

type Credentials = Awaited<ReturnType<ReturnType<typeof fromEnv>>>;

/** Credentials that expire sooner than this are fetched again (what the SDK's default chain does). */
const REFRESH_BEFORE_MS = 5 * 60_000;

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (an esbuild alias, see
 * `infra/constructs/valence-function.ts`); never imported by our code.
 *
 * Lambda hands a function its role's credentials in the environment (`AWS_ACCESS_KEY_ID`, ...), where the
 * default chain looks first. The rest of that chain — SSO, shared ini files, credential processes, web identity,
 * EC2 instance metadata — cannot apply in Lambda, yet its STS, SSO and sign-in clients made up ~120 KB of every
 * bundle and ~8 ms of every cold start (`bench/cold-start.ts`). The container endpoint stays as a fallback for
 * environments that serve credentials over HTTP (`AWS_CONTAINER_CREDENTIALS_FULL_URI` / `..._RELATIVE_URI`).
 * Like the default chain, it keeps what it found until it is about to expire (the SDK does not memoize a
 * default provider itself).
 */
export function defaultProvider(init: Parameters<typeof fromEnv>[0] & Parameters<typeof fromHttp>[0] = {}) {
  const chain = createCredentialChain(fromEnv(init), fromHttp(init));
  let pending: Promise<Credentials> | undefined;
  return async (): Promise<Credentials> => {
    const cached = await pending?.catch(() => undefined);
    const fresh =
      cached && (!cached.expiration || cached.expiration.getTime() - Date.now() > REFRESH_BEFORE_MS);
    if (cached && fresh) return cached;
    pending = chain();
    return pending;
  };
}
