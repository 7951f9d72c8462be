import type { CfnResource } from "aws-cdk-lib";
import { beforeAll, describe, expect, it } from "vitest";
import { deployedRoutes } from "../../infra/catalog.ts";
import { ROUTES, type RouteDefinition } from "../../lib/api/routes.ts";
import {
  actionsOf,
  type Json,
  logicalIdOf,
  nagViolations,
  type Statement,
  type Synthesized,
  synthesize,
} from "./support.ts";

/** A resource of a policy as a string: references become `<LogicalId>`, as in `arn:<AWS::Partition>:...`. */
function flatten(node: Json): string {
  if (typeof node === "string") return node;
  if (node?.Ref !== undefined) return `<${node.Ref}>`;
  if (Array.isArray(node?.["Fn::Join"])) {
    const [delimiter, items] = node["Fn::Join"] as [string, Json[]];
    return items.map(flatten).join(delimiter);
  }
  return JSON.stringify(node);
}

function policyOf(synth: Synthesized, which: "reader" | "operator") {
  const policy = synth.stack.callerPolicies[which];
  if (!policy) throw new Error(`no ${which} policy`);
  const id = logicalIdOf(synth.stack, policy.node.defaultChild as CfnResource);
  const resource = synth.json.Resources[id];
  if (resource?.Type !== "AWS::IAM::ManagedPolicy") throw new Error(`${which} is not a managed policy`);
  const statements = resource.Properties.PolicyDocument.Statement as Statement[];
  return {
    id,
    statements,
    resources: statements.flatMap((statement) =>
      (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).map(flatten),
    ),
  };
}

/** `<prefix>GET/v1/nodes/*`: the ARN the policy must name for a route, written out from the route's path. */
function expectedArn(prefix: string, route: Pick<RouteDefinition, "method" | "path">): string {
  return `${prefix}${route.method}${route.path.replace(/\{[a-z_]+\}/g, "*")}`;
}

function apiPrefix(synth: Synthesized, stage: string): string {
  const apiId = logicalIdOf(synth.stack, synth.stack.api.httpApi.node.defaultChild as CfnResource);
  return `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiId}>/${stage}/`;
}

describe("caller policies from the route table", () => {
  let synth: Synthesized;
  let prefix: string;
  const routes = deployedRoutes(ROUTES);

  beforeAll(() => {
    synth = synthesize();
    prefix = apiPrefix(synth, "$default");
  });

  it("lets the reader invoke exactly the GET routes, and nothing that changes anything", () => {
    const reader = policyOf(synth, "reader");

    expect(reader.statements).toHaveLength(1);
    expect(reader.statements[0]?.Effect).toBe("Allow");
    expect(actionsOf(reader.statements[0] as Statement)).toEqual(["execute-api:Invoke"]);
    const gets = routes.filter((route) => route.method === "GET");
    expect(new Set(reader.resources)).toEqual(new Set(gets.map((route) => expectedArn(prefix, route))));
    expect(reader.resources).toContain(`${prefix}GET/`);
    expect(reader.resources).toContain(`${prefix}GET/v1/nodes/*/history`);
    for (const resource of reader.resources) {
      expect(resource.slice(prefix.length), resource).toMatch(/^GET\//);
    }
  });

  it("lets the operator invoke every deployed route, and no local-only one", () => {
    const operator = policyOf(synth, "operator");

    expect(operator.statements).toHaveLength(1);
    expect(actionsOf(operator.statements[0] as Statement)).toEqual(["execute-api:Invoke"]);
    expect(new Set(operator.resources)).toEqual(new Set(routes.map((route) => expectedArn(prefix, route))));
    for (const key of ["POST/v1/nodes/*/register", "PATCH/v1/pod_managers/*", "DELETE/v1/nodes/*"]) {
      expect(operator.resources).toContain(`${prefix}${key}`);
    }
    expect(operator.resources).not.toContain(`${prefix}POST/v1/reconcile`);
  });

  it("has no wildcard but whole path-parameter segments: API, stage and method are fixed", () => {
    for (const which of ["reader", "operator"] as const) {
      for (const resource of policyOf(synth, which).resources) {
        expect(resource.startsWith(prefix), resource).toBe(true);
        const [method, ...segments] = resource.slice(prefix.length).split("/");
        expect(method, resource).toMatch(/^(GET|POST|PATCH|DELETE)$/);
        for (const segment of segments) {
          if (segment.includes("*")) expect(segment, resource).toBe("*");
        }
        const route = routes.find((candidate) => expectedArn(prefix, candidate) === resource);
        expect(route, resource).toBeDefined();
        expect(segments.filter((segment) => segment === "*")).toHaveLength(
          route?.path.match(/\{[a-z_]+\}/g)?.length ?? 0,
        );
      }
    }
  });

  it("exports both policies' ARNs", () => {
    for (const [output, which] of [
      ["ReaderPolicyArn", "reader"],
      ["OperatorPolicyArn", "operator"],
    ] as const) {
      synth.template.hasOutput(output, {
        Value: { Ref: policyOf(synth, which).id },
        Export: { Name: `ValenceTest-${output}` },
      });
    }
  });

  it("leaves no unacknowledged cdk-nag finding", () => {
    expect(nagViolations(synth.assembly)).toEqual([]);
  });
});

describe("caller policies of another route table and stage", () => {
  let synth: Synthesized;
  let prefix: string;
  const listNodes = ROUTES.find((route) => route.handler === "list-nodes") as RouteDefinition;
  const cancel = ROUTES.find((route) => route.handler === "cancel-operation") as RouteDefinition;
  // Routes that do not exist in ROUTES, served by existing handlers: the stack must grant them with no change.
  const racks: RouteDefinition = { ...listNodes, path: "/v1/racks/{rack}/slots/{slot}" };
  const drain: RouteDefinition = { ...cancel, path: "/v1/racks/{rack}/drain" };
  const localOnly: RouteDefinition = { ...cancel, path: "/v1/racks/reset", localOnly: true };

  beforeAll(() => {
    synth = synthesize({
      stackName: "ValenceRacksTest",
      routes: [racks, drain, localOnly],
      scheduledFunctions: [],
      context: { stageName: "v1" },
    });
    prefix = apiPrefix(synth, "v1");
  });

  it("grants a new GET route to the reader and every new route to the operator, on the named stage", () => {
    expect(policyOf(synth, "reader").resources).toEqual([`${prefix}GET/v1/racks/*/slots/*`]);
    expect(new Set(policyOf(synth, "operator").resources)).toEqual(
      new Set([`${prefix}GET/v1/racks/*/slots/*`, `${prefix}POST/v1/racks/*/drain`]),
    );
  });

  it("leaves no unacknowledged cdk-nag finding", () => {
    expect(nagViolations(synth.assembly)).toEqual([]);
  });
});

describe("caller policies of a route table without GET routes", () => {
  let synth: Synthesized;
  const cancel = ROUTES.find((route) => route.handler === "cancel-operation") as RouteDefinition;

  beforeAll(() => {
    synth = synthesize({ stackName: "ValenceWriteOnlyTest", routes: [cancel], scheduledFunctions: [] });
  });

  it("creates and exports no reader (IAM refuses a policy without a resource), only the operator", () => {
    expect(synth.stack.callerPolicies.reader).toBeUndefined();
    expect(Object.keys(synth.template.findOutputs("ReaderPolicyArn"))).toEqual([]);
    expect(policyOf(synth, "operator").resources).toEqual([
      `${apiPrefix(synth, "$default")}POST/v1/operations/*/cancel`,
    ]);
    synth.template.hasOutput("OperatorPolicyArn", {
      Export: { Name: "ValenceWriteOnlyTest-OperatorPolicyArn" },
    });
  });
});
