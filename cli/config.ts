import * as z from "zod/mini";

/** Where the CLI talks to when neither `--url` nor `VALENCE_URL` says: the local stack (`npm start`). */
export const DEFAULT_URL = "http://127.0.0.1:8181";

/** Unset and empty are the same: `VALENCE_URL= valence ...` falls back to the default. */
const setting = z.optional(z.string());
const nonEmpty = (value: string | undefined) => (value === undefined || value === "" ? undefined : value);

const CliEnvironment = z.object({
  VALENCE_URL: setting,
  /** The pod-manager password for `podmanager-create`/`-update` when `--password` is not given. */
  VALENCE_PODM_PASSWORD: setting,
  AWS_REGION: setting,
  AWS_DEFAULT_REGION: setting,
});

/** Everything the CLI reads from its environment. Nothing else in `cli/` reads `process.env`. */
export interface CliConfig {
  /** `VALENCE_URL`, else the local stack. */
  readonly url: string;
  readonly podmPassword?: string;
  /** Region to sign for when the URL does not name one (`AWS_REGION`, then `AWS_DEFAULT_REGION`). */
  readonly awsRegion?: string;
}

/**
 * Reads the CLI's settings once. AWS credentials are not read here: the standard provider chain
 * (`fromNodeProviderChain`) reads the environment, profiles and instance roles itself when a request is signed.
 */
export function readCliConfig(env: Readonly<Record<string, string | undefined>> = process.env): CliConfig {
  const parsed = CliEnvironment.parse(env);
  const podmPassword = nonEmpty(parsed.VALENCE_PODM_PASSWORD);
  const awsRegion = nonEmpty(parsed.AWS_REGION) ?? nonEmpty(parsed.AWS_DEFAULT_REGION);
  return {
    url: nonEmpty(parsed.VALENCE_URL) ?? DEFAULT_URL,
    ...(podmPassword === undefined ? {} : { podmPassword }),
    ...(awsRegion === undefined ? {} : { awsRegion }),
  };
}
