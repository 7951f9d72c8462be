import * as z from "zod/mini";
import { ConfigurationError } from "./errors.ts";
import { parseCidr } from "./net/address-policy.ts";
import { parseHardwareRules } from "./nodes/hardware-traits.ts";
import { parseOrThrow } from "./validation.ts";

/**
 * The schema is built on first use, not at import: the logger imports this module for its two settings, and
 * functions that never parse the configuration should not pay for building it.
 */
const buildSchema = () => {
  const booleanFlag = z.pipe(
    z.optional(z.enum(["true", "false", "1", "0"])),
    z.transform((v) => v === "true" || v === "1"),
  );

  const optionalString = z.optional(z.string().check(z.minLength(1)));

  /** Everything Valence reads from its environment, parsed once. Nothing else reads `process.env`. */
  return z.object({
    VALENCE_TABLE_NAME: z._default(z.string().check(z.minLength(1)), "valence"),
    /** Set for dynalite / DynamoDB Local; unset in AWS. */
    DYNAMODB_ENDPOINT: z.optional(z.url()),
    /** A Secrets Manager stand-in speaking its JSON protocol (tests); unset in AWS, the region's endpoint. */
    SECRETS_MANAGER_ENDPOINT: z.optional(z.url({ protocol: /^https?$/ })),
    /** DynamoDB connection and per-attempt request timeouts; unset, `lib/db/client.ts`'s defaults. */
    VALENCE_DYNAMODB_CONNECT_TIMEOUT_MS: z.optional(z.coerce.number().check(z.int(), z.positive())),
    VALENCE_DYNAMODB_TIMEOUT_MS: z.optional(z.coerce.number().check(z.int(), z.positive())),
    AWS_REGION: z._default(z.string(), "us-east-1"),
    /** Where pod-manager credentials live: AWS Secrets Manager, or a 0600 file for the local stack. */
    VALENCE_SECRET_STORE: z._default(z.enum(["secretsmanager", "file"]), "secretsmanager"),
    VALENCE_SECRETS_FILE: optionalString,
    /** Prefix of the secrets Valence creates, so IAM can scope them. */
    VALENCE_SECRET_PREFIX: z._default(z.string(), "valence/"),
    /**
     * Secrets Manager rotation of pod-manager secrets: the rotation function's ARN and the days between rotations.
     * Both set, every pod-manager secret Valence creates gets rotation turned on; unset, none does.
     */
    VALENCE_SECRET_ROTATION_LAMBDA_ARN: optionalString,
    VALENCE_SECRET_ROTATION_DAYS: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1000))),
    /** Probe pod managers on create/show. */
    VALENCE_PODM_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.positive()), 10_000),
    /** Pod managers over http:// (BMC passwords in cleartext): the local stack's emulators only. */
    VALENCE_PODM_ALLOW_HTTP: booleanFlag,
    /** Pod managers on loopback addresses (127.0.0.0/8, ::1, localhost): the local stack only. */
    VALENCE_PODM_ALLOW_LOOPBACK: booleanFlag,
    /** Comma-separated CIDRs; when set, pod managers must resolve into one of them. */
    VALENCE_PODM_ALLOWED_CIDRS: z.pipe(
      z.optional(z.string()),
      z.transform((value, context) => {
        const cidrs = (value ?? "")
          .split(",")
          .map((part) => part.trim())
          .filter((part) => part.length > 0);
        for (const cidr of cidrs) {
          if (!parseCidr(cidr))
            context.issues.push({ code: "custom", message: `not a CIDR: ${cidr}`, input: value });
        }
        return cidrs;
      }),
    ),
    VALENCE_API_PORT: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(65535)), 8181),
    VALENCE_DATA_DIR: z._default(z.string(), ".valence"),
    /** Port of the local stack's Redfish emulator (`demo-podm`). */
    VALENCE_EMULATOR_PORT: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(65535)), 8182),
    VALENCE_LOCAL: booleanFlag,
    /** Ironic: its URL (or from the Keystone catalog), how to authenticate, and where credentials come from. */
    IRONIC_URL: z.optional(z.url({ protocol: /^https?$/ })),
    IRONIC_AUTH_TYPE: z.optional(z.enum(["none", "http_basic", "keystone"])),
    IRONIC_USERNAME: optionalString,
    IRONIC_PASSWORD: optionalString,
    /** Secrets Manager secret (JSON) with Ironic credentials: `username`/`password`, or Keystone's `auth_url`, ... */
    IRONIC_SECRET_ARN: optionalString,
    IRONIC_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.positive()), 30_000),
    /** Highest Ironic API version to negotiate (pins an older one); unset, the newest the driver knows (1.82). */
    IRONIC_MAX_API_VERSION: z.optional(z.string().check(z.regex(/^1\.\d+$/, "expected a version like 1.46"))),
    /** `resource_class` of registered nodes unless the register body says otherwise. */
    VALENCE_RESOURCE_CLASS: z._default(z.string().check(z.minLength(1)), "baremetal"),
    /**
     * Rules (JSON, `{"rules": [...]}`) mapping a composed system's hardware to Ironic traits and a resource class;
     * unset, the shipped defaults (`DEFAULT_HARDWARE_RULES` in `lib/nodes/hardware-traits.ts`). Invalid rules fail
     * at start, naming each problem.
     */
    VALENCE_HARDWARE_RULES: z.pipe(
      z.optional(z.string()),
      z.transform((value, context) => {
        try {
          return parseHardwareRules(value);
        } catch (error) {
          context.issues.push({ code: "custom", message: (error as Error).message, input: value });
          return z.NEVER;
        }
      }),
    ),
    /** A register/unregister intent older than this is treated as interrupted by the reconciler. */
    VALENCE_INTENT_STALE_SECONDS: z._default(z.coerce.number().check(z.int(), z.positive()), 960),
    /** How often `npm start` runs the reconciler (AWS: the EventBridge schedule). */
    VALENCE_RECONCILE_SECONDS: z._default(z.coerce.number().check(z.int(), z.nonnegative()), 60),
    /** Newest history events kept per node. */
    VALENCE_HISTORY_LIMIT: z._default(z.coerce.number().check(z.int(), z.positive()), 100),
    /**
     * EventBridge bus (name or ARN) that register, unregister and reconcile events go to; unset, the local stack
     * writes them to `<VALENCE_DATA_DIR>/events.jsonl` and a deployed function publishes none.
     */
    VALENCE_EVENT_BUS_NAME: z.optional(
      z
        .string()
        .check(
          z.regex(
            /^([A-Za-z0-9./_-]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._/-]{1,256})$/,
            "expected an event bus name or ARN",
          ),
        ),
    ),
    /**
     * Qualified ARN (alias) of the operation workflow, the durable function functions starting operations invoke
     * asynchronously; unset, `npm start` runs operations in-process with the durable SDK's local runner.
     */
    VALENCE_WORKFLOW_FUNCTION: z.optional(
      z
        .string()
        .check(
          z.regex(
            /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_$-]{1,128}$/,
            "expected a qualified Lambda function ARN (with its version or alias)",
          ),
        ),
    ),
    /** How long an operation may run before it is failed (Ironic's cleaning alone can take 30 minutes). */
    VALENCE_OPERATION_DEADLINE_SECONDS: z._default(
      z.coerce.number().check(z.int(), z.positive(), z.maximum(7 * 24 * 60 * 60)),
      2 * 60 * 60,
    ),
    LOG_LEVEL: z._default(
      z.enum(["DEBUG", "INFO", "WARN", "ERROR", "debug", "info", "warn", "error"]),
      "INFO",
    ),
  });
};

let schema: ReturnType<typeof buildSchema> | undefined;

/** What the openstack CLI reads from its environment: `OS_*`, and `HOME` for `~/.config/openstack/clouds.yaml`. */
export type OpenstackEnvironment = Readonly<Record<string, string>>;

export type Config = z.infer<ReturnType<typeof buildSchema>> & {
  /** `OS_*` variables and `HOME`, read the way the openstack CLI reads them (clouds.yaml and overrides). */
  readonly openstack: OpenstackEnvironment;
};

function openstackEnvironment(env: Record<string, string | undefined>): OpenstackEnvironment {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && (name.startsWith("OS_") || name === "HOME")) picked[name] = value;
  }
  return picked;
}

/** The environment variables the schema reads (the README's Configuration table documents them). */
export function configVariables(): string[] {
  schema ??= buildSchema();
  return Object.keys(schema.shape);
}

/**
 * Parses a configuration from environment variables; pure, so tests and the local stack build their own. A bad
 * variable is the deployment's fault, never the caller's: a `ConfigurationError`, not a `ValidationError`.
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  schema ??= buildSchema();
  try {
    return { ...parseOrThrow(schema, env, "env"), openstack: openstackEnvironment(env) };
  } catch (error) {
    throw new ConfigurationError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

let processConfig: Config | undefined;

/**
 * The configuration this process's handlers run with: in Lambda, `process.env` parsed once on first use; the
 * local stack serves the same handlers with the configuration it passes to `useConfig`. The builders in
 * `lib/runtime/` take a `Config` and keep what they build per configuration object, so a new configuration
 * gets new services and never one built for another.
 */
export function config(): Config {
  processConfig ??= parseConfig(process.env);
  return processConfig;
}

/** The local stack: serve this process's handlers with `settings` instead of the environment. */
export function useConfig(settings: Config): void {
  processConfig = settings;
}
