import type { Node } from "constructs";
import { z } from "zod";
import { FUNCTION_TIMEOUT_SECONDS } from "../lib/api/routes.ts";
import { parseCidr } from "../lib/net/address-policy.ts";

/** Log retentions CloudWatch accepts (`logs.RetentionDays` values, in days). */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const EVENT_BUS =
  /^([A-Za-z0-9./_-]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9./_-]{1,256})$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

// Context values arrive as strings from `-c key=value` and as JSON values from cdk.json: accept both.
const emptyAsUndefined = (value: unknown) => (value === "" || value === null ? undefined : value);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const idList = (prefix: string) =>
  z.preprocess(
    (value) =>
      typeof value === "string"
        ? value
            .split(",")
            .map((id) => id.trim())
            .filter(Boolean)
        : value,
    z.array(z.string().regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), `expected ${prefix}-<hex>`)).min(1),
  );

const fields = {
  /** Ironic's API endpoint. Optional with keystone auth, which can find Ironic in the Keystone catalog. */
  ironicUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** How functions authenticate to Ironic: Ironic's own `auth_strategy` values. */
  ironicAuthType: z.enum(["none", "http_basic", "keystone"]).default("none"),
  /** Complete ARN (with its 6-character suffix) of the secret that holds the Ironic credentials. */
  ironicSecretArn: z.string().regex(SECRET_ARN, "expected a complete Secrets Manager secret ARN").optional(),
  /** Minutes between runs of each scheduled function. */
  reconcileSchedule: int(1, 1440).default(5),
  /** Retries of a failed scheduled run before it lands in the dead-letter queue (Lambda allows 0–2). */
  scheduleMaxRetries: int(0, 2).default(2),
  /** Give up on a scheduled run this many minutes after it was due. @default the schedule's rate */
  scheduleMaxEventAgeMinutes: int(1, 360).optional(),
  vpcId: z
    .string()
    .regex(/^vpc-[0-9a-f]{8,17}$/, "expected vpc-<hex>")
    .optional(),
  subnetIds: idList("subnet").optional(),
  securityGroupIds: idList("sg").optional(),
  logRetentionDays: z.coerce
    .number()
    .refine((days) => (RETENTION_DAYS as readonly number[]).includes(days), {
      message: `must be one of ${RETENTION_DAYS.join(", ")}`,
    })
    .default(30),
  stageName: z
    .string()
    .regex(/^(\$default|[A-Za-z0-9_-]{1,128})$/, "expected $default or letters, digits, - and _")
    .default("$default"),
  /** Prefix of the pod-manager secrets Valence creates; IAM policies are scoped to it. */
  secretPrefix: z
    .string()
    .regex(/^[A-Za-z0-9/_+=.@-]{1,256}$/, "expected Secrets Manager name characters, no wildcard")
    .default("valence/"),
  /**
   * Days between Secrets Manager rotations of each pod-manager secret (the password changed on the pod manager
   * itself). Unset, no secret is rotated on a schedule; the rotation function is deployed either way.
   */
  rotationDays: int(1, 1000).optional(),
  tableName: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/, "expected a DynamoDB table name")
    .optional(),
  tableEncryption: z.enum(["aws-managed", "customer-managed"]).default("aws-managed"),
  /** Timeout of functions that talk to Ironic (register waits for manage/provide). */
  ironicTimeoutSeconds: int(30, 900).default(FUNCTION_TIMEOUT_SECONDS.ironic),
  /** Reserved concurrency of each Ironic function, so bursts cannot overwhelm Ironic; `none` to disable. */
  ironicReservedConcurrency: z.union([z.literal("none"), int(1, 1000)]).default(5),
  apiThrottleRateLimit: int(1, 10_000).default(50),
  apiThrottleBurstLimit: int(1, 5_000).default(100),
  /**
   * EventBridge bus (name, or ARN for a bus in another account) that register, unregister and reconcile events
   * are published to; `default` is the account's default bus.
   */
  eventBusName: z.string().regex(EVENT_BUS, "expected an event bus name or ARN").default("default"),
  /** SNS topic that receives alarm notifications. */
  alarmTopicArn: z.string().regex(TOPIC_ARN, "expected an SNS topic ARN").optional(),
  /** Accept http:// pod managers (their password then travels in cleartext). @default false */
  podmAllowHttp: z
    .preprocess((value) => (value === "true" ? true : value === "false" ? false : value), z.boolean())
    .optional(),
  /** CIDRs pod managers must resolve into. @default any address the address policy allows */
  podmAllowedCidrs: z
    .preprocess(
      (value) =>
        typeof value === "string"
          ? value
              .split(",")
              .map((cidr) => cidr.trim())
              .filter(Boolean)
          : value,
      z.array(z.string().refine((cidr) => parseCidr(cidr) !== undefined, "expected a CIDR")).min(1),
    )
    .optional(),
};

const shape = Object.fromEntries(
  Object.entries(fields).map(([key, schema]) => [key, z.preprocess(emptyAsUndefined, schema)]),
) as { [K in keyof typeof fields]: z.ZodPipe<z.ZodTransform, (typeof fields)[K]> };

/** The deployment's configuration: CDK context (cdk.json or `-c key=value`), overridable by stack props. */
export const ValenceConfigSchema = z
  .object(shape)
  .strict()
  .superRefine((config, ctx) => {
    if (config.ironicAuthType !== "none" && !config.ironicSecretArn) {
      ctx.addIssue({
        code: "custom",
        path: ["ironicSecretArn"],
        message: `required when ironicAuthType is ${config.ironicAuthType}`,
      });
    }
    const ironicSecretName = config.ironicSecretArn?.split(":secret:")[1]?.replace(/-[A-Za-z0-9]{6}$/, "");
    if (ironicSecretName?.startsWith(config.secretPrefix)) {
      // Pod-manager functions may create, overwrite and delete every secret under the prefix.
      ctx.addIssue({
        code: "custom",
        path: ["ironicSecretArn"],
        message: `must name a secret outside secretPrefix "${config.secretPrefix}" (pod-manager functions can overwrite those)`,
      });
    }
    if (config.vpcId && !config.subnetIds) {
      ctx.addIssue({ code: "custom", path: ["subnetIds"], message: "required when vpcId is set" });
    }
    for (const key of ["subnetIds", "securityGroupIds"] as const) {
      if (config[key] && !config.vpcId) {
        ctx.addIssue({ code: "custom", path: [key], message: "needs vpcId" });
      }
    }
  });

export type ValenceConfigInput = z.input<typeof ValenceConfigSchema>;
export type ValenceConfig = z.output<typeof ValenceConfigSchema>;

/** The context keys the app reads. */
export const CONFIG_KEYS = Object.keys(fields) as (keyof typeof fields)[];

export class ValenceConfigError extends Error {
  override readonly name = "ValenceConfigError";
}

/** Context keys that are not Valence's but the app reads (`infra/app.ts`) or the CDK CLI writes. */
const OTHER_CONTEXT_KEYS = new Set(["stackName", "cli-telemetry", "acknowledged-issue-numbers"]);

/** CDK's own context: feature flags (`@aws-cdk/...`), `aws:cdk:...` settings and cached lookups (`...:account=`). */
const isCdkContextKey = (key: string) => key.startsWith("@") || key.includes(":");

/** Edit distance, for "did you mean": a misspelled key is usually a case slip or a letter or two away. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The known key a misspelled one most likely meant, if one is close. */
export function closestConfigKey(key: string): string | undefined {
  const known = [...CONFIG_KEYS, ...OTHER_CONTEXT_KEYS];
  const exact = known.find((candidate) => candidate.toLowerCase() === key.toLowerCase());
  if (exact) return exact;
  const [best] = known
    .map((candidate) => ({ candidate, cost: distance(key.toLowerCase(), candidate.toLowerCase()) }))
    .sort((x, y) => x.cost - y.cost);
  return best && best.cost <= Math.max(2, Math.floor(key.length / 5)) ? best.candidate : undefined;
}

function unknownKeyMessage(key: string): string {
  const guess = closestConfigKey(key);
  return `  - ${key}: not a Valence configuration key${guess ? ` (did you mean ${guess}?)` : ""}`;
}

/** Validates a configuration; throws one error that names every bad key and says where to fix it. */
export function parseValenceConfig(input: Record<string, unknown>): ValenceConfig {
  const result = ValenceConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map(unknownKeyMessage)
      : [`  - ${issue.path.join(".") || "(config)"}: ${issue.message}`],
  );
  throw new ValenceConfigError(
    `Invalid Valence configuration (cdk.json "context", -c key=value or stack props):\n${lines.join("\n")}`,
  );
}

/**
 * Reads every configuration key from the CDK context; `overrides` (stack props) win. Any other context key
 * that is not CDK's own is refused, so a misspelled `-c ironicURL=...` stops the synth instead of being ignored.
 */
export function configFromContext(node: Node, overrides: Partial<ValenceConfigInput> = {}): ValenceConfig {
  const input: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value = key in overrides ? overrides[key] : node.tryGetContext(key);
    if (value !== undefined) input[key] = value;
  }
  const context = (node.getAllContext() ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(context)) {
    const known = (CONFIG_KEYS as readonly string[]).includes(key) || OTHER_CONTEXT_KEYS.has(key);
    if (!known && !isCdkContextKey(key)) input[key] = context[key];
  }
  return parseValenceConfig(input);
}
