import { Annotations, CfnOutput, Duration, Fn, Stack, type StackProps } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as events from "aws-cdk-lib/aws-events";
import type * as logs from "aws-cdk-lib/aws-logs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import {
  functionTimeoutSeconds,
  INTEGRATION_TIMEOUT_SECONDS,
  type RouteDefinition,
  WORKFLOW_FUNCTION,
} from "../lib/api/routes.ts";
import {
  defaultScheduledFunctions,
  deployedRoutes,
  type FunctionNeeds,
  functionNeeds,
  ROTATION_FUNCTION,
  rotationNeeds,
  type ScheduledFunctionDefinition,
  workflowNeeds,
} from "./catalog.ts";
import {
  configFromContext,
  type ValenceConfig,
  ValenceConfigError,
  type ValenceConfigInput,
} from "./config.ts";
import { CallerPolicies } from "./constructs/caller-policies.ts";
import { OperationWorkflow } from "./constructs/operation-workflow.ts";
import { ReconcileSchedule } from "./constructs/reconcile-schedule.ts";
import { SecretRotation } from "./constructs/secret-rotation.ts";
import { ValenceAlarms } from "./constructs/valence-alarms.ts";
import { ValenceApi } from "./constructs/valence-api.ts";
import { type FunctionNetwork, ValenceFunction } from "./constructs/valence-function.ts";
import { ValenceTable } from "./constructs/valence-table.ts";
import { functionEnvironment } from "./environment.ts";
import { createsSecrets, grantFunctionAccess, grantRotationSetup, stackSecretPrefix } from "./permissions.ts";

export interface ValenceStackProps extends StackProps {
  /** Configuration that wins over the CDK context (tests, or apps composing several stacks). @default - context only */
  readonly config?: Partial<ValenceConfigInput>;
  /** The route table; local-only routes are skipped. @default ROUTES of lib/api/routes.ts */
  readonly routes?: readonly RouteDefinition[];
  /** @default SCHEDULED_FUNCTIONS of lib/api/routes.ts, or none while it does not exist */
  readonly scheduledFunctions?: readonly ScheduledFunctionDefinition[];
}

/**
 * How long API Gateway waits for any function: HTTP APIs allow 30 s and CDK validates at most 29 s. Ironic
 * functions run longer (register waits for manage and provide): past this the caller gets a 503 while the
 * function finishes, and the node's state tells the outcome.
 */
const INTEGRATION_TIMEOUT = Duration.seconds(INTEGRATION_TIMEOUT_SECONDS);

const pascal = (handler: string) =>
  handler.replace(/(^|-)([a-z0-9])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());

/**
 * Valence on AWS: one Lambda function per handler of the route table, behind an IAM-authorized HTTP API, one
 * DynamoDB table, scheduled functions on EventBridge Scheduler, and alarms. Everything is derived from
 * `ROUTES` and `SCHEDULED_FUNCTIONS`, so a new route needs no change here.
 */
export class ValenceStack extends Stack {
  readonly config: ValenceConfig;
  readonly table: ValenceTable;
  readonly api: ValenceApi;
  /** Where this stack's pod-manager secrets live: `<secretPrefix><stackName>/`. */
  readonly secretPrefix: string;
  /** Functions by handler name. */
  readonly functions = new Map<string, ValenceFunction>();
  /** The bus Valence's events go to (`eventBusName`, the account's default bus unless set). */
  readonly eventBus: events.IEventBus;
  /** Schedules by handler name. */
  readonly schedules = new Map<string, ReconcileSchedule>();
  /**
   * The durable function that runs operations, its alias and dead-letter queue: deployed when a route starts
   * operations (`startsOperations`), invoked by no route.
   */
  readonly workflow?: OperationWorkflow;
  /** Managed policies for the API's callers: a reader (GET routes) and an operator (every route). */
  readonly callerPolicies: CallerPolicies;
  /**
   * The Secrets Manager rotation function of pod-manager secrets, deployed with the functions that create them;
   * `rotationDays` turns rotation on for every pod-manager secret created, on that schedule.
   */
  readonly secretRotation?: SecretRotation;

  constructor(scope: Construct, id: string, props: ValenceStackProps = {}) {
    super(scope, id, props);
    this.config = configFromContext(this.node, props.config);
    const config = this.config;
    this.secretPrefix = stackSecretPrefix(config.secretPrefix, this.stackName);
    const routes = deployedRoutes(props.routes);
    const scheduled = props.scheduledFunctions ?? defaultScheduledFunctions();
    const needs = functionNeeds([...routes, ...scheduled]);
    const needsIronic = [...needs.values()].some((need) => need.ironic);
    if (needsIronic && !config.ironicUrl && config.ironicAuthType !== "keystone") {
      throw new ValenceConfigError(
        "Invalid Valence configuration: ironicUrl is required (-c ironicUrl=https://ironic.example:6385); " +
          "only keystone auth can find Ironic in the Keystone catalog",
      );
    }
    if (needsIronic && config.ironicUrl && new URL(config.ironicUrl).hostname.endsWith(".invalid")) {
      Annotations.of(this).addWarningV2(
        "valence:ironicUrlPlaceholder",
        `ironicUrl is the placeholder ${config.ironicUrl}: set your Ironic endpoint before deploying`,
      );
    }

    this.table = new ValenceTable(this, "Data", {
      ...(config.tableName ? { tableName: config.tableName } : {}),
      encryption: config.tableEncryption,
    });
    const network = this.network(config);
    const ironicSecret = config.ironicSecretArn
      ? secretsmanager.Secret.fromSecretCompleteArn(this, "IronicSecret", config.ironicSecretArn)
      : undefined;
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    this.eventBus = config.eventBusName.startsWith("arn:")
      ? events.EventBus.fromEventBusArn(this, "EventBus", config.eventBusName)
      : events.EventBus.fromEventBusName(this, "EventBus", config.eventBusName);

    const stackNames = { tableName: this.table.table.tableName, secretPrefix: this.secretPrefix };
    const targets = {
      table: this.table.table,
      secretPrefix: this.secretPrefix,
      ...(ironicSecret ? { ironicSecret } : {}),
      eventBus: this.eventBus,
    };

    // Where pod-manager secrets are created there are secrets to rotate; the re-sync that ends a rotation is an
    // operation, run by the workflow the routes' operations need anyway.
    const hasPodManagerSecrets = [...needs.values()].some(createsSecrets);
    const rotationNeed = rotationNeeds();
    if ([...needs.values()].some((need) => need.startsOperations)) {
      const need = workflowNeeds();
      const workflow = new OperationWorkflow(this, pascal(need.handler), {
        handler: need.handler,
        description: `Valence ${need.handler}: ${need.summary}`,
        environment: functionEnvironment(config, stackNames, need),
        aliasName: WORKFLOW_FUNCTION.alias,
        invocationTimeout: Duration.seconds(WORKFLOW_FUNCTION.invocationTimeoutSeconds),
        executionTimeout: Duration.seconds(WORKFLOW_FUNCTION.executionTimeoutSeconds),
        executionRetention: Duration.days(WORKFLOW_FUNCTION.retentionDays),
        memorySize: 1024,
        // It talks to Ironic as the Ironic functions do, so the same cap on how many run at once.
        ...(config.ironicReservedConcurrency === "none"
          ? {}
          : { reservedConcurrentExecutions: config.ironicReservedConcurrency }),
        logRetention,
        ...(network ? { network } : {}),
      });
      grantFunctionAccess(workflow.fn, need, targets);
      this.workflow = workflow;
    }

    const workflowArn = this.workflow ? { workflowFunctionArn: this.workflow.alias.functionArn } : {};
    const workflowTarget = this.workflow ? { workflowAlias: this.workflow.alias } : {};
    if (hasPodManagerSecrets) {
      const need = {
        ...rotationNeed,
        startsOperations: rotationNeed.startsOperations && Boolean(this.workflow),
      };
      this.secretRotation = new SecretRotation(this, "PodManagerSecretRotation", {
        handler: need.handler,
        description: `Valence ${need.handler}: ${need.summary}`,
        environment: functionEnvironment(config, { ...stackNames, ...workflowArn }, need),
        timeout: Duration.seconds(ROTATION_FUNCTION.timeoutSeconds),
        secretPrefix: this.secretPrefix,
        logRetention,
        ...(network ? { network } : {}),
      });
      grantFunctionAccess(this.secretRotation.fn, need, { ...targets, ...workflowTarget });
    }
    const rotationFunction = this.secretRotation?.fn.function;

    for (const need of needs.values()) {
      const rotates =
        rotationFunction !== undefined && config.rotationDays !== undefined && createsSecrets(need);
      const fn = new ValenceFunction(this, pascal(need.handler), {
        handler: need.handler,
        description: `Valence ${need.handler}: ${need.summary}`,
        environment: functionEnvironment(
          config,
          {
            ...stackNames,
            ...workflowArn,
            ...(rotates ? { rotationFunctionArn: rotationFunction.functionArn } : {}),
          },
          need,
        ),
        ...this.sizing(need, config),
        logRetention,
        ...(network ? { network } : {}),
      });
      grantFunctionAccess(fn, need, { ...targets, ...workflowTarget });
      if (rotates) grantRotationSetup(fn, rotationFunction, this.secretPrefix);
      this.functions.set(need.handler, fn);
    }
    const functionOf = (handler: string) => this.functions.get(handler) as ValenceFunction;

    this.api = new ValenceApi(this, "Api", {
      routes: routes.map((route) => ({ route, function: functionOf(route.handler).function })),
      stageName: config.stageName,
      throttleRateLimit: config.apiThrottleRateLimit,
      throttleBurstLimit: config.apiThrottleBurstLimit,
      accessLogRetention: logRetention,
      integrationTimeout: INTEGRATION_TIMEOUT,
    });
    this.callerPolicies = new CallerPolicies(this, "CallerPolicies", {
      httpApi: this.api.httpApi,
      stageName: config.stageName,
      routes,
    });

    const rate = Duration.minutes(config.reconcileSchedule);
    for (const definition of scheduled) {
      this.schedules.set(
        definition.handler,
        new ReconcileSchedule(this, `${pascal(definition.handler)}Schedule`, {
          function: functionOf(definition.handler).function,
          handler: definition.handler,
          rate,
          maxRetries: config.scheduleMaxRetries,
          ...(config.scheduleMaxEventAgeMinutes
            ? { maxEventAge: Duration.minutes(config.scheduleMaxEventAgeMinutes) }
            : {}),
        }),
      );
    }

    const workflowWatch = this.workflow
      ? {
          name: WORKFLOW_FUNCTION.handler,
          function: this.workflow.fn.function,
          timeout: this.workflow.fn.timeout,
        }
      : undefined;
    new ValenceAlarms(this, "Alarms", {
      functions: [
        ...[...this.functions].map(([name, fn]) => ({ name, function: fn.function, timeout: fn.timeout })),
        ...(this.secretRotation
          ? [
              {
                name: rotationNeed.handler,
                function: this.secretRotation.fn.function,
                timeout: this.secretRotation.fn.timeout,
              },
            ]
          : []),
        ...(workflowWatch ? [workflowWatch] : []),
      ],
      deadLetterQueues: [
        ...[...this.schedules].map(([name, schedule]) => ({ name, queue: schedule.deadLetterQueue })),
        ...(this.workflow
          ? [
              {
                name: WORKFLOW_FUNCTION.handler,
                queue: this.workflow.deadLetterQueue,
                meaning: "operations whose workflow failed, timed out or never started",
              },
            ]
          : []),
      ],
      ...(workflowWatch ? { durableFunctions: [workflowWatch] } : {}),
      ...(config.alarmTopicArn
        ? { topic: sns.Topic.fromTopicArn(this, "AlarmTopic", config.alarmTopicArn) }
        : {}),
    });

    new CfnOutput(this, "ApiUrl", {
      value: this.api.url,
      description: "Valence API (sign requests with SigV4)",
    });
    new CfnOutput(this, "TableName", {
      value: this.table.table.tableName,
      description: "Valence DynamoDB table",
    });
    new CfnOutput(this, "EventBusArn", {
      value: this.eventBus.eventBusArn,
      description: "EventBridge bus of Valence's events (source valence, see docs/events.md)",
    });
    if (this.workflow) {
      new CfnOutput(this, "OperationWorkflowArn", {
        value: this.workflow.alias.functionArn,
        description:
          "Alias of the durable function that runs operations (executions are named operation-<id>)",
      });
      new CfnOutput(this, "OperationDeadLetterQueueUrl", {
        value: this.workflow.deadLetterQueue.queueUrl,
        description: "Failed operation workflow starts: each message's requestPayload names the operation",
      });
    }
    const { reader, operator } = this.callerPolicies;
    if (reader) {
      new CfnOutput(this, "ReaderPolicyArn", {
        value: reader.managedPolicyArn,
        description: "Managed policy for callers that only read: execute-api:Invoke on the API's GET routes",
        exportName: `${this.stackName}-ReaderPolicyArn`,
      });
    }
    if (operator) {
      new CfnOutput(this, "OperatorPolicyArn", {
        value: operator.managedPolicyArn,
        description: "Managed policy for callers that operate Valence: execute-api:Invoke on every route",
        exportName: `${this.stackName}-OperatorPolicyArn`,
      });
    }
    if (rotationFunction) {
      new CfnOutput(this, "SecretRotationFunctionArn", {
        value: rotationFunction.functionArn,
        description: config.rotationDays
          ? `Rotation function of pod-manager secrets; new ones rotate every ${config.rotationDays} days`
          : "Rotation function of pod-manager secrets (no schedule: rotationDays is unset)",
      });
    }
    new CfnOutput(this, "SecretPrefix", {
      value: this.secretPrefix,
      description: "Prefix of this stack's pod-manager secrets in Secrets Manager",
    });
  }

  /**
   * Ironic functions wait for Ironic (register runs manage and provide, minutes each) and carry more memory and
   * reserved concurrency, which caps what a burst of calls can throw at Ironic. The API still gives up after
   * 29 s (INTEGRATION_TIMEOUT): the function finishes the work and the caller reads the node's state afterwards.
   */
  private sizing(need: FunctionNeeds, config: ValenceConfig) {
    // The one rule for every function's timeout, which the local server enforces too (local/api-server.ts).
    const timeout = Duration.seconds(functionTimeoutSeconds(need, config.ironicTimeoutSeconds));
    if (!need.ironic) return { timeout, memorySize: 512 };
    return {
      timeout,
      memorySize: 1024,
      ...(config.ironicReservedConcurrency === "none"
        ? {}
        : { reservedConcurrentExecutions: config.ironicReservedConcurrency }),
    };
  }

  /** The existing private network the functions join, when configured. No lookups: synth stays offline. */
  private network(config: ValenceConfig): FunctionNetwork | undefined {
    if (!config.vpcId || !config.subnetIds) return undefined;
    // Only the id is needed: the subnets are named explicitly below, so no AZ layout (and no lookup) is involved.
    const vpc = ec2.Vpc.fromVpcAttributes(this, "Vpc", {
      vpcId: config.vpcId,
      availabilityZones: Fn.getAzs(),
    });
    return {
      vpc,
      subnets: config.subnetIds.map((subnetId) =>
        ec2.Subnet.fromSubnetId(this, `Subnet-${subnetId}`, subnetId),
      ),
      ...(config.securityGroupIds
        ? {
            securityGroups: config.securityGroupIds.map((groupId) =>
              ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup-${groupId}`, groupId, {
                mutable: false,
              }),
            ),
          }
        : {}),
    };
  }
}
