import type { FunctionNeeds } from "./catalog.ts";
import type { ValenceConfig } from "./config.ts";

/**
 * The environment of every Valence function, in one place so `lib/config.ts` and the stack cannot drift apart.
 * Ironic settings go only to the functions that talk to Ironic: a function that cannot read the Ironic secret
 * has no use for its ARN either.
 */
export function functionEnvironment(
  config: ValenceConfig,
  stack: {
    readonly tableName: string;
    readonly secretPrefix: string;
    /** Qualified ARN of the operation workflow's alias, when the stack deploys it. */
    readonly workflowFunctionArn?: string;
    /**
     * The rotation function's ARN, for the functions that create pod-manager secrets: with `rotationDays` set,
     * they turn rotation on for each secret they create.
     */
    readonly rotationFunctionArn?: string;
  },
  needs: Pick<FunctionNeeds, "ironic"> & Partial<Pick<FunctionNeeds, "publishesEvents" | "startsOperations">>,
): Record<string, string> {
  if (needs.startsOperations && !stack.workflowFunctionArn) {
    throw new Error("a function that starts operations needs the workflow alias's ARN (workflowFunctionArn)");
  }
  return {
    VALENCE_TABLE_NAME: stack.tableName,
    VALENCE_SECRET_STORE: "secretsmanager",
    // The stack's own prefix (`stackSecretPrefix`), not the configured base: what the functions' IAM allows.
    VALENCE_SECRET_PREFIX: stack.secretPrefix,
    // Pod managers never on loopback, over https unless the deployment says otherwise: explicit, not defaults.
    VALENCE_PODM_ALLOW_HTTP: String(config.podmAllowHttp ?? false),
    VALENCE_PODM_ALLOW_LOOPBACK: "false",
    ...(config.podmAllowedCidrs ? { VALENCE_PODM_ALLOWED_CIDRS: config.podmAllowedCidrs.join(",") } : {}),
    ...(needs.ironic
      ? {
          ...(config.ironicUrl ? { IRONIC_URL: config.ironicUrl } : {}),
          IRONIC_AUTH_TYPE: config.ironicAuthType,
          ...(config.ironicSecretArn ? { IRONIC_SECRET_ARN: config.ironicSecretArn } : {}),
        }
      : {}),
    // Only the functions allowed to put events on the bus are told its name.
    ...(needs.publishesEvents ? { VALENCE_EVENT_BUS_NAME: config.eventBusName } : {}),
    // Only the functions allowed to invoke the workflow are told its alias: the only ARN they may invoke.
    ...(needs.startsOperations && stack.workflowFunctionArn
      ? { VALENCE_WORKFLOW_FUNCTION: stack.workflowFunctionArn }
      : {}),
    ...(stack.rotationFunctionArn && config.rotationDays
      ? {
          VALENCE_SECRET_ROTATION_LAMBDA_ARN: stack.rotationFunctionArn,
          VALENCE_SECRET_ROTATION_DAYS: String(config.rotationDays),
        }
      : {}),
    POWERTOOLS_SERVICE_NAME: "valence",
    // Stack traces point into the TypeScript sources (the bundles ship with source maps).
    NODE_OPTIONS: "--enable-source-maps",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
}
