import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, type CfnResource, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { CloudAssembly } from "aws-cdk-lib/cx-api";
import { AwsSolutionsChecks } from "cdk-nag";
import { ValenceStack, type ValenceStackProps } from "../../infra/valence-stack.ts";

/** A valid deployment configuration, with every Ironic setting exercised. */
export const TEST_CONTEXT = {
  ironicUrl: "https://ironic.example.net:6385",
  ironicAuthType: "http_basic",
  ironicSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ironic/valence-AbCdEf",
  reconcileSchedule: 10,
  logRetentionDays: 14,
  secretPrefix: "valence/",
  ironicTimeoutSeconds: 300,
  ironicReservedConcurrency: 5,
} as const;

// biome-ignore lint/suspicious/noExplicitAny: a synthesized template is untyped JSON that tests walk freely
export type Json = any;

export interface TemplateResource {
  Type: string;
  Properties: Record<string, Json>;
  [key: string]: Json;
}

export interface Synthesized {
  app: App;
  stack: ValenceStack;
  assembly: CloudAssembly;
  template: Template;
  /** The raw template, for assertions the matchers cannot express. */
  json: { Resources: Record<string, TemplateResource> };
  outdir: string;
}

export interface SynthOptions extends ValenceStackProps {
  context?: Record<string, unknown>;
  /** Run esbuild for the functions (slow). Template-only tests skip it. @default false */
  bundle?: boolean;
  /** Register cdk-nag's AwsSolutions checks: an unacknowledged error makes `synth` throw. @default true */
  nag?: boolean;
  stackName?: string;
  /** Changes the stack before synthesis (e.g. to prove a check fails). */
  afterBuild?: (stack: ValenceStack) => void;
}

/** Synthesizes a Valence stack once into a fresh directory: the caller reuses the result for every assertion. */
export function synthesize(options: SynthOptions = {}): Synthesized {
  const { context, bundle = false, nag = true, stackName = "ValenceTest", afterBuild, ...props } = options;
  const outdir = mkdtempSync(join(tmpdir(), "valence-cdk-"));
  const app = new App({
    outdir,
    context: {
      ...TEST_CONTEXT,
      ...context,
      // No stack is bundled unless asked: template assertions do not need the code.
      ...(bundle ? {} : { "aws:cdk:bundling-stacks": [] }),
    },
  });
  const stack = new ValenceStack(app, stackName, props);
  afterBuild?.(stack);
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  const json = assembly.getStackByName(stack.stackName).template;
  return { app, stack, assembly, template: Template.fromJSON(json), json, outdir };
}

/** The AwsSolutions violations left in the assembly's validation report (acknowledged ones are not listed). */
export function nagViolations(assembly: CloudAssembly): { ruleName: string; description?: string }[] {
  const report = JSON.parse(readFileSync(join(assembly.directory, "validation-report.json"), "utf8")) as {
    pluginReports: { pluginName?: string; violations?: { ruleName: string; description?: string }[] }[];
  };
  return report.pluginReports
    .flatMap((plugin) => plugin.violations ?? [])
    .filter((violation) => /AwsSolutions/.test(violation.ruleName));
}

/** Logical id of a construct's CloudFormation resource in its stack. */
export function logicalIdOf(stack: ValenceStack, resource: CfnResource): string {
  return stack.resolve(stack.getLogicalId(resource)) as string;
}

/** One IAM policy statement as synthesized. */
export type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

export const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];
