import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { RouteDefinition } from "../../lib/api/routes.ts";

/** A route and the function that serves it. */
export interface ApiRoute {
  readonly route: RouteDefinition;
  readonly function: lambda.IFunction;
}

export interface ValenceApiProps {
  /** Every route to publish; each is authorized with IAM (callers sign with SigV4). */
  readonly routes: readonly ApiRoute[];
  /** @default "$default" (the URL has no stage segment) */
  readonly stageName?: string;
  /** Steady-state requests per second of the stage. @default 50 */
  readonly throttleRateLimit?: number;
  /** @default 100 */
  readonly throttleBurstLimit?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly accessLogRetention?: logs.RetentionDays;
  /**
   * How long API Gateway waits for a function (HTTP APIs: at most 30 s; CDK accepts up to 29 s). A function
   * whose own timeout is longer keeps working after the caller got a 503; callers read the resource afterwards.
   * @default Duration.seconds(29)
   */
  readonly integrationTimeout?: Duration;
}

/** JSON access log line of an HTTP API (its `$context` variables, not the REST API's). */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  requestTime: "$context.requestTime",
  routeKey: "$context.routeKey",
  path: "$context.path",
  status: "$context.status",
  responseLength: "$context.responseLength",
  responseLatency: "$context.responseLatency",
  integrationLatency: "$context.integration.latency",
  integrationStatus: "$context.integration.status",
  integrationError: "$context.integrationErrorMessage",
  error: "$context.error.message",
  sourceIp: "$context.identity.sourceIp",
  userAgent: "$context.identity.userAgent",
  caller: "$context.identity.caller",
  userArn: "$context.identity.userArn",
  protocol: "$context.protocol",
});

/**
 * The HTTP API: one route per route-table entry, each behind IAM authorization and its own Lambda integration
 * (payload 2.0), a throttled stage and JSON access logs.
 */
export class ValenceApi extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ValenceApiProps) {
    super(scope, id);
    const authorizer = new HttpIamAuthorizer();
    this.httpApi = new apigwv2.HttpApi(this, "HttpApi", {
      description: "Valence: composed nodes from Redfish pod managers, registered into Ironic",
      createDefaultStage: false,
      // Every route names it too; this only guards routes added later by hand.
      defaultAuthorizer: authorizer,
    });

    this.accessLogs = new logs.LogGroup(this, "AccessLogs", {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
      // Who called what: kept when the stack is deleted, until the retention expires it.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.stage = new apigwv2.HttpStage(this, "Stage", {
      httpApi: this.httpApi,
      stageName: props.stageName ?? "$default",
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttleRateLimit ?? 50,
        burstLimit: props.throttleBurstLimit ?? 100,
      },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: apigw.AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });

    const timeout = props.integrationTimeout ?? Duration.seconds(29);
    for (const { route, function: fn } of props.routes) {
      this.httpApi.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        authorizer,
        integration: new HttpLambdaIntegration(`${route.handler}-${route.method.toLowerCase()}`, fn, {
          payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
          timeout,
        }),
      });
    }
  }

  /** The stage's invoke URL. */
  get url(): string {
    return this.stage.url;
  }
}
