import { ArnFormat, Stack } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type { FunctionNeeds } from "./catalog.ts";
import type { ValenceFunction } from "./constructs/valence-function.ts";
import { acknowledgeNag, nagResource } from "./nag.ts";

export interface AccessTargets {
  readonly table: dynamodb.ITable;
  /** Prefix of the pod-manager secrets (`valence/`); the only secrets a function may create or read. */
  readonly secretPrefix: string;
  /** The Ironic credentials, when Ironic needs any. */
  readonly ironicSecret?: secretsmanager.ISecret;
}

/** Actions of the functions that store pod-manager credentials (`lib/secrets/secrets-manager.ts`). */
export const SECRET_WRITE_ACTIONS = [
  "secretsmanager:CreateSecret",
  "secretsmanager:PutSecretValue",
  "secretsmanager:DeleteSecret",
  "secretsmanager:GetSecretValue",
  "secretsmanager:TagResource",
] as const;

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
  if (needs.writesSecrets || needs.readsSecrets) {
    grantee.addToRolePolicy(
      new iam.PolicyStatement({
        actions: needs.writesSecrets ? [...SECRET_WRITE_ACTIONS] : ["secretsmanager:GetSecretValue"],
        resources: [prefixArn],
      }),
    );
    acknowledgeNag(
      fn,
      `IAM5[${nagResource(fn, prefixArn)}]`,
      `Pod-manager credentials are one secret per pod manager, created at run time under the "${targets.secretPrefix}" prefix; the trailing * also covers the random suffix Secrets Manager appends.`,
    );
  }

  if (needs.ironic && targets.ironicSecret) targets.ironicSecret.grantRead(grantee);
}
