import { Duration } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import type * as logs from "aws-cdk-lib/aws-logs";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { acknowledgeNag } from "../nag.ts";
import { grantDurableExecution } from "../permissions.ts";
import { type FunctionNetwork, ValenceFunction } from "./valence-function.ts";

export interface OperationWorkflowProps {
  /** File name under `functions/` (without `.ts`). */
  readonly handler: string;
  readonly description: string;
  /** Built by `functionEnvironment`. */
  readonly environment: Readonly<Record<string, string>>;
  /** The alias starters invoke: a durable function is invoked through a qualified ARN. */
  readonly aliasName: string;
  /** Each invocation's timeout; a durable wait ends the invocation and costs nothing until it resumes. */
  readonly invocationTimeout: Duration;
  /** How long one durable execution may run in all, its waits included (at most 366 days). */
  readonly executionTimeout: Duration;
  /** How long Lambda keeps a closed execution's history (whole days, 1 to 90). */
  readonly executionRetention: Duration;
  /** @default 1024 */
  readonly memorySize?: number;
  /** @default - no reserved concurrency */
  readonly reservedConcurrentExecutions?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default - no VPC */
  readonly network?: FunctionNetwork;
  /** Lambda's retries of an asynchronous invocation that failed (0–2). @default 2 */
  readonly retryAttempts?: number;
  /**
   * How long a start may wait in Lambda's asynchronous queue (throttled by the reserved concurrency) before it
   * goes to the dead-letter queue instead (60 s to 6 h).
   * @default Duration.hours(6)
   */
  readonly maxEventAge?: Duration;
  /** @default Duration.days(14) */
  readonly deadLetterRetention?: Duration;
}

/**
 * The operation workflow: a Lambda durable function (`functions/operation-workflow.ts`) that runs one
 * operation's Ironic lifecycle per execution, the version and alias it is invoked through, and an encrypted
 * dead-letter queue for the starts that did not end normally. A new deployment moves the alias to a
 * new version; executions already running keep the version they started on (Lambda pins them), and versions
 * are retained so that they can.
 */
export class OperationWorkflow extends Construct {
  readonly fn: ValenceFunction;
  readonly alias: lambda.Alias;
  /**
   * Both the function's dead-letter queue and the alias's on-failure destination: what Lambda sends for a start
   * that failed for good (an invocation failed past its retries, an event older than `maxEventAge`, an execution
   * that did not end normally) lands here. Either message names the operation: the dead-letter queue receives the
   * event itself, `{"operation_id": ...}`, the destination an invocation record whose `requestPayload` is it.
   */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: OperationWorkflowProps) {
    super(scope, id);
    const retryAttempts = props.retryAttempts ?? 2;
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 2) {
      throw new Error(
        `retryAttempts must be 0, 1 or 2 (Lambda's asynchronous retries), got ${retryAttempts}`,
      );
    }

    this.deadLetterQueue = new sqs.Queue(this, "DeadLetters", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
    });
    acknowledgeNag(
      this.deadLetterQueue,
      "SQS3",
      "This queue is itself the dead-letter destination of the operation workflow's failed starts; a DLQ of a DLQ would only move the problem.",
    );

    this.fn = new ValenceFunction(this, "Function", {
      handler: props.handler,
      description: props.description,
      environment: props.environment,
      timeout: props.invocationTimeout,
      memorySize: props.memorySize ?? 1024,
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.network ? { network: props.network } : {}),
      // Lambda's durable-function guidance: a DLQ on the function captures executions that failed for good.
      deadLetterQueue: this.deadLetterQueue,
      durable: { executionTimeout: props.executionTimeout, retentionPeriod: props.executionRetention },
    });
    const checkpoints = grantDurableExecution(this.fn);

    this.alias = new lambda.Alias(this, "Alias", {
      aliasName: props.aliasName,
      version: this.fn.function.currentVersion,
      description: "The operation workflow as the functions that start operations invoke it",
    });
    // Nothing invokes the alias before the function may checkpoint: starters reference the alias.
    this.alias.node.addDependency(checkpoints);
    this.alias.configureAsyncInvoke({
      retryAttempts,
      maxEventAge: props.maxEventAge ?? Duration.hours(6),
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
  }
}
