import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import type * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { type BundlingOptions, NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { acknowledgeNag } from "../nag.ts";

/** The repository root: `functions/`, `package-lock.json` and `tsconfig.json` live there. */
const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * How every function is bundled: one minified ESM file for Node.js 22, with the AWS SDK inside (the version we
 * test is the version that runs) and a source map. esbuild from node_modules: offline, no Docker.
 *
 * Cold starts grow with what Node compiles and with the source map it reads at load (`--enable-source-maps`):
 * `bench/cold-start.ts` measures both, and bundles whose size or import time drifts show there.
 */
export const BUNDLING = {
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  mainFields: ["module", "main"],
  target: "node22",
  minify: true,
  sourceMap: true,
  // Stack traces need the mappings, not our sources: the map Node parses at every cold start stays small.
  sourcesContent: false,
  // Some CommonJS dependencies call require(); an ESM bundle has none unless we make one.
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  externalModules: [],
  esbuildArgs: {
    "--alias": [
      // Lambda passes credentials in the environment: the SDK's default chain (SSO, ini files, STS, instance
      // metadata, ~120 KB) gives way to env and container credentials. See lib/runtime/lambda-credentials.ts.
      "@aws-sdk/credential-provider-node=./lib/runtime/lambda-credentials.ts",
      // No call of ours streams events: the codec (~10 KB) gives way to a stub. See lib/aws/no-event-streams.ts.
      "@smithy/core/event-streams=./lib/aws/no-event-streams.ts",
      // The DynamoDB client's endpoint-discovery cache on a Map (~6 KB less). See lib/aws/lru-cache.ts.
      "mnemonist/lru-cache=./lib/aws/lru-cache.ts",
      // The durable SDK's checkpoints need the Lambda client and two commands, not the whole package (~50 KB
      // less in the workflow). See lib/aws/durable-lambda-client.ts.
      "@aws-sdk/client-lambda=./lib/aws/durable-lambda-client.ts",
    ],
  },
} as const satisfies BundlingOptions;

/** Where a function runs when Ironic and the pod managers sit on a private network. */
export interface FunctionNetwork {
  readonly vpc: ec2.IVpc;
  readonly subnets: readonly ec2.ISubnet[];
  /** @default - one security group per function, all egress allowed, no ingress */
  readonly securityGroups?: readonly ec2.ISecurityGroup[];
}

export interface ValenceFunctionProps {
  /** File name under `functions/` (without `.ts`); the file exports `handler`. */
  readonly handler: string;
  /** @default - none */
  readonly description?: string;
  /** Built by `functionEnvironment`, the one place that knows what `lib/config.ts` reads. */
  readonly environment: Readonly<Record<string, string>>;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default - no reserved concurrency (the account's unreserved pool) */
  readonly reservedConcurrentExecutions?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default - no VPC */
  readonly network?: FunctionNetwork;
  /** @default - the repository root */
  readonly projectRoot?: string;
  /**
   * Makes it a Lambda durable function (its executions checkpoint and replay). Its role is ours, so the
   * checkpoint permissions are granted by the stack (`grantDurableExecution`), not by a managed policy.
   * @default - not durable
   */
  readonly durable?: lambda.DurableConfig;
  /** Where Lambda sends the events of asynchronous invocations that failed. @default - none */
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * The team's defaults for a Lambda function, in one place: Node.js 22 on arm64, one minified ESM bundle with the
 * AWS SDK inside (a pinned SDK, no surprise from the runtime's copy), source maps, X-Ray, an explicit log group
 * with retention, and a role of its own that can write only to that log group. What else the function may
 * touch is granted by the stack, per function.
 */
export class ValenceFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;
  readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: ValenceFunctionProps) {
    super(scope, id);
    const projectRoot = props.projectRoot ?? PROJECT_ROOT;
    this.timeout = props.timeout ?? Duration.seconds(30);

    this.logGroup = new logs.LogGroup(this, "Logs", {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      // Function logs expire anyway; the table, not the logs, is what must survive a teardown.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Our own role instead of AWSLambdaBasicExecutionRole, which may write to every log group of the account.
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `Valence ${props.handler}`,
    });
    this.logGroup.grantWrite(this.role);
    if (props.network) {
      this.role.addManagedPolicy(
        iam.ManagedPolicy.fromAwsManagedPolicyName("service-role/AWSLambdaVPCAccessExecutionRole"),
      );
      acknowledgeNag(
        this,
        "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
        "Lambda needs to create and delete the function's network interfaces in the VPC; the EC2 actions of this AWS-maintained policy take no resource ARNs.",
      );
    }

    this.function = new NodejsFunction(this, "Function", {
      entry: `${projectRoot}/functions/${props.handler}.ts`,
      handler: "handler",
      projectRoot,
      depsLockFilePath: `${projectRoot}/package-lock.json`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: this.timeout,
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      ...(props.description ? { description: props.description } : {}),
      environment: { ...props.environment },
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      ...(props.durable
        ? {
            durableConfig: props.durable,
            // An execution stays on the version it started on: a deployment must not delete that version.
            currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
          }
        : {}),
      ...(props.network
        ? {
            vpc: props.network.vpc,
            vpcSubnets: { subnets: [...props.network.subnets] },
            ...(props.network.securityGroups ? { securityGroups: [...props.network.securityGroups] } : {}),
          }
        : {}),
      bundling: BUNDLING,
    });

    acknowledgeNag(
      this,
      "L1",
      "nodejs22.x is the project's chosen Lambda runtime (the bundles target node22); moving to a newer runtime is a deliberate upgrade, not a side effect of a CDK release.",
    );
    acknowledgeNag(
      this,
      "IAM5[Resource::*]",
      "X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.",
    );
  }
}
