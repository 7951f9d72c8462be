import type { CfnResource } from "aws-cdk-lib";
import { Match } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { deployedRoutes, functionNeeds, workflowNeeds } from "../../infra/catalog.ts";
import { parseValenceConfig } from "../../infra/config.ts";
import { functionEnvironment } from "../../infra/environment.ts";
import { ROUTES, type RouteDefinition, WORKFLOW_FUNCTION } from "../../lib/api/routes.ts";
import {
  actionsOf,
  type Json,
  logicalIdOf,
  nagViolations,
  type Statement,
  type Synthesized,
  synthesize,
  TEST_CONTEXT,
  type TemplateResource,
} from "./support.ts";

/** The handlers whose routes start operations, read from the route table itself. */
const STARTERS = [
  ...new Set(
    deployedRoutes(ROUTES)
      .filter((route) => route.startsOperations)
      .map((route) => route.handler),
  ),
].sort();

const idOf = (synth: Synthesized, construct: { node: { defaultChild?: unknown } }) =>
  logicalIdOf(synth.stack, construct.node.defaultChild as CfnResource);

function workflowOf(synth: Synthesized) {
  const workflow = synth.stack.workflow;
  if (!workflow) throw new Error("the stack deployed no operation workflow");
  return {
    workflow,
    functionId: idOf(synth, workflow.fn.function),
    roleId: idOf(synth, workflow.fn.role),
    aliasId: idOf(synth, workflow.alias),
    queueId: idOf(synth, workflow.deadLetterQueue),
  };
}

/** Every policy statement attached to a role, with the policy's logical id. */
function statementsOfRole(synth: Synthesized, roleId: string): (Statement & { policyId: string })[] {
  return Object.entries(synth.json.Resources)
    .filter(([, resource]) => resource.Type === "AWS::IAM::Policy")
    .filter(([, policy]) =>
      (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
    )
    .flatMap(([policyId, policy]) =>
      (policy.Properties.PolicyDocument.Statement as Statement[]).map((statement) => ({
        ...statement,
        policyId,
      })),
    );
}

function roleIdOf(synth: Synthesized, handler: string): string {
  const fn = synth.stack.functions.get(handler);
  if (!fn) throw new Error(`no function for ${handler}`);
  return idOf(synth, fn.role);
}

function environmentOf(synth: Synthesized, fn: { node: { defaultChild?: unknown } }): Record<string, Json> {
  const resource = synth.json.Resources[idOf(synth, fn)] as TemplateResource;
  return resource.Properties.Environment.Variables;
}

function alarmsOf(synth: Synthesized) {
  return Object.values(synth.json.Resources)
    .filter((resource) => resource.Type === "AWS::CloudWatch::Alarm")
    .map((alarm) => alarm.Properties);
}

describe("functionNeeds: starting operations", () => {
  it("marks exactly the handlers with a route that starts operations", () => {
    const needs = functionNeeds(deployedRoutes(ROUTES));
    const starters = [...needs.values()].filter((need) => need.startsOperations).map((need) => need.handler);
    expect(starters.sort()).toEqual(STARTERS);
    expect(STARTERS).toEqual([
      "register-node",
      "register-nodes",
      "start-node-operation",
      "unregister-node",
      "update-pod-manager",
    ]);
  });

  it("gives a handler serving several routes the union: one route that starts operations is enough", () => {
    const plain: RouteDefinition = {
      method: "GET",
      path: "/a",
      handler: "shared",
      summary: "a",
      table: "read",
    };
    const starting: RouteDefinition = { ...plain, method: "POST", startsOperations: true };
    expect(functionNeeds([plain, starting]).get("shared")?.startsOperations).toBe(true);
    expect(functionNeeds([starting, plain]).get("shared")?.startsOperations).toBe(true);
    expect(functionNeeds([plain]).get("shared")?.startsOperations).toBe(false);
  });

  it("gives the workflow itself WORKFLOW_FUNCTION's needs, and no right to start operations", () => {
    expect(workflowNeeds()).toEqual({
      handler: WORKFLOW_FUNCTION.handler,
      summary: WORKFLOW_FUNCTION.summary,
      table: "write",
      readsSecrets: true,
      writesSecrets: false,
      ironic: true,
      publishesEvents: true,
      startsOperations: false,
    });
  });

  it("refuses to build a starter's environment without the workflow alias's ARN", () => {
    const config = parseValenceConfig({ ironicUrl: TEST_CONTEXT.ironicUrl });
    const stack = { tableName: "t", secretPrefix: "valence/S/" };
    expect(() => functionEnvironment(config, stack, { ironic: true, startsOperations: true })).toThrow(
      /workflowFunctionArn/,
    );
    const arn = "arn:aws:lambda:eu-west-1:123456789012:function:wf:live";
    expect(
      functionEnvironment(
        config,
        { ...stack, workflowFunctionArn: arn },
        { ironic: true, startsOperations: true },
      ).VALENCE_WORKFLOW_FUNCTION,
    ).toBe(arn);
    expect(
      functionEnvironment(config, { ...stack, workflowFunctionArn: arn }, { ironic: true })
        .VALENCE_WORKFLOW_FUNCTION,
    ).toBeUndefined();
  });
});

describe("the operation workflow in the stack", () => {
  let synth: Synthesized;

  beforeAll(() => {
    synth = synthesize({ stackName: "ValenceWorkflowTest" });
  });

  it("is a Lambda durable function with WORKFLOW_FUNCTION's execution timeout, retention and invocation timeout", () => {
    const { functionId } = workflowOf(synth);
    expect(synth.json.Resources[functionId]?.Properties).toMatchObject({
      DurableConfig: {
        ExecutionTimeout: WORKFLOW_FUNCTION.executionTimeoutSeconds,
        RetentionPeriodInDays: WORKFLOW_FUNCTION.retentionDays,
      },
      Timeout: WORKFLOW_FUNCTION.invocationTimeoutSeconds,
      Runtime: "nodejs22.x",
      Architectures: ["arm64"],
      Handler: "index.handler",
      TracingConfig: { Mode: "Active" },
      MemorySize: 1024,
      ReservedConcurrentExecutions: TEST_CONTEXT.ironicReservedConcurrency,
    });
    // The execution timeout outlasts the longest operation deadline lib/config.ts accepts (7 days).
    expect(WORKFLOW_FUNCTION.executionTimeoutSeconds).toBeGreaterThanOrEqual(7 * 24 * 60 * 60);
  });

  it("is the only durable function", () => {
    const durable = Object.entries(synth.json.Resources)
      .filter(([, resource]) => resource.Type === "AWS::Lambda::Function")
      .filter(([, resource]) => resource.Properties.DurableConfig !== undefined)
      .map(([id]) => id);
    expect(durable).toEqual([workflowOf(synth).functionId]);
  });

  it("is invoked through its alias, on a version that a deployment retains for running executions", () => {
    const { functionId, aliasId } = workflowOf(synth);
    const alias = synth.json.Resources[aliasId] as TemplateResource;
    expect(alias.Type).toBe("AWS::Lambda::Alias");
    expect(alias.Properties).toMatchObject({
      Name: WORKFLOW_FUNCTION.alias,
      FunctionName: { Ref: functionId },
    });
    const versionId = alias.Properties.FunctionVersion["Fn::GetAtt"][0] as string;
    expect(synth.json.Resources[versionId]).toMatchObject({
      Type: "AWS::Lambda::Version",
      DeletionPolicy: "Retain",
      Properties: { FunctionName: { Ref: functionId } },
    });
    synth.template.hasOutput("OperationWorkflowArn", { Value: { Ref: aliasId } });
  });

  it("may checkpoint and read back its own executions only, before anything can invoke it", () => {
    const { functionId, roleId, aliasId } = workflowOf(synth);
    const lambdaStatements = statementsOfRole(synth, roleId).filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith("lambda:")),
    );
    expect(lambdaStatements).toHaveLength(1);
    const [checkpoints] = lambdaStatements as [Statement & { policyId: string }];
    expect(actionsOf(checkpoints).sort()).toEqual([
      "lambda:CheckpointDurableExecution",
      "lambda:GetDurableExecutionState",
    ]);
    expect(checkpoints.Resource).toEqual({ "Fn::Join": ["", [{ "Fn::GetAtt": [functionId, "Arn"] }, ":*"]] });
    expect(synth.json.Resources[aliasId]?.DependsOn).toContain(checkpoints.policyId);
  });

  it("has no managed policy: its logs, table, secret and bus are granted one by one", () => {
    const { roleId } = workflowOf(synth);
    expect(synth.json.Resources[roleId]?.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it("writes the table, reads the Ironic secret and (for a resync) the pod-manager secrets, puts events on the bus", () => {
    const { roleId } = workflowOf(synth);
    const statements = statementsOfRole(synth, roleId);
    const actions = statements.flatMap(actionsOf);
    expect(actions).toEqual(
      expect.arrayContaining(["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]),
    );
    const secretStatements = statements.filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith("secretsmanager:")),
    );
    const resources = secretStatements.map((statement) => JSON.stringify(statement.Resource));
    expect(resources).toHaveLength(2);
    expect(resources).toContain(JSON.stringify(TEST_CONTEXT.ironicSecretArn));
    // A resync reads the pod manager's credentials to write them into driver_info: read only, its prefix only.
    const podManagerSecrets = secretStatements.filter(
      (statement) => JSON.stringify(statement.Resource) !== JSON.stringify(TEST_CONTEXT.ironicSecretArn),
    );
    expect(podManagerSecrets.flatMap(actionsOf)).toEqual(["secretsmanager:GetSecretValue"]);
    expect(JSON.stringify(podManagerSecrets[0]?.Resource)).toMatch(
      /:secret:valence\/ValenceWorkflowTest\/\*"\]\]\}$/,
    );
    expect(actions).toContain("events:PutEvents");
  });

  it("has the environment of an Ironic function that publishes events, and starts no operation itself", () => {
    const { workflow } = workflowOf(synth);
    const variables = environmentOf(synth, workflow.fn.function);
    expect(variables).toMatchObject({
      VALENCE_TABLE_NAME: { Ref: idOf(synth, synth.stack.table.table) },
      IRONIC_URL: TEST_CONTEXT.ironicUrl,
      IRONIC_AUTH_TYPE: TEST_CONTEXT.ironicAuthType,
      IRONIC_SECRET_ARN: TEST_CONTEXT.ironicSecretArn,
      VALENCE_EVENT_BUS_NAME: "default",
    });
    expect(variables.VALENCE_WORKFLOW_FUNCTION).toBeUndefined();
  });

  it("tells exactly the functions that start operations the alias's ARN", () => {
    const { aliasId } = workflowOf(synth);
    const told = [...synth.stack.functions]
      .filter(([, fn]) => environmentOf(synth, fn.function).VALENCE_WORKFLOW_FUNCTION !== undefined)
      .map(([handler]) => handler);
    expect(told.sort()).toEqual(STARTERS);
    for (const handler of STARTERS) {
      const fn = synth.stack.functions.get(handler);
      expect(environmentOf(synth, fn?.function as never).VALENCE_WORKFLOW_FUNCTION, handler).toEqual({
        Ref: aliasId,
      });
    }
  });

  it("lets exactly the functions that start operations invoke the workflow, through its alias alone", () => {
    const { aliasId } = workflowOf(synth);
    for (const [handler] of synth.stack.functions) {
      const lambdaStatements = statementsOfRole(synth, roleIdOf(synth, handler))
        .filter((statement) => actionsOf(statement).some((action) => action.startsWith("lambda:")))
        .map(({ Action, Resource, Effect }) => ({ Action, Resource, Effect }));
      expect(lambdaStatements, handler).toEqual(
        STARTERS.includes(handler)
          ? [{ Action: "lambda:InvokeFunction", Effect: "Allow", Resource: { Ref: aliasId } }]
          : [],
      );
    }
  });

  it("grants no other role anywhere an action on the workflow", () => {
    const { functionId, aliasId, roleId } = workflowOf(synth);
    const starterRoles = new Set(STARTERS.map((handler) => roleIdOf(synth, handler)));
    // The rotation function starts the re-sync operation that ends a rotation (infra/catalog.ts ROTATION_FUNCTION).
    const rotation = synth.stack.secretRotation;
    if (rotation) starterRoles.add(idOf(synth, rotation.fn.role));
    for (const [policyId, policy] of Object.entries(synth.json.Resources)) {
      if (policy.Type !== "AWS::IAM::Policy") continue;
      const roles = (policy.Properties.Roles as { Ref: string }[]).map((role) => role.Ref);
      for (const statement of policy.Properties.PolicyDocument.Statement as Statement[]) {
        const resource = JSON.stringify(statement.Resource);
        if (!resource.includes(functionId) && !resource.includes(aliasId)) continue;
        const allowed = roles.every((role) => role === roleId || starterRoles.has(role));
        expect(allowed, `${policyId} ${resource}`).toBe(true);
      }
    }
  });

  it("sends failed starts to an encrypted, TLS-only dead-letter queue after Lambda's retries", () => {
    const { functionId, aliasId, queueId, roleId } = workflowOf(synth);
    const configs = Object.values(synth.json.Resources)
      .filter((resource) => resource.Type === "AWS::Lambda::EventInvokeConfig")
      .filter((resource) => resource.Properties.FunctionName?.Ref === functionId);
    expect(configs).toHaveLength(1);
    expect(configs[0]?.Properties).toEqual({
      FunctionName: { Ref: functionId },
      // The alias's name, taken from its ARN: the configuration of the qualifier the starters invoke.
      Qualifier: { "Fn::Select": [7, { "Fn::Split": [":", { Ref: aliasId }] }] },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 60 * 60,
      DestinationConfig: { OnFailure: { Destination: { "Fn::GetAtt": [queueId, "Arn"] } } },
    });
    expect(synth.json.Resources[queueId]?.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 60 * 60,
    });
    synth.template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
    // Also the function's own dead-letter queue, as Lambda's guidance for durable functions asks.
    expect(synth.json.Resources[functionId]?.Properties.DeadLetterConfig).toEqual({
      TargetArn: { "Fn::GetAtt": [queueId, "Arn"] },
    });
    const sqsStatements = statementsOfRole(synth, roleId).filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith("sqs:")),
    );
    expect(sqsStatements.flatMap(actionsOf)).toContain("sqs:SendMessage");
    for (const statement of sqsStatements) {
      expect(statement.Resource).toEqual({ "Fn::GetAtt": [queueId, "Arn"] });
    }
    synth.template.hasOutput("OperationDeadLetterQueueUrl", { Value: { Ref: queueId } });
  });

  it("alarms on its errors, on any dead letter, and on durable executions that failed or timed out", () => {
    const { functionId, queueId } = workflowOf(synth);
    const onFunction = alarmsOf(synth).filter((alarm) => alarm.Dimensions?.[0]?.Value?.Ref === functionId);
    expect(onFunction.map((alarm) => alarm.MetricName).sort()).toEqual([
      "DurableExecutionFailed",
      "DurableExecutionTimedOut",
      "Duration",
      "Errors",
      "Throttles",
    ]);
    for (const alarm of onFunction) {
      expect(alarm.Namespace).toBe("AWS/Lambda");
      expect(alarm.Dimensions).toEqual([{ Name: "FunctionName", Value: { Ref: functionId } }]);
    }
    for (const metric of ["Errors", "DurableExecutionFailed", "DurableExecutionTimedOut"]) {
      expect(onFunction.find((alarm) => alarm.MetricName === metric)).toMatchObject({
        Statistic: "Sum",
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      });
    }
    const deadLetters = alarmsOf(synth).filter(
      (alarm) =>
        JSON.stringify(alarm.Dimensions) ===
        JSON.stringify([{ Name: "QueueName", Value: { "Fn::GetAtt": [queueId, "QueueName"] } }]),
    );
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({
      MetricName: "ApproximateNumberOfMessagesVisible",
      Namespace: "AWS/SQS",
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
    });
    expect(deadLetters[0]?.AlarmDescription).toMatch(/operations whose workflow failed/);
  });

  it("leaves no unacknowledged cdk-nag finding, and acknowledges the checkpoint wildcard on the workflow only", () => {
    expect(nagViolations(synth.assembly)).toEqual([]);
    const { functionId, workflow } = workflowOf(synth);
    const finding = `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`;
    const acknowledgedAt = synth.stack.node
      .findAll()
      .filter((construct) =>
        construct.node.metadata.some(
          (entry) =>
            entry.type === "aws:cdk:acknowledged-rules" &&
            Object.keys(entry.data as Record<string, string>).some((id) => id.endsWith(finding)),
        ),
      )
      .map((construct) => construct.node.path);
    expect(acknowledgedAt).toEqual([workflow.fn.node.path]);
  });
});

describe("the operation workflow in a private network, with an alarm topic", () => {
  let synth: Synthesized;
  const register = ROUTES.find((route) => route.handler === "register-node") as RouteDefinition;
  const topicArn = "arn:aws:sns:eu-west-1:123456789012:valence-alarms";

  beforeAll(() => {
    synth = synthesize({
      stackName: "ValenceWorkflowVpcTest",
      routes: [register],
      scheduledFunctions: [],
      context: {
        vpcId: "vpc-0123456789abcdef0",
        subnetIds: "subnet-0123456789abcdef0",
        securityGroupIds: "sg-0123456789abcdef0",
        alarmTopicArn: topicArn,
        ironicReservedConcurrency: "none",
      },
    });
  });

  it("runs in the subnets and security groups the other Ironic functions use", () => {
    const { functionId, roleId } = workflowOf(synth);
    const register = synth.stack.functions.get("register-node");
    const registerConfig = (
      synth.json.Resources[idOf(synth, register?.function as never)] as TemplateResource
    ).Properties.VpcConfig;
    expect(synth.json.Resources[functionId]?.Properties.VpcConfig).toEqual({
      SubnetIds: ["subnet-0123456789abcdef0"],
      SecurityGroupIds: ["sg-0123456789abcdef0"],
    });
    expect(synth.json.Resources[functionId]?.Properties.VpcConfig).toEqual(registerConfig);
    expect(JSON.stringify(synth.json.Resources[roleId]?.Properties.ManagedPolicyArns)).toContain(
      "service-role/AWSLambdaVPCAccessExecutionRole",
    );
  });

  it("follows ironicReservedConcurrency as the Ironic functions do", () => {
    const { functionId } = workflowOf(synth);
    expect(synth.json.Resources[functionId]?.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it("sends its alarms, dead letters and failed executions included, to the alarm topic", () => {
    const { functionId, queueId } = workflowOf(synth);
    const watched = alarmsOf(synth).filter((alarm) => {
      const dimensions = JSON.stringify(alarm.Dimensions);
      return dimensions.includes(functionId) || dimensions.includes(queueId);
    });
    expect(watched).toHaveLength(6);
    for (const alarm of watched) {
      expect(alarm.AlarmActions, alarm.MetricName).toEqual([topicArn]);
      expect(alarm.OKActions, alarm.MetricName).toEqual([topicArn]);
    }
  });

  it("leaves no unacknowledged cdk-nag finding", () => {
    expect(nagViolations(synth.assembly)).toEqual([]);
  });
});

describe("a stack whose routes start no operation", () => {
  it("deploys no workflow, no alias and no durable function", () => {
    const getRoot = ROUTES.find((route) => route.handler === "get-root") as RouteDefinition;
    const synth = synthesize({
      stackName: "ValenceNoWorkflowTest",
      routes: [getRoot],
      scheduledFunctions: [],
    });
    expect(synth.stack.workflow).toBeUndefined();
    const types = Object.values(synth.json.Resources).map((resource) => resource.Type);
    expect(types).not.toContain("AWS::Lambda::Alias");
    expect(types.filter((type) => type === "AWS::Lambda::Function")).toHaveLength(1);
    expect(Object.keys(synth.template.findOutputs("*"))).not.toContain("OperationWorkflowArn");
    expect(nagViolations(synth.assembly)).toEqual([]);
  });
});
