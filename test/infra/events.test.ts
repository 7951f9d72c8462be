import type { CfnResource } from "aws-cdk-lib";
import { beforeAll, describe, expect, it } from "vitest";
import { parseValenceConfig, ValenceConfigError } from "../../infra/config.ts";
import { functionEnvironment } from "../../infra/environment.ts";
import { logicalIdOf, nagViolations, type Synthesized, synthesize } from "./support.ts";

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** The functions that publish events: register, unregister and the scheduled reconcile. */
const PUBLISHERS = ["register-node", "unregister-node", "reconcile"];

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

const putEventsStatements = (synth: Synthesized, handler: string) =>
  statementsOf(synth, handler).filter((statement) =>
    (Array.isArray(statement.Action) ? statement.Action : [statement.Action]).some((action) =>
      action.startsWith("events:"),
    ),
  );

function environmentOf(synth: Synthesized, handler: string): Record<string, unknown> {
  const fn = synth.stack.functions.get(handler);
  if (!fn) throw new Error(`no function for ${handler}`);
  const id = logicalIdOf(synth.stack, fn.function.node.defaultChild as CfnResource);
  return synth.json.Resources[id]?.Properties.Environment.Variables;
}

/** The default bus's ARN as CloudFormation writes it for this stack's account and region. */
const DEFAULT_BUS_ARN = {
  "Fn::Join": [
    "",
    [
      "arn:",
      { Ref: "AWS::Partition" },
      ":events:",
      { Ref: "AWS::Region" },
      ":",
      { Ref: "AWS::AccountId" },
      ":event-bus/default",
    ],
  ],
};

describe("events on the account's default bus (no eventBusName)", () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize();
  });

  it("lets only the publishing functions put events, on that bus alone", () => {
    for (const [handler] of synth.stack.functions) {
      const statements = putEventsStatements(synth, handler);
      if (!PUBLISHERS.includes(handler)) {
        expect(statements, handler).toEqual([]);
        continue;
      }
      expect(statements, handler).toEqual([
        { Action: "events:PutEvents", Effect: "Allow", Resource: DEFAULT_BUS_ARN },
      ]);
    }
  });

  it("tells only the publishing functions the bus's name", () => {
    for (const [handler] of synth.stack.functions) {
      expect(environmentOf(synth, handler).VALENCE_EVENT_BUS_NAME, handler).toBe(
        PUBLISHERS.includes(handler) ? "default" : undefined,
      );
    }
  });

  it("outputs the bus's ARN", () => {
    expect(synth.json).toMatchObject({ Outputs: { EventBusArn: { Value: DEFAULT_BUS_ARN } } });
  });

  it("leaves no unacknowledged cdk-nag finding", () => {
    expect(nagViolations(synth.assembly)).toEqual([]);
  });
});

describe("events on a bus named by ARN", () => {
  const arn = "arn:aws:events:eu-west-1:210987654321:event-bus/automation";
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize({ context: { eventBusName: arn } });
  });

  it("grants events:PutEvents on that bus only and passes its ARN on", () => {
    for (const handler of PUBLISHERS) {
      expect(putEventsStatements(synth, handler)).toEqual([
        { Action: "events:PutEvents", Effect: "Allow", Resource: arn },
      ]);
      expect(environmentOf(synth, handler).VALENCE_EVENT_BUS_NAME).toBe(arn);
    }
  });

  it("leaves no unacknowledged cdk-nag finding", () => {
    expect(nagViolations(synth.assembly)).toEqual([]);
  });
});

describe("eventBusName", () => {
  it("takes a bus name, defaulting to the default bus", () => {
    expect(parseValenceConfig({}).eventBusName).toBe("default");
    expect(parseValenceConfig({ eventBusName: "valence-events" }).eventBusName).toBe("valence-events");
  });

  it("refuses what is neither a bus name nor an event bus ARN", () => {
    expect(() => parseValenceConfig({ eventBusName: "two words" })).toThrow(ValenceConfigError);
    expect(() => parseValenceConfig({ eventBusName: "arn:aws:sns:eu-west-1:123456789012:topic" })).toThrow(
      /eventBusName/,
    );
  });

  it("is in the environment of publishing functions only", () => {
    const config = parseValenceConfig({ eventBusName: "valence-events" });
    const stack = { tableName: "table", secretPrefix: "valence/Valence/" };
    expect(functionEnvironment(config, stack, { ironic: true, publishesEvents: true })).toMatchObject({
      VALENCE_EVENT_BUS_NAME: "valence-events",
    });
    expect(
      functionEnvironment(config, stack, { ironic: true, publishesEvents: false }).VALENCE_EVENT_BUS_NAME,
    ).toBeUndefined();
  });
});
