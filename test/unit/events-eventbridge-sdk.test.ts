// Enabled once @aws-sdk/client-eventbridge is a dependency: rename to events-eventbridge-sdk.test.ts, and
// lib/runtime/eventbridge-client.ts.pending to lib/runtime/eventbridge-client.ts.
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../lib/config.ts";
import { nodeEvent } from "../../lib/events/build.ts";
import { EventBridgePublisher } from "../../lib/events/eventbridge.ts";
import { NODE_REGISTERED, type ValenceEvent } from "../../lib/events/schemas.ts";
import { eventBridgePutEventsFor } from "../../lib/runtime/eventbridge-client.ts";
import { eventPublisherFor } from "../../lib/runtime/events.ts";

const AT = new Date("2026-12-01T12:00:00.000Z");

function registered(index: number): ValenceEvent {
  return nodeEvent(NODE_REGISTERED, {
    node: { uuid: `uuid-${index}`, name: `node-${index}`, podm_id: "podm", ironic_node_uuid: "ironic" },
    action: "register",
    outcome: "succeeded",
    actor: "operator",
    requestId: `request-${index}`,
    at: AT,
  });
}

describe("EventBridgePublisher over the AWS SDK's EventBridge client", () => {
  const eventBridge = mockClient(EventBridgeClient);
  afterEach(() => {
    eventBridge.reset();
    vi.restoreAllMocks();
  });

  const publisher = () =>
    new EventBridgePublisher({
      eventBusName: "valence-events",
      putEvents: eventBridgePutEventsFor(parseConfig({ AWS_REGION: "eu-west-1" })),
    });

  it("sends PutEvents in batches of at most 10, on the configured bus, with source valence", async () => {
    eventBridge.on(PutEventsCommand).callsFake((input) => ({
      FailedEntryCount: 0,
      Entries: (input.Entries ?? []).map((_: unknown, i: number) => ({ EventId: `id-${i}` })),
    }));
    await publisher().publish(Array.from({ length: 21 }, (_, i) => registered(i)));
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls.map((call) => call.args[0].input.Entries?.length)).toEqual([10, 10, 1]);
    expect(calls[0]?.args[0].input.Entries?.[0]).toMatchObject({
      Source: "valence",
      DetailType: "Node Registered",
      EventBusName: "valence-events",
      Time: AT,
    });
  });

  it("retries refused entries once, then logs them and does not throw", async () => {
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: "InternalFailure", ErrorMessage: "try later" }],
    });
    await expect(publisher().publish([registered(0)])).resolves.toBeUndefined();
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(2);
  });

  it("does not throw when the SDK call fails", async () => {
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    eventBridge.on(PutEventsCommand).rejects(new Error("AccessDeniedException"));
    await expect(publisher().publish([registered(0)])).resolves.toBeUndefined();
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(2);
  });

  it("is what the runtime builds for VALENCE_EVENT_BUS_NAME", async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "1" }] });
    await eventPublisherFor(parseConfig({ VALENCE_EVENT_BUS_NAME: "valence-events" })).publish([
      registered(0),
    ]);
    expect(eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.EventBusName).toBe(
      "valence-events",
    );
  });
});
