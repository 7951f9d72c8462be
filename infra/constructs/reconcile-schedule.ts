import { Duration, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import { LambdaInvoke } from "aws-cdk-lib/aws-scheduler-targets";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { acknowledgeNag, nagResource } from "../nag.ts";

export interface ReconcileScheduleProps {
  /** The function to run; it is told which schedule ran it and when. */
  readonly function: lambda.IFunction;
  /** Handler name, sent in the event for the function's logs. */
  readonly handler: string;
  /** @default Duration.minutes(5) */
  readonly rate?: Duration;
  /** Retries of a failed run (0–2, Lambda's limit for asynchronous invocations). @default 2 */
  readonly maxRetries?: number;
  /**
   * Give up on a run this long after it was due; a later run does the same work.
   * @default the rate (at least one minute)
   */
  readonly maxEventAge?: Duration;
  /** @default Duration.days(14) */
  readonly deadLetterRetention?: Duration;
}

/**
 * Runs a function on a fixed rate with EventBridge Scheduler. Failures are never silent: a run that Scheduler
 * cannot deliver, and a run whose function fails after its retries (Scheduler invokes Lambda asynchronously,
 * so function errors are retried by Lambda, not by Scheduler), both end in one encrypted dead-letter queue.
 */
export class ReconcileSchedule extends Construct {
  readonly schedule: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ReconcileScheduleProps) {
    super(scope, id);
    const rate = props.rate ?? Duration.minutes(5);
    const maxRetries = props.maxRetries ?? 2;
    if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 2) {
      throw new Error(`maxRetries must be 0, 1 or 2 (Lambda's asynchronous retries), got ${maxRetries}`);
    }
    const maxEventAge = props.maxEventAge ?? Duration.seconds(Math.max(60, rate.toSeconds()));

    this.deadLetterQueue = new sqs.Queue(this, "DeadLetters", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
    });

    props.function.configureAsyncInvoke({
      retryAttempts: maxRetries,
      maxEventAge,
      onFailure: new SqsDestination(this.deadLetterQueue),
    });

    acknowledgeNag(
      this.deadLetterQueue,
      "SQS3",
      "This queue is itself the dead-letter queue of the schedule and of the function's failed runs; a DLQ of a DLQ would only move the problem.",
    );

    // Our own role (instead of the stack-wide one the target would create): only this schedule, only from
    // this account, may use it.
    const role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": Stack.of(this).account } },
      }),
      description: `Valence: EventBridge Scheduler runs ${props.handler}`,
    });
    acknowledgeNag(
      role,
      `IAM5[${nagResource(this, `${props.function.functionArn}:*`)}]`,
      "lambda:InvokeFunction on this one function and its versions/aliases (CDK's grantInvoke), nothing else.",
    );

    this.schedule = new scheduler.Schedule(this, "Schedule", {
      description: `Valence: run ${props.handler} every ${rate.toHumanString()}`,
      schedule: scheduler.ScheduleExpression.rate(rate),
      target: new LambdaInvoke(props.function, {
        role,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: maxRetries,
        maxEventAge,
        input: scheduler.ScheduleTargetInput.fromObject({
          source: "valence.schedule",
          handler: props.handler,
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
          executionId: scheduler.ContextAttribute.executionId,
        }),
      }),
    });
  }
}
