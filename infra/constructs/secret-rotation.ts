import { type Duration, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { grantSecretRotation } from "../permissions.ts";
import { type FunctionNetwork, ValenceFunction } from "./valence-function.ts";

export interface SecretRotationProps {
  /** File name under `functions/` (without `.ts`). */
  readonly handler: string;
  readonly description: string;
  /** Built by `functionEnvironment`. */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeout: Duration;
  /** This stack's pod-manager secrets (`stackSecretPrefix`): the only secrets it may rotate. */
  readonly secretPrefix: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** It logs into the pod managers, so it runs where the other functions that reach them do. @default - no VPC */
  readonly network?: FunctionNetwork;
}

/**
 * The Secrets Manager rotation function of pod-manager secrets: Secrets Manager (of this account) may invoke it,
 * and it may rotate this stack's pod-manager secrets and no other. Which secrets it rotates, and when, is set
 * per secret by RotateSecret (`rotationDays`: by the functions that create them).
 */
export class SecretRotation extends Construct {
  readonly fn: ValenceFunction;

  constructor(scope: Construct, id: string, props: SecretRotationProps) {
    super(scope, id);
    this.fn = new ValenceFunction(this, "Function", {
      handler: props.handler,
      description: props.description,
      environment: props.environment,
      timeout: props.timeout,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.network ? { network: props.network } : {}),
    });
    // Secrets Manager calls it with its service principal; only for secrets of this account (confused deputy).
    this.fn.function.addPermission("SecretsManagerInvoke", {
      principal: new iam.ServicePrincipal("secretsmanager.amazonaws.com"),
      action: "lambda:InvokeFunction",
      sourceAccount: Stack.of(this).account,
    });
    grantSecretRotation(this.fn, props.secretPrefix);
  }
}
