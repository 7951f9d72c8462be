import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface WatchedFunction {
  /** Short name for alarm ids and descriptions, e.g. the handler. */
  readonly name: string;
  readonly function: lambda.IFunction;
  readonly timeout: Duration;
}

export interface WatchedQueue {
  readonly name: string;
  readonly queue: sqs.IQueue;
  /** What a message in it means. @default "scheduled runs failed" */
  readonly meaning?: string;
}

export interface ValenceAlarmsProps {
  readonly functions: readonly WatchedFunction[];
  /** Dead-letter queues (scheduled functions, the operation workflow): any message is a failure. @default - none */
  readonly deadLetterQueues?: readonly WatchedQueue[];
  /**
   * Durable functions, watched per execution as well: an execution that failed or ran past its execution
   * timeout. @default - none
   */
  readonly durableFunctions?: readonly WatchedFunction[];
  /** Where alarms (and their recovery) are sent. @default - alarms without actions */
  readonly topic?: sns.ITopic;
  /** Duration alarm threshold as a share of each function's timeout. @default 0.8 */
  readonly durationThreshold?: number;
}

/**
 * The signals that something is wrong: function errors, throttles (Ironic functions have reserved concurrency,
 * so throttles are expected under bursts and worth seeing), p99 durations close to the timeout, messages in
 * dead-letter queues, and durable executions that failed or timed out.
 */
export class ValenceAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ValenceAlarmsProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    const share = props.durationThreshold ?? 0.8;
    const add = (alarm: cloudwatch.Alarm) => {
      if (props.topic) {
        alarm.addAlarmAction(new actions.SnsAction(props.topic));
        alarm.addOkAction(new actions.SnsAction(props.topic));
      }
      this.alarms.push(alarm);
    };

    for (const watched of props.functions) {
      const fn = watched.function;
      add(
        fn
          .metricErrors({ period, statistic: cloudwatch.Stats.SUM })
          .createAlarm(this, `${watched.name}-errors`, {
            alarmDescription: `Valence ${watched.name}: the function failed (unhandled error or timeout)`,
            threshold: 1,
            evaluationPeriods: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
      );
      add(
        fn
          .metricThrottles({ period, statistic: cloudwatch.Stats.SUM })
          .createAlarm(this, `${watched.name}-throttles`, {
            alarmDescription: `Valence ${watched.name}: invocations were throttled`,
            threshold: 1,
            evaluationPeriods: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
      );
      const thresholdMs = Math.round(watched.timeout.toMilliseconds() * share);
      add(
        fn
          .metricDuration({ period, statistic: cloudwatch.Stats.p(99) })
          .createAlarm(this, `${watched.name}-duration`, {
            alarmDescription: `Valence ${watched.name}: p99 duration above ${Math.round(share * 100)}% of the ${watched.timeout.toSeconds()} s timeout`,
            threshold: thresholdMs,
            evaluationPeriods: 3,
            datapointsToAlarm: 2,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
      );
    }

    for (const watched of props.deadLetterQueues ?? []) {
      add(
        watched.queue
          .metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM })
          .createAlarm(this, `${watched.name}-failed-runs`, {
            alarmDescription: `Valence ${watched.name}: ${watched.meaning ?? "scheduled runs failed"} (messages in the dead-letter queue)`,
            threshold: 0,
            evaluationPeriods: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
      );
    }

    // Lambda's durable execution metrics (AWS/Lambda, per function). An operation whose Ironic step failed ends
    // its execution normally with a failed outcome; these count executions that themselves failed or timed out.
    const durableSignals = [
      ["DurableExecutionFailed", "failed-executions", "durable executions failed"],
      [
        "DurableExecutionTimedOut",
        "timed-out-executions",
        "durable executions ran past their execution timeout",
      ],
    ] as const;
    for (const watched of props.durableFunctions ?? []) {
      for (const [metricName, suffix, meaning] of durableSignals) {
        add(
          watched.function
            .metric(metricName, { period, statistic: cloudwatch.Stats.SUM })
            .createAlarm(this, `${watched.name}-${suffix}`, {
              alarmDescription: `Valence ${watched.name}: ${meaning}`,
              threshold: 1,
              evaluationPeriods: 1,
              comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
              treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
            }),
        );
      }
    }
  }
}
