import { ArnFormat, Stack } from "aws-cdk-lib";
import type * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import type { RouteDefinition } from "../../lib/api/routes.ts";
import { acknowledgeNag, nagResource } from "../nag.ts";

/**
 * The request part of a route's `execute-api` ARN: `GET/v1/nodes/*` for `GET /v1/nodes/{id}`. API Gateway
 * authorizes the path the caller asked for, so each `{name}` segment becomes `*`; the method is never a wildcard.
 */
export function invokeResourcePath(route: Pick<RouteDefinition, "method" | "path">): string {
  const path = route.path
    .split("/")
    .map((segment) => (/^\{[^}]+\}$/.test(segment) ? "*" : segment))
    .join("/");
  return `${route.method}${path}`;
}

/** The routes a reader may call: those that change nothing (GET). */
export function readerRoutes(routes: readonly RouteDefinition[]): RouteDefinition[] {
  return routes.filter((route) => route.method === "GET");
}

export interface CallerPoliciesProps {
  /** The IAM-authorized HTTP API the policies let callers invoke. */
  readonly httpApi: apigwv2.IHttpApi;
  /** The stage callers call; the policies cover this stage only. */
  readonly stageName: string;
  /** Every deployed route (local-only routes already left out). */
  readonly routes: readonly RouteDefinition[];
}

/**
 * Managed policies for the API's callers, derived from the route table: a reader (`execute-api:Invoke` on the
 * GET routes) and an operator (every route). Attach one to a role, user or group; nothing else grants a caller
 * access to the API.
 */
export class CallerPolicies extends Construct {
  /** Absent when no route is a GET: IAM refuses a policy without a resource. */
  readonly reader?: iam.ManagedPolicy;
  /** Absent when no route is deployed. */
  readonly operator?: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: CallerPoliciesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const arnOf = (resourcePath: string) =>
      stack.formatArn({
        service: "execute-api",
        resource: props.httpApi.apiId,
        resourceName: `${props.stageName}/${resourcePath}`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    const policy = (policyId: string, description: string, routes: readonly RouteDefinition[]) => {
      if (routes.length === 0) return undefined;
      // Routes whose ARNs coincide (same method and shape of path) are granted once.
      const paths = [...new Set(routes.map(invokeResourcePath))].sort();
      const arns = new Map(paths.map((path) => [path, arnOf(path)]));
      const managed = new iam.ManagedPolicy(this, policyId, {
        description,
        statements: [
          new iam.PolicyStatement({ actions: ["execute-api:Invoke"], resources: [...arns.values()] }),
        ],
      });
      for (const [path, arn] of arns) {
        if (!path.includes("*")) continue;
        acknowledgeNag(
          managed,
          `IAM5[${nagResource(managed, arn)}]`,
          "Each * stands for one path parameter ({id}) of a route of this API: API Gateway authorizes the path the caller asked for, and IAM has no one-segment wildcard. Method, stage and API are fixed.",
        );
      }
      return managed;
    };
    this.reader = policy(
      "Reader",
      `Valence ${stack.stackName}: call the API's read-only routes (GET)`,
      readerRoutes(props.routes),
    );
    this.operator = policy(
      "Operator",
      `Valence ${stack.stackName}: call every route of the API`,
      props.routes,
    );
  }
}
