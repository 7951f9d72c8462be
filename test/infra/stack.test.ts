import type { CfnResource } from "aws-cdk-lib";
import { Match } from "aws-cdk-lib/assertions";
import * as iam from "aws-cdk-lib/aws-iam";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultScheduledFunctions, deployedRoutes, functionNeeds } from "../../infra/catalog.ts";
import { podManagerSecretActions } from "../../infra/permissions.ts";
import { ROUTES, type RouteDefinition, routeKey } from "../../lib/api/routes.ts";
import { TABLE } from "../../lib/db/table.ts";
import {
  actionsOf,
  logicalIdOf,
  nagViolations,
  type Statement,
  type Synthesized,
  synthesize,
  TEST_CONTEXT,
  type TemplateResource,
} from "./support.ts";

const resourcesOf = (statement: Statement) =>
  Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];

/** Every policy statement attached to a function's role. */
function statementsOf(synth: Synthesized, handler: string): Statement[] {
  const fn = synth.stack.functions.get(handler);
  if (!fn) throw new Error(`no function for ${handler}`);
  const roleId = logicalIdOf(synth.stack, fn.role.node.defaultChild as CfnResource);
  return Object.values(synth.json.Resources)
    .filter((resource) => resource.Type === "AWS::IAM::Policy")
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

function resourcesOfType(synth: Synthesized, type: string) {
  return Object.entries(synth.json.Resources).filter(([, resource]) => resource.Type === type);
}

function functionResource(synth: Synthesized, handler: string) {
  const fn = synth.stack.functions.get(handler);
  if (!fn) throw new Error(`no function for ${handler}`);
  const id = logicalIdOf(synth.stack, fn.function.node.defaultChild as CfnResource);
  return { id, resource: synth.json.Resources[id] as TemplateResource };
}

/** Every cdk-nag acknowledgment recorded in the construct tree, with its reason. */
function acknowledgments(synth: Synthesized): { id: string; reason: string; path: string }[] {
  return synth.stack.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === "aws:cdk:acknowledged-rules")
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          // aws-cdk-lib stores unnamespaced ids as `Annotation::<id>`; cdk-nag strips that prefix too.
          id: id.replace(/^annotation::/i, ""),
          reason,
          path: construct.node.path,
        })),
      ),
  );
}

/** The test stack's own secret prefix: the configured base, then the stack's name. */
const STACK_SECRET_PREFIX = `${TEST_CONTEXT.secretPrefix}ValenceTest/`;

/**
 * The pod-manager secret actions each function calls (lib/podmanagers/service.ts through
 * lib/secrets/secrets-manager.ts), written out here rather than taken from infra/: a grant that grows is caught.
 */
const SECRET_ACTIONS: Record<string, string[]> = {
  "create-pod-manager": ["CreateSecret", "DeleteSecret"],
  "update-pod-manager": ["CreateSecret", "GetSecretValue", "PutSecretValue"],
  "delete-pod-manager": ["DeleteSecret"],
  "get-pod-manager": ["GetSecretValue"],
  "register-node": ["GetSecretValue"],
  "compose-node": ["GetSecretValue"],
  "manage-node": ["GetSecretValue"],
  "delete-node": ["GetSecretValue"],
  "node-action": ["GetSecretValue"],
  reconcile: ["GetSecretValue"],
};

const DYNAMODB_WRITES = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
];

describe("ValenceStack from the route table", () => {
  let synth: Synthesized;
  const routes = deployedRoutes(ROUTES);
  const needs = functionNeeds([...routes, ...defaultScheduledFunctions()]);

  beforeAll(() => {
    synth = synthesize();
  });

  describe("API", () => {
    it("publishes every deployed route with IAM authorization", () => {
      for (const route of routes) {
        synth.template.hasResourceProperties("AWS::ApiGatewayV2::Route", {
          RouteKey: routeKey(route),
          AuthorizationType: "AWS_IAM",
        });
      }
      expect(resourcesOfType(synth, "AWS::ApiGatewayV2::Route")).toHaveLength(routes.length);
    });

    it("has no route without IAM authorization", () => {
      for (const [, route] of resourcesOfType(synth, "AWS::ApiGatewayV2::Route")) {
        expect(route.Properties.AuthorizationType, route.Properties.RouteKey).toBe("AWS_IAM");
      }
    });

    it("sends each route to the function of its handler, payload 2.0, within the 29 s integration limit", () => {
      const integrations = Object.fromEntries(resourcesOfType(synth, "AWS::ApiGatewayV2::Integration"));
      for (const [, route] of resourcesOfType(synth, "AWS::ApiGatewayV2::Route")) {
        const key = route.Properties.RouteKey as string;
        const definition = routes.find((candidate) => routeKey(candidate) === key) as RouteDefinition;
        const integrationId = (route.Properties.Target["Fn::Join"][1] as unknown[])[1] as { Ref: string };
        const integration = integrations[integrationId.Ref];
        expect(integration?.Properties).toMatchObject({
          IntegrationType: "AWS_PROXY",
          PayloadFormatVersion: "2.0",
          TimeoutInMillis: 29_000,
          IntegrationUri: { "Fn::GetAtt": [functionResource(synth, definition.handler).id, "Arn"] },
        });
      }
    });

    it("throttles the stage and writes JSON access logs with the caller's identity", () => {
      const [[, stage]] = resourcesOfType(synth, "AWS::ApiGatewayV2::Stage") as [[string, TemplateResource]];
      expect(stage.Properties).toMatchObject({
        StageName: "$default",
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      });
      const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
      expect(format).toMatchObject({ requestId: "$context.requestId", userArn: "$context.identity.userArn" });
      const logGroupId = stage.Properties.AccessLogSettings.DestinationArn["Fn::GetAtt"][0];
      expect(synth.json.Resources[logGroupId]?.Properties.RetentionInDays).toBe(
        TEST_CONTEXT.logRetentionDays,
      );
    });

    it("outputs the API URL and the table name", () => {
      synth.template.hasOutput("ApiUrl", {});
      synth.template.hasOutput("TableName", {});
    });
  });

  describe("functions", () => {
    it("deploys one function per handler, the operation workflow, the secret rotation, and nothing else", () => {
      const workflow = synth.stack.workflow?.fn.function.node.defaultChild as CfnResource;
      const rotation = synth.stack.secretRotation?.fn.function.node.defaultChild as CfnResource;
      const functions = resourcesOfType(synth, "AWS::Lambda::Function").map(([id]) => id);
      expect(functions).toHaveLength(needs.size + 2);
      expect(functions).toContain(logicalIdOf(synth.stack, workflow));
      expect(functions).toContain(logicalIdOf(synth.stack, rotation));
    });

    it.each([...needs.values()])("$handler: Node.js 22 on arm64, traced, with its own log group", (need) => {
      const { resource } = functionResource(synth, need.handler);
      expect(resource.Properties).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
        TracingConfig: { Mode: "Active" },
        Timeout: need.ironic ? TEST_CONTEXT.ironicTimeoutSeconds : 30,
        MemorySize: need.ironic ? 1024 : 512,
      });
      expect(resource.Properties.ReservedConcurrentExecutions).toBe(
        need.ironic ? TEST_CONTEXT.ironicReservedConcurrency : undefined,
      );
      const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref as string;
      expect(synth.json.Resources[logGroupId]).toMatchObject({
        Type: "AWS::Logs::LogGroup",
        Properties: { RetentionInDays: TEST_CONTEXT.logRetentionDays },
      });
    });

    it.each([...needs.values()])("$handler: environment for lib/config.ts", (need) => {
      const variables = functionResource(synth, need.handler).resource.Properties.Environment.Variables;
      expect(variables).toMatchObject({
        VALENCE_TABLE_NAME: {
          Ref: logicalIdOf(synth.stack, synth.stack.table.table.node.defaultChild as CfnResource),
        },
        VALENCE_SECRET_STORE: "secretsmanager",
        VALENCE_SECRET_PREFIX: STACK_SECRET_PREFIX,
        POWERTOOLS_SERVICE_NAME: "valence",
        NODE_OPTIONS: "--enable-source-maps",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      });
      if (need.ironic) {
        expect(variables).toMatchObject({
          IRONIC_URL: TEST_CONTEXT.ironicUrl,
          IRONIC_AUTH_TYPE: TEST_CONTEXT.ironicAuthType,
          IRONIC_SECRET_ARN: TEST_CONTEXT.ironicSecretArn,
        });
      } else {
        expect(Object.keys(variables).filter((name) => name.startsWith("IRONIC_"))).toEqual([]);
      }
    });
  });

  describe("least privilege", () => {
    it("never grants dynamodb:*, secretsmanager:* or a secretsmanager action on *", () => {
      for (const [, policy] of resourcesOfType(synth, "AWS::IAM::Policy")) {
        for (const statement of policy.Properties.PolicyDocument.Statement as Statement[]) {
          const actions = actionsOf(statement);
          expect(actions).not.toContain("*");
          expect(actions).not.toContain("dynamodb:*");
          expect(actions).not.toContain("secretsmanager:*");
          // GetRandomPassword (the rotation function's) takes no resource: on *, and alone in its statement.
          if (actions.some((action) => action.startsWith("secretsmanager:"))) {
            if (resourcesOf(statement).includes("*"))
              expect(actions).toEqual(["secretsmanager:GetRandomPassword"]);
          }
        }
      }
    });

    it("attaches no managed policy to function roles (logs are scoped to each function's log group)", () => {
      for (const fn of synth.stack.functions.values()) {
        const roleId = logicalIdOf(synth.stack, fn.role.node.defaultChild as CfnResource);
        expect(synth.json.Resources[roleId]?.Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    it.each([...needs.values()])("$handler: table access matches its route ($table)", (need) => {
      const actions = statementsOf(synth, need.handler).flatMap(actionsOf);
      const dynamo = actions.filter((action) => action.startsWith("dynamodb:"));
      if (need.table === "none") expect(dynamo).toEqual([]);
      if (need.table === "read") {
        expect(dynamo).toContain("dynamodb:Query");
        expect(dynamo.filter((action) => DYNAMODB_WRITES.includes(action))).toEqual([]);
      }
      if (need.table === "write") expect(dynamo).toEqual(expect.arrayContaining(DYNAMODB_WRITES));
    });

    it.each([...needs.values()])(
      "$handler: exactly its own secret actions, on this stack's prefix only",
      (need) => {
        const statements = statementsOf(synth, need.handler).filter((statement) =>
          actionsOf(statement).some((action) => action.startsWith("secretsmanager:")),
        );
        const ironicSecret = statements.filter((statement) =>
          resourcesOf(statement).includes(TEST_CONTEXT.ironicSecretArn),
        );
        expect(ironicSecret.length > 0).toBe(need.ironic);
        for (const statement of ironicSecret) {
          expect(resourcesOf(statement)).toEqual([TEST_CONTEXT.ironicSecretArn]);
          expect(actionsOf(statement).sort()).toEqual([
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetSecretValue",
          ]);
        }
        const podManagerSecrets = statements.filter((statement) => !ironicSecret.includes(statement));
        for (const resource of podManagerSecrets.flatMap(resourcesOf)) {
          expect(JSON.stringify(resource)).toMatch(/:secret:valence\/ValenceTest\/\*"\]\]\}$/);
        }
        const actions = podManagerSecrets.flatMap(actionsOf).sort();
        expect(actions).toEqual(
          (SECRET_ACTIONS[need.handler] ?? []).map((action) => `secretsmanager:${action}`),
        );
      },
    );

    it("lists every function with pod-manager secret actions above", () => {
      const granted = [...needs.values()].filter((need) => need.readsSecrets || need.writesSecrets);
      expect(granted.map((need) => need.handler).sort()).toEqual(Object.keys(SECRET_ACTIONS).sort());
    });

    it("refuses a function that writes secrets without saying which actions it calls", () => {
      expect(() =>
        podManagerSecretActions({ handler: "rotate-secrets", readsSecrets: false, writesSecrets: true }),
      ).toThrow(/SECRET_WRITER_ACTIONS/);
    });

    it("outputs the stack's secret prefix", () => {
      synth.template.hasOutput("SecretPrefix", { Value: STACK_SECRET_PREFIX });
    });
  });

  describe("two stacks in one account", () => {
    it("keep their pod-manager secrets apart: each function of one is scoped to its own prefix", () => {
      const other = synthesize({ stackName: "ValenceStaging", nag: false });
      expect(other.stack.secretPrefix).toBe("valence/ValenceStaging/");
      for (const need of needs.values()) {
        const resources = statementsOf(other, need.handler)
          .filter((statement) => !resourcesOf(statement).includes(TEST_CONTEXT.ironicSecretArn))
          .filter((statement) => actionsOf(statement).some((action) => action.startsWith("secretsmanager:")))
          .flatMap(resourcesOf)
          .map((resource) => JSON.stringify(resource));
        for (const resource of resources) {
          expect(resource).toContain(":secret:valence/ValenceStaging/*");
          expect(resource).not.toContain("ValenceTest");
        }
        const variables = functionResource(other, need.handler).resource.Properties.Environment.Variables;
        expect(variables.VALENCE_SECRET_PREFIX).toBe("valence/ValenceStaging/");
      }
    });
  });

  describe("table", () => {
    it("is built from TABLE: keys, string attributes, on-demand", () => {
      const attributes = new Set<string>([TABLE.partitionKey, TABLE.sortKey]);
      for (const index of Object.values(TABLE.indexes)) attributes.add(index.partitionKey).add(index.sortKey);
      synth.template.hasResourceProperties("AWS::DynamoDB::Table", {
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: "HASH" },
          { AttributeName: TABLE.sortKey, KeyType: "RANGE" },
        ],
        AttributeDefinitions: Match.arrayEquals(
          [...attributes].map((name) => ({ AttributeName: name, AttributeType: "S" })),
        ),
        SSESpecification: { SSEEnabled: true },
      });
    });

    it("has the GSIs of TABLE.indexes", () => {
      const [[, table]] = resourcesOfType(synth, "AWS::DynamoDB::Table") as [[string, TemplateResource]];
      const indexes = table.Properties.GlobalSecondaryIndexes as { IndexName: string }[];
      expect(indexes).toHaveLength(Object.keys(TABLE.indexes).length);
      for (const index of Object.values(TABLE.indexes)) {
        expect(indexes).toContainEqual({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: "HASH" },
            { AttributeName: index.sortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        });
      }
    });

    it("survives mistakes: PITR, deletion protection, retained on delete and replace", () => {
      synth.template.hasResource("AWS::DynamoDB::Table", {
        DeletionPolicy: "Retain",
        UpdateReplacePolicy: "Retain",
        Properties: Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        }),
      });
    });
  });

  describe("alarms", () => {
    it.each([...needs.values()])(
      "$handler: errors, throttles and p99 duration above 80% of the timeout",
      (need) => {
        const { id, resource } = functionResource(synth, need.handler);
        const alarms = resourcesOfType(synth, "AWS::CloudWatch::Alarm")
          .map(([, alarm]) => alarm.Properties)
          .filter((alarm) => alarm.Dimensions?.[0]?.Value?.Ref === id);
        expect(alarms.map((alarm) => alarm.MetricName).sort()).toEqual(["Duration", "Errors", "Throttles"]);
        const duration = alarms.find((alarm) => alarm.MetricName === "Duration");
        expect(duration?.ExtendedStatistic).toBe("p99");
        expect(duration?.Threshold).toBe(resource.Properties.Timeout * 1000 * 0.8);
      },
    );
  });

  it("has a schedule for each entry of SCHEDULED_FUNCTIONS, if any", () => {
    expect(resourcesOfType(synth, "AWS::Scheduler::Schedule")).toHaveLength(
      defaultScheduledFunctions().length,
    );
  });

  describe("cdk-nag AwsSolutions", () => {
    it("leaves no unacknowledged finding", () => {
      expect(nagViolations(synth.assembly)).toEqual([]);
    });

    it("gives every acknowledgment a written reason", () => {
      const acks = acknowledgments(synth);
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) {
        expect(ack.id, ack.path).toMatch(/^AwsSolutions-/);
        expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThan(40);
      }
    });

    it("fails the synth on an unacknowledged finding", () => {
      const getRoot = ROUTES.find((route) => route.handler === "get-root") as RouteDefinition;
      expect(() =>
        synthesize({
          stackName: "ValenceNagProbe",
          routes: [getRoot],
          scheduledFunctions: [],
          afterBuild: (stack) =>
            stack.functions
              .get("get-root")
              ?.function.addToRolePolicy(
                new iam.PolicyStatement({ actions: ["dynamodb:*"], resources: ["*"] }),
              ),
        }),
      ).toThrow(/AwsSolutions-IAM5\[Action::dynamodb:\*\]/);
    });
  });
});

describe("scheduled functions", () => {
  let synth: Synthesized;
  const getRoot = ROUTES.find((route) => route.handler === "get-root") as RouteDefinition;

  beforeAll(() => {
    synth = synthesize({
      stackName: "ValenceScheduleTest",
      routes: [getRoot],
      scheduledFunctions: [
        { handler: "list-nodes", summary: "Stand-in for reconcile", table: "read", ironic: true },
      ],
    });
  });

  it("runs each one on EventBridge Scheduler at the configured rate, with a retry policy and a DLQ", () => {
    const { id } = functionResource(synth, "list-nodes");
    const schedules = resourcesOfType(synth, "AWS::Scheduler::Schedule");
    expect(schedules).toHaveLength(1);
    const queueId = logicalIdOf(
      synth.stack,
      synth.stack.schedules.get("list-nodes")?.deadLetterQueue.node.defaultChild as CfnResource,
    );
    expect(schedules[0]?.[1].Properties).toMatchObject({
      ScheduleExpression: `rate(${TEST_CONTEXT.reconcileSchedule} minutes)`,
      State: "ENABLED",
      FlexibleTimeWindow: { Mode: "OFF" },
      Target: {
        Arn: { "Fn::GetAtt": [id, "Arn"] },
        DeadLetterConfig: { Arn: { "Fn::GetAtt": [queueId, "Arn"] } },
        RetryPolicy: {
          MaximumRetryAttempts: 2,
          MaximumEventAgeInSeconds: TEST_CONTEXT.reconcileSchedule * 60,
        },
      },
    });
  });

  it("sends runs that fail inside the function to the same DLQ (Scheduler invokes Lambda asynchronously)", () => {
    const { id } = functionResource(synth, "list-nodes");
    const queueId = logicalIdOf(
      synth.stack,
      synth.stack.schedules.get("list-nodes")?.deadLetterQueue.node.defaultChild as CfnResource,
    );
    synth.template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      FunctionName: { Ref: id },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: TEST_CONTEXT.reconcileSchedule * 60,
      DestinationConfig: { OnFailure: { Destination: { "Fn::GetAtt": [queueId, "Arn"] } } },
    });
  });

  it("runs the schedule with a role of its own: invoke this function, send to its DLQ, nothing else", () => {
    const schedule = synth.stack.schedules.get("list-nodes");
    const roleId = logicalIdOf(
      synth.stack,
      schedule?.node.findChild("Role").node.defaultChild as CfnResource,
    );
    expect(synth.json.Resources[roleId]?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: { Service: "scheduler.amazonaws.com" },
        Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
      },
    ]);
    const actions = resourcesOfType(synth, "AWS::IAM::Policy")
      .filter(([, policy]) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
      .flatMap(([, policy]) =>
        (policy.Properties.PolicyDocument.Statement as Statement[]).flatMap(actionsOf),
      );
    expect(actions.sort()).toEqual(["lambda:InvokeFunction", "sqs:SendMessage"]);
  });

  it("keeps the DLQ encrypted and TLS-only", () => {
    synth.template.hasResourceProperties("AWS::SQS::Queue", { SqsManagedSseEnabled: true });
    synth.template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  it("alarms on any message in the DLQ", () => {
    synth.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateNumberOfMessagesVisible",
      Namespace: "AWS/SQS",
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
    });
  });

  it("does not put the scheduled function behind the API", () => {
    expect(
      resourcesOfType(synth, "AWS::ApiGatewayV2::Route").map(([, route]) => route.Properties.RouteKey),
    ).toEqual([routeKey(getRoot)]);
  });

  it("leaves no unacknowledged cdk-nag finding", () => {
    expect(nagViolations(synth.assembly)).toEqual([]);
  });
});

describe("private network, customer-managed key, alarm topic, named stage", () => {
  let synth: Synthesized;
  const createPodManager = ROUTES.find((route) => route.handler === "create-pod-manager") as RouteDefinition;
  const localOnly: RouteDefinition = {
    ...createPodManager,
    handler: "get-v1",
    path: "/local",
    localOnly: true,
  };
  const topicArn = "arn:aws:sns:eu-west-1:123456789012:valence-alarms";

  beforeAll(() => {
    synth = synthesize({
      stackName: "ValenceVpcTest",
      routes: [createPodManager, localOnly],
      scheduledFunctions: [],
      context: {
        vpcId: "vpc-0123456789abcdef0",
        subnetIds: "subnet-0123456789abcdef0, subnet-0fedcba9876543210",
        securityGroupIds: "sg-0123456789abcdef0",
        tableEncryption: "customer-managed",
        alarmTopicArn: topicArn,
        stageName: "v1",
      },
    });
  });

  it("runs functions in the given subnets with the given security groups", () => {
    const { resource } = functionResource(synth, "create-pod-manager");
    expect(resource.Properties.VpcConfig).toEqual({
      SubnetIds: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
      SecurityGroupIds: ["sg-0123456789abcdef0"],
    });
    const fn = synth.stack.functions.get("create-pod-manager");
    const roleId = logicalIdOf(synth.stack, fn?.role.node.defaultChild as CfnResource);
    expect(JSON.stringify(synth.json.Resources[roleId]?.Properties.ManagedPolicyArns)).toContain(
      "service-role/AWSLambdaVPCAccessExecutionRole",
    );
  });

  it("skips local-only routes", () => {
    expect(resourcesOfType(synth, "AWS::ApiGatewayV2::Route")).toHaveLength(1);
    expect(synth.stack.functions.has("get-v1")).toBe(false);
  });

  it("encrypts the table with a customer-managed key and notifies the topic", () => {
    synth.template.hasResourceProperties("AWS::DynamoDB::Table", {
      SSESpecification: { SSEEnabled: true, SSEType: "KMS", KMSMasterKeyId: Match.anyValue() },
    });
    synth.template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    synth.template.hasResourceProperties("AWS::CloudWatch::Alarm", { AlarmActions: [topicArn] });
  });

  it("names the stage", () => {
    synth.template.hasResourceProperties("AWS::ApiGatewayV2::Stage", { StageName: "v1" });
  });

  it("leaves no unacknowledged cdk-nag finding", () => {
    expect(nagViolations(synth.assembly)).toEqual([]);
  });
});
