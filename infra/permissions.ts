import { ArnFormat, Stack } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type { FunctionNeeds } from "./catalog.ts";
import type { ValenceFunction } from "./constructs/valence-function.ts";
import { acknowledgeNag, nagResource } from "./nag.ts";

export interface AccessTargets {
  readonly table: dynamodb.ITable;
  /** This stack's prefix of the pod-manager secrets (`stackSecretPrefix`); the only secrets a function may touch. */
  readonly secretPrefix: string;
  /** The Ironic credentials, when Ironic needs any. */
  readonly ironicSecret?: secretsmanager.ISecret;
  /** The bus events are published to; only functions that publish may put events on it, and on no other. */
  readonly eventBus?: events.IEventBus;
  /** The operation workflow's alias; only functions that start operations may invoke it, and nothing else. */
  readonly workflowAlias?: lambda.IFunction;
}

/**
 * Each stack keeps its pod-manager secrets under its own prefix, `<secretPrefix><stackName>/`: several stacks in
 * one account never read, overwrite or delete each other's secrets, and tearing one down touches only its own.
 */
export function stackSecretPrefix(basePrefix: string, stackName: string): string {
  return `${basePrefix.endsWith("/") ? basePrefix : `${basePrefix}/`}${stackName}/`;
}

/**
 * The Secrets Manager actions of each function that writes pod-manager credentials, as `lib/podmanagers/service.ts`
 * calls them through `lib/secrets/secrets-manager.ts`: create stores a new secret and deletes it again when the
 * record cannot be written; update overwrites the secret (creating it when it is missing) and reads it to probe;
 * delete only deletes.
 */
export const SECRET_WRITER_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  "create-pod-manager": ["secretsmanager:CreateSecret", "secretsmanager:DeleteSecret"],
  "update-pod-manager": [
    "secretsmanager:CreateSecret",
    "secretsmanager:PutSecretValue",
    "secretsmanager:GetSecretValue",
  ],
  "delete-pod-manager": ["secretsmanager:DeleteSecret"],
};

/** The pod-manager secret actions a function gets: a reader reads; a writer gets its own list, nothing more. */
export function podManagerSecretActions(
  needs: Pick<FunctionNeeds, "handler" | "readsSecrets" | "writesSecrets">,
): string[] {
  const actions = new Set<string>(needs.readsSecrets ? ["secretsmanager:GetSecretValue"] : []);
  if (needs.writesSecrets) {
    const writes = SECRET_WRITER_ACTIONS[needs.handler];
    if (!writes) {
      throw new Error(
        `${needs.handler} writes pod-manager secrets: list the Secrets Manager actions it calls in SECRET_WRITER_ACTIONS (infra/permissions.ts)`,
      );
    }
    for (const action of writes) actions.add(action);
  }
  return [...actions].sort();
}

/** ARN pattern of every secret under the prefix (Secrets Manager appends `-XXXXXX` to each name). */
export function secretPrefixArn(scope: Stack, prefix: string): string {
  return scope.formatArn({
    service: "secretsmanager",
    resource: "secret",
    resourceName: `${prefix}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * Least privilege, per function, from the route table's flags: table reads or writes, pod-manager secrets
 * under the prefix only, and the Ironic secret only for the functions that talk to Ironic. The wildcards these
 * grants need are acknowledged here, on the function they were granted to, and only when granted.
 */
export function grantFunctionAccess(fn: ValenceFunction, needs: FunctionNeeds, targets: AccessTargets): void {
  const grantee = fn.function;
  const { table } = targets;
  if (needs.table !== "none") {
    if (needs.table === "read") table.grantReadData(grantee);
    else table.grantReadWriteData(grantee);
    acknowledgeNag(
      fn,
      `IAM5[${nagResource(fn, `${table.tableArn}/index/*`)}]`,
      "Queries go through the table's GSIs (by-kind, by-managed-by, by-podm); index/* covers only this table's indexes.",
    );
    if (table.encryptionKey) {
      for (const action of needs.table === "read" ? [] : ["kms:ReEncrypt*", "kms:GenerateDataKey*"]) {
        acknowledgeNag(
          fn,
          `IAM5[Action::${action}]`,
          "Writing to a table encrypted with the customer-managed key needs these KMS actions on that one key (CDK's grantReadWriteData).",
        );
      }
    }
  }

  const prefixArn = secretPrefixArn(Stack.of(table), targets.secretPrefix);
  const secretActions = podManagerSecretActions(needs);
  if (secretActions.length > 0) {
    grantee.addToRolePolicy(new iam.PolicyStatement({ actions: secretActions, resources: [prefixArn] }));
    acknowledgeNag(
      fn,
      `IAM5[${nagResource(fn, prefixArn)}]`,
      `Pod-manager credentials are one secret per pod manager, created at run time under the "${targets.secretPrefix}" prefix; the trailing * also covers the random suffix Secrets Manager appends.`,
    );
  }

  if (needs.ironic && targets.ironicSecret) targets.ironicSecret.grantRead(grantee);
  if (needs.publishesEvents && targets.eventBus) targets.eventBus.grantPutEventsTo(grantee);

  if (needs.startsOperations) {
    if (!targets.workflowAlias) {
      throw new Error(
        `${needs.handler} starts operations: the stack must deploy the workflow and pass its alias`,
      );
    }
    // The alias's ARN alone (not `grantInvoke`, whose grant may cover the unqualified function and its
    // versions): starters invoke exactly the qualified ARN they are given (lib/aws/lambda-starter.ts).
    grantee.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["lambda:InvokeFunction"],
        resources: [targets.workflowAlias.functionArn],
      }),
    );
  }
}

/**
 * What the rotation function calls on the secret it rotates (`lib/secrets/rotation.ts`): read its versions and
 * stages, read AWSCURRENT and AWSPENDING, stage the new version, promote it. Granted on this stack's
 * pod-manager secrets only.
 */
export const ROTATION_SECRET_ACTIONS = [
  "secretsmanager:DescribeSecret",
  "secretsmanager:GetSecretValue",
  "secretsmanager:PutSecretValue",
  "secretsmanager:UpdateSecretVersionStage",
] as const;

/**
 * The rotation function's Secrets Manager access: its actions on the stack's pod-manager secrets, and
 * GetRandomPassword, which takes no resource (Secrets Manager's own generator, so no secret is involved).
 */
export function grantSecretRotation(fn: ValenceFunction, secretPrefix: string): void {
  const prefixArn = secretPrefixArn(Stack.of(fn), secretPrefix);
  fn.function.addToRolePolicy(
    new iam.PolicyStatement({ actions: [...ROTATION_SECRET_ACTIONS], resources: [prefixArn] }),
  );
  fn.function.addToRolePolicy(
    new iam.PolicyStatement({ actions: ["secretsmanager:GetRandomPassword"], resources: ["*"] }),
  );
  acknowledgeNag(
    fn,
    "IAM5[Resource::*]",
    "secretsmanager:GetRandomPassword (a password from Secrets Manager's generator, no secret involved) and X-Ray tracing's xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.",
  );
  acknowledgeNag(
    fn,
    `IAM5[${nagResource(fn, prefixArn)}]`,
    `Secrets Manager invokes the rotation function for any pod-manager secret, created at run time under the "${secretPrefix}" prefix; the trailing * also covers the random suffix Secrets Manager appends.`,
  );
}

/**
 * Turning rotation on (`RotateSecret` with the rotation function and schedule, `lib/secrets/secrets-manager.ts`)
 * for the secrets a function creates: RotateSecret on this stack's pod-manager secrets, and
 * `lambda:InvokeFunction` on the rotation function, which Secrets Manager requires of whoever configures it.
 */
export function grantRotationSetup(
  fn: ValenceFunction,
  rotationFunction: lambda.IFunction,
  secretPrefix: string,
): void {
  fn.function.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["secretsmanager:RotateSecret"],
      resources: [secretPrefixArn(Stack.of(fn), secretPrefix)],
    }),
  );
  fn.function.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ["lambda:InvokeFunction"],
      resources: [rotationFunction.functionArn],
    }),
  );
}

/** The functions that create pod-manager secrets (CreateSecret among their writer actions). */
export function createsSecrets(needs: Pick<FunctionNeeds, "handler" | "writesSecrets">): boolean {
  return Boolean(
    needs.writesSecrets && SECRET_WRITER_ACTIONS[needs.handler]?.includes("secretsmanager:CreateSecret"),
  );
}

/**
 * What the durable execution SDK calls on Lambda for its own executions: save a checkpoint, read back the
 * execution's state on replay (docs.aws.amazon.com/lambda/latest/dg/durable-security.html).
 */
export const DURABLE_EXECUTION_ACTIONS = [
  "lambda:CheckpointDurableExecution",
  "lambda:GetDurableExecutionState",
] as const;

/**
 * Lets a durable function checkpoint and replay its own executions and no other function's. Lambda authorizes
 * these calls against the execution's ARN, `<function ARN>:<version>/durable-execution/<name>/<id>`, whose
 * version changes with every deployment: hence `<function ARN>:*`, acknowledged here.
 *
 * A policy of its own, not the role's default policy: that one must exist before the function is created, and
 * this one names the function's ARN. Whatever invokes the function should depend on the returned policy.
 */
export function grantDurableExecution(fn: ValenceFunction): iam.Policy {
  const executions = `${fn.function.functionArn}:*`;
  const policy = new iam.Policy(fn, "DurableExecution", {
    roles: [fn.role],
    statements: [
      new iam.PolicyStatement({ actions: [...DURABLE_EXECUTION_ACTIONS], resources: [executions] }),
    ],
  });
  acknowledgeNag(
    fn,
    `IAM5[${nagResource(fn, executions)}]`,
    "Durable executions are sub-resources of a function version (<function ARN>:<version>/durable-execution/...), and the version changes on every deployment; :* covers only this function's own executions.",
  );
  return policy;
}
