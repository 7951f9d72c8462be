import { App } from "aws-cdk-lib";
import { Annotations, Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { functionNeeds } from "../../infra/catalog.ts";
import { parseValenceConfig, ValenceConfigError } from "../../infra/config.ts";
import { functionEnvironment } from "../../infra/environment.ts";
import { ValenceStack } from "../../infra/valence-stack.ts";
import type { RouteDefinition } from "../../lib/api/routes.ts";

const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ironic/valence-AbCdEf";

const ironicRoute: RouteDefinition = {
  method: "POST",
  path: "/v1/nodes/{id}/register",
  handler: "register-node",
  summary: "Register",
  table: "write",
  ironic: true,
};

/** Builds (does not synthesize or bundle) a stack with the given context. */
function buildStack(context: Record<string, unknown>, routes: readonly RouteDefinition[] = [ironicRoute]) {
  const app = new App({ context: { ...context, "aws:cdk:bundling-stacks": [] } });
  return new ValenceStack(app, "ValenceConfigTest", { routes, scheduledFunctions: [] });
}

describe("parseValenceConfig", () => {
  it("fills in the documented defaults", () => {
    expect(parseValenceConfig({})).toEqual({
      ironicAuthType: "none",
      reconcileSchedule: 5,
      scheduleMaxRetries: 2,
      logRetentionDays: 30,
      stageName: "$default",
      secretPrefix: "valence/",
      tableEncryption: "aws-managed",
      ironicTimeoutSeconds: 300,
      ironicReservedConcurrency: 5,
      apiThrottleRateLimit: 50,
      apiThrottleBurstLimit: 100,
      eventBusName: "default",
    });
  });

  it("accepts the strings `cdk -c key=value` passes", () => {
    const config = parseValenceConfig({
      reconcileSchedule: "15",
      logRetentionDays: "90",
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: "subnet-0123456789abcdef0, subnet-0fedcba9876543210",
      ironicReservedConcurrency: "none",
      ironicUrl: "",
    });
    expect(config).toMatchObject({
      reconcileSchedule: 15,
      logRetentionDays: 90,
      subnetIds: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
      ironicReservedConcurrency: "none",
    });
    expect(config.ironicUrl).toBeUndefined();
  });

  it.each([
    [{ ironicAuthType: "http_basic" }, /ironicSecretArn: required when ironicAuthType is http_basic/],
    [{ ironicAuthType: "keystone", ironicSecretArn: "my-secret" }, /ironicSecretArn: expected a complete/],
    [{ ironicAuthType: "ldap" }, /ironicAuthType/],
    [
      {
        ironicAuthType: "http_basic",
        ironicSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:valence/ironic-AbCdEf",
      },
      /ironicSecretArn: must name a secret outside secretPrefix/,
    ],
    [{ ironicUrl: "ftp://ironic:6385" }, /ironicUrl/],
    [{ vpcId: "vpc-0123456789abcdef0" }, /subnetIds: required when vpcId is set/],
    [{ subnetIds: ["subnet-0123456789abcdef0"] }, /subnetIds: needs vpcId/],
    [{ securityGroupIds: "sg-1" }, /securityGroupIds/],
    [{ logRetentionDays: 31 }, /logRetentionDays: must be one of/],
    [{ reconcileSchedule: 0 }, /reconcileSchedule/],
    [{ secretPrefix: "valence/*" }, /secretPrefix/],
    [{ stageName: "my stage" }, /stageName/],
  ])("refuses %j with a message naming the key", (input, message) => {
    expect(() => parseValenceConfig(input)).toThrow(ValenceConfigError);
    expect(() => parseValenceConfig(input)).toThrow(message);
  });

  it("reports every bad key at once", () => {
    expect(() => parseValenceConfig({ logRetentionDays: 31, reconcileSchedule: -1 })).toThrow(
      /logRetentionDays[\s\S]*reconcileSchedule|reconcileSchedule[\s\S]*logRetentionDays/,
    );
  });
});

describe("ValenceStack configuration", () => {
  it("requires ironicUrl when a function talks to Ironic without Keystone", () => {
    expect(() => buildStack({})).toThrow(/ironicUrl is required/);
  });

  it("lets Keystone find Ironic in its catalog", () => {
    expect(() => buildStack({ ironicAuthType: "keystone", ironicSecretArn: SECRET_ARN })).not.toThrow();
  });

  it("does not ask for Ironic settings when no function talks to Ironic", () => {
    expect(() => buildStack({}, [{ ...ironicRoute, ironic: false }])).not.toThrow();
  });

  it("lets stack props override the context", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [], logRetentionDays: 31 } });
    const stack = new ValenceStack(app, "ValenceOverride", {
      routes: [ironicRoute],
      scheduledFunctions: [],
      config: { logRetentionDays: 7, ironicUrl: "https://ironic.example.net:6385" },
    });
    expect(stack.config.logRetentionDays).toBe(7);
  });

  it("refuses a misspelled context key, saying which key was meant", () => {
    const build = () => buildStack({ ironicURL: "https://ironic.example.net:6385" });
    expect(build).toThrow(ValenceConfigError);
    expect(build).toThrow(/ironicURL: not a Valence configuration key \(did you mean ironicUrl\?\)/);
    expect(() => buildStack({ ironicUrl: "https://ironic.example.net:6385", reconcileShedule: 10 })).toThrow(
      /reconcileShedule: not a Valence configuration key \(did you mean reconcileSchedule\?\)/,
    );
    expect(() => buildStack({ ironicUrl: "https://ironic.example.net:6385", flavour: "x" })).toThrow(
      /flavour: not a Valence configuration key$/m,
    );
  });

  it("accepts CDK's own context keys and stackName beside Valence's", () => {
    expect(() =>
      buildStack({
        ironicUrl: "https://ironic.example.net:6385",
        stackName: "ValenceStaging",
        "cli-telemetry": false,
        "@aws-cdk/core:newStyleStackSynthesis": true,
        "availability-zones:account=123456789012:region=eu-west-1": ["eu-west-1a"],
      }),
    ).not.toThrow();
  });

  it("warns when ironicUrl is still the cdk.json placeholder", () => {
    const stack = buildStack({ ironicUrl: "http://ironic.invalid:6385" });
    Annotations.fromStack(stack).hasWarning("*", Match.stringLikeRegexp("placeholder"));
  });
});

describe("functionNeeds", () => {
  it("gives a handler serving a route and a schedule the union of their needs", () => {
    const needs = functionNeeds([
      { ...ironicRoute, handler: "reconcile", table: "read", ironic: false, readsSecrets: true },
      { handler: "reconcile", summary: "Reconcile", table: "write", ironic: true },
    ]);
    expect(needs.get("reconcile")).toMatchObject({
      table: "write",
      readsSecrets: true,
      writesSecrets: false,
      ironic: true,
    });
  });

  it("refuses a handler that is not a file name under functions/", () => {
    expect(() => functionNeeds([{ ...ironicRoute, handler: "../evil" }])).toThrow(/kebab-case/);
  });
});

describe("functionEnvironment", () => {
  const config = parseValenceConfig({
    ironicUrl: "https://ironic.example.net:6385",
    ironicAuthType: "http_basic",
    ironicSecretArn: SECRET_ARN,
  });

  const stack = { tableName: "table", secretPrefix: "valence/Valence/" };

  it("gives Ironic settings to Ironic functions only", () => {
    expect(functionEnvironment(config, stack, { ironic: true })).toMatchObject({
      VALENCE_TABLE_NAME: "table",
      VALENCE_SECRET_PREFIX: "valence/Valence/",
      IRONIC_URL: "https://ironic.example.net:6385",
      IRONIC_AUTH_TYPE: "http_basic",
      IRONIC_SECRET_ARN: SECRET_ARN,
    });
    const plain = functionEnvironment(config, stack, { ironic: false });
    expect(Object.keys(plain).filter((name) => name.startsWith("IRONIC_"))).toEqual([]);
  });

  it("says explicitly that pod managers need https and may not be on loopback", () => {
    for (const ironic of [true, false]) {
      const environment = functionEnvironment(config, stack, { ironic });
      expect(environment).toMatchObject({
        VALENCE_PODM_ALLOW_HTTP: "false",
        VALENCE_PODM_ALLOW_LOOPBACK: "false",
      });
      expect(environment.VALENCE_PODM_ALLOWED_CIDRS).toBeUndefined();
    }
  });

  it("passes podmAllowHttp and podmAllowedCidrs on, and refuses a CIDR that is none", () => {
    const narrowed = parseValenceConfig({
      podmAllowHttp: "true",
      podmAllowedCidrs: "10.20.0.0/16, fd12::/16",
    });
    expect(functionEnvironment(narrowed, stack, { ironic: false })).toMatchObject({
      VALENCE_PODM_ALLOW_HTTP: "true",
      VALENCE_PODM_ALLOW_LOOPBACK: "false",
      VALENCE_PODM_ALLOWED_CIDRS: "10.20.0.0/16,fd12::/16",
    });
    expect(parseValenceConfig({ podmAllowedCidrs: ["10.0.0.0/8"] }).podmAllowedCidrs).toEqual(["10.0.0.0/8"]);
    expect(() => parseValenceConfig({ podmAllowedCidrs: "10.0.0.0/8,bmc-net" })).toThrow(/podmAllowedCidrs/);
    expect(() => parseValenceConfig({ podmAllowHttp: "yes" })).toThrow(/podmAllowHttp/);
  });
});
