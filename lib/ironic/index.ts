/**
 * The Ironic driver shared by every Lambda: an HTTP client for Ironic's v1 API (no maintained one exists on
 * npm) behind the `IronicDriver` port the services depend on.
 *
 * `resolveCloudConfig` (clouds.yaml / `OS_*`) lives in `./clouds.ts` and is not re-exported here: it pulls in the
 * `yaml` parser (~115 KB minified, CommonJS so not tree-shaken), which Lambdas configured by plain env vars
 * should not carry.
 */

export { collectSecrets, scrub } from "../scrub.ts";
export {
  type EndpointInterface,
  type IronicAuth,
  type KeystoneAuth,
  type KeystoneCatalog,
  type KeystoneCredentials,
  selectEndpoint,
  tokensUrl,
} from "./auth.ts";
// The port the services depend on (types only).
export type * from "./driver.ts";
export * from "./errors.ts";
export { extractFault } from "./faults.ts";
export {
  IronicConductorGroupNotServedError,
  IronicFeatures,
  IronicFeatureUnsupportedError,
  IronicInterfaceNotEnabledError,
  NODE_FIELD_MIN_VERSION,
  TRAITS_MIN_VERSION,
  type VersionedNodeField,
} from "./features.ts";
export { createIronicDriver, type IronicDriverOptions, type IronicLogEvent } from "./http-driver.ts";
export { isUuidLike, validateIronicName } from "./names.ts";
export {
  DEFAULT_POLL_POLICY,
  type Deadline,
  deadlineAt,
  deadlineIn,
  type PollPolicy,
  pollDelay,
  pollPolicy,
  pollSchedule,
  type RetryPolicy,
} from "./retry.ts";
// Ironic's resources as the port speaks of them (types only: the zod schemas stay out of the bundles that
// do not parse Ironic's answers).
export type * from "./schemas.ts";
export { MAX_API_VERSION, MIN_API_VERSION } from "./version.ts";
