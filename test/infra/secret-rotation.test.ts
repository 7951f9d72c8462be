import type { CfnResource } from "aws-cdk-lib";
import { beforeAll, describe, expect, it } from "vitest";
import { ROTATION_FUNCTION } from "../../infra/catalog.ts";
import { parseValenceConfig } from "../../infra/config.ts";
import type { ValenceFunction } from "../../infra/constructs/valence-function.ts";
import { ROUTES, type RouteDefinition } from "../../lib/api/routes.ts";
import {
  actionsOf,
  type Json,
  logicalIdOf,
  nagViolations,
  type Statement,
  type Synthesized,
  synthesize,
  TEST_CONTEXT,
} from "./support.ts";

/** The Secrets Manager rotation of pod-manager secrets in the template: the function, who may call it, the schedule. */

const PREFIX_ARN = /:secret:valence\/ValenceTest\/\*"/;
const resourcesOf = (statement: Statement) =>
  Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];

function statementsOfRole(synth: Synthesized, fn: ValenceFunction): Statement[] {
  const roleId = logicalIdOf(synth.stack, fn.role.node.defaultChild as CfnResource);
  return Object.values(synth.json.Resources)
    .filter((resource) => resource.Type === "AWS::IAM::Policy")
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

function rotationOf(synth: Synthesized): ValenceFunction {
  const rotation = synth.stack.secretRotation;
  if (!rotation) throw new Error("the stack deploys no rotation function");
  return rotation.fn;
}
const rotationId = (synth: Synthesized) =>
  logicalIdOf(synth.stack, rotationOf(synth).function.node.defaultChild as CfnResource);
const variablesOf = (synth: Synthesized, fn: ValenceFunction): Record<string, Json> =>
  synth.json.Resources[logicalIdOf(synth.stack, fn.function.node.defaultChild as CfnResource)]?.Properties
    .Environment.Variables;
const secretActions = (statements: Statement[]) =>
  statements.flatMap(actionsOf).filter((action) => action.startsWith("secretsmanager:"));

describe("secret rotation, rotationDays unset (the default)", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize();
  });

  it("deploys the rotation function: Node.js 22, its timeout, the stack's prefix and workflow, no Ironic", () => {
    const resource = synth.json.Resources[rotationId(synth)];
    expect(resource?.Properties).toMatchObject({
      Runtime: "nodejs22.x",
      Architectures: ["arm64"],
      Timeout: ROTATION_FUNCTION.timeoutSeconds,
    });
    const variables = variablesOf(synth, rotationOf(synth));
    expect(variables).toMatchObject({
      VALENCE_SECRET_STORE: "secretsmanager",
      VALENCE_SECRET_PREFIX: "valence/ValenceTest/",
      VALENCE_PODM_ALLOW_LOOPBACK: "false",
      VALENCE_WORKFLOW_FUNCTION: expect.anything(),
    });
    expect(Object.keys(variables).filter((name) => name.startsWith("IRONIC_"))).toEqual([]);
    expect(Object.keys(variables).filter((name) => name.startsWith("VALENCE_SECRET_ROTATION"))).toEqual([]);
  });

  it("lets Secrets Manager of this account, and no one else, invoke it", () => {
    const permissions = Object.values(synth.json.Resources).filter(
      (resource) =>
        resource.Type === "AWS::Lambda::Permission" &&
        JSON.stringify(resource.Properties.FunctionName).includes(rotationId(synth)),
    );
    expect(permissions.map((permission) => permission.Properties)).toEqual([
      {
        Action: "lambda:InvokeFunction",
        FunctionName: { "Fn::GetAtt": [rotationId(synth), "Arn"] },
        Principal: "secretsmanager.amazonaws.com",
        SourceAccount: { Ref: "AWS::AccountId" },
      },
    ]);
  });

  it("may rotate this stack's pod-manager secrets only: read, stage, promote, and generate a password", () => {
    const statements = statementsOfRole(synth, rotationOf(synth)).filter(
      (statement) => secretActions([statement]).length > 0,
    );
    const onPrefix = statements.filter((statement) =>
      PREFIX_ARN.test(JSON.stringify(resourcesOf(statement))),
    );
    expect(onPrefix.flatMap(actionsOf).sort()).toEqual([
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetSecretValue",
      "secretsmanager:PutSecretValue",
      "secretsmanager:UpdateSecretVersionStage",
    ]);
    const elsewhere = statements.filter((statement) => !onPrefix.includes(statement));
    expect(elsewhere.map((statement) => [actionsOf(statement), resourcesOf(statement)])).toEqual([
      [["secretsmanager:GetRandomPassword"], ["*"]],
    ]);
    expect(JSON.stringify(statements)).not.toContain(TEST_CONTEXT.ironicSecretArn);
  });

  it("reads the pod-manager records and may start the re-sync operation, as its needs say", () => {
    const actions = statementsOfRole(synth, rotationOf(synth)).flatMap(actionsOf);
    expect(actions).toEqual(
      expect.arrayContaining(["dynamodb:GetItem", "dynamodb:PutItem", "lambda:InvokeFunction"]),
    );
  });

  it("turns rotation on for no secret: no function is told the rotation function or may call RotateSecret", () => {
    for (const fn of synth.stack.functions.values()) {
      const variables = variablesOf(synth, fn);
      expect(Object.keys(variables).filter((name) => name.startsWith("VALENCE_SECRET_ROTATION"))).toEqual([]);
      expect(secretActions(statementsOfRole(synth, fn))).not.toContain("secretsmanager:RotateSecret");
    }
  });

  it("alarms on the rotation function's errors and outputs its ARN", () => {
    const errorAlarms = Object.values(synth.json.Resources).filter(
      (resource) =>
        resource.Type === "AWS::CloudWatch::Alarm" &&
        resource.Properties.MetricName === "Errors" &&
        JSON.stringify(resource.Properties.Dimensions).includes(rotationId(synth)),
    );
    expect(errorAlarms).toHaveLength(1);
    synth.template.hasOutput("SecretRotationFunctionArn", {
      Value: { "Fn::GetAtt": [rotationId(synth), "Arn"] },
    });
  });

  it("leaves no unacknowledged cdk-nag finding", () => {
    expect(nagViolations(synth.assembly)).toEqual([]);
  });
});

describe("secret rotation, rotationDays: 30", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize({ context: { rotationDays: "30" } });
  });

  /** The functions that create pod-manager secrets (update-pod-manager creates one that went missing). */
  const CREATORS = ["create-pod-manager", "update-pod-manager"];

  it("tells the functions that create pod-manager secrets the rotation function and the schedule", () => {
    for (const [handler, fn] of synth.stack.functions) {
      const variables = variablesOf(synth, fn);
      if (CREATORS.includes(handler)) {
        expect(variables, handler).toMatchObject({
          VALENCE_SECRET_ROTATION_LAMBDA_ARN: { "Fn::GetAtt": [rotationId(synth), "Arn"] },
          VALENCE_SECRET_ROTATION_DAYS: "30",
        });
      } else {
        expect(Object.keys(variables).filter((name) => name.startsWith("VALENCE_SECRET_ROTATION"))).toEqual(
          [],
        );
      }
    }
  });

  it("lets them, and only them, turn rotation on: RotateSecret on the prefix, invoke the rotation function", () => {
    for (const [handler, fn] of synth.stack.functions) {
      const statements = statementsOfRole(synth, fn);
      const rotate = statements.filter((statement) =>
        actionsOf(statement).includes("secretsmanager:RotateSecret"),
      );
      const invoke = statements.filter((statement) =>
        JSON.stringify(resourcesOf(statement)).includes(`"${rotationId(synth)}"`),
      );
      if (CREATORS.includes(handler)) {
        expect(rotate.map(actionsOf), handler).toEqual([["secretsmanager:RotateSecret"]]);
        expect(JSON.stringify(rotate.flatMap(resourcesOf))).toMatch(PREFIX_ARN);
        expect(invoke.map(actionsOf), handler).toEqual([["lambda:InvokeFunction"]]);
      } else {
        expect(rotate, handler).toEqual([]);
        expect(invoke, handler).toEqual([]);
      }
    }
  });

  it("leaves no unacknowledged cdk-nag finding", () => {
    expect(nagViolations(synth.assembly)).toEqual([]);
  });
});

describe("a stack without pod-manager secrets", () => {
  it("deploys no rotation function", () => {
    const getRoot = ROUTES.find((route) => route.handler === "get-root") as RouteDefinition;
    const synth = synthesize({
      stackName: "ValenceNoSecretsTest",
      routes: [getRoot],
      scheduledFunctions: [],
      nag: false,
    });
    expect(synth.stack.secretRotation).toBeUndefined();
    expect(synth.template.findOutputs("SecretRotationFunctionArn")).toEqual({});
  });
});

describe("rotationDays", () => {
  it("takes whole days from 1 to 1000, as Secrets Manager's AutomaticallyAfterDays", () => {
    expect(parseValenceConfig({ rotationDays: "7" }).rotationDays).toBe(7);
    expect(parseValenceConfig({}).rotationDays).toBeUndefined();
    for (const bad of ["0", "1001", "1.5", "weekly"]) {
      expect(() => parseValenceConfig({ rotationDays: bad }), bad).toThrow(/rotationDays/);
    }
  });
});
