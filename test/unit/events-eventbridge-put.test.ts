import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
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

interface Sent {
  url: string;
  headers: Record<string, string>;
  body: { Entries: Array<Record<string, unknown>> };
}

/** EventBridge's PutEvents endpoint as far as the wire goes: each request kept, answered by `answer`. */
function fakeEventBridge(answer: (body: Sent["body"]) => Response) {
  const sent: Sent[] = [];
  vi.stubGlobal("fetch", async (url: URL | string, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body)) as Sent["body"];
    sent.push({ url: String(url), headers: init?.headers as Record<string, string>, body });
    return answer(body);
  });
  return sent;
}

const accepted = (body: Sent["body"]) =>
  Response.json({ FailedEntryCount: 0, Entries: body.Entries.map((_, i) => ({ EventId: `id-${i}` })) });

describe("EventBridgePublisher over a signed PutEvents", () => {
  beforeEach(() => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  const publisher = () =>
    new EventBridgePublisher({
      eventBusName: "valence-events",
      putEvents: eventBridgePutEventsFor(parseConfig({ AWS_REGION: "eu-west-1" })),
    });

  it("sends PutEvents in batches of at most 10, signed for events in the region, on the bus, with source valence", async () => {
    const sent = fakeEventBridge(accepted);

    await publisher().publish(Array.from({ length: 21 }, (_, i) => registered(i)));

    expect(sent.map((request) => request.body.Entries.length)).toEqual([10, 10, 1]);
    expect(sent[0]?.url).toBe("https://events.eu-west-1.amazonaws.com/");
    expect(sent[0]?.headers).toMatchObject({
      "x-amz-target": "AWSEvents.PutEvents",
      "content-type": "application/x-amz-json-1.1",
    });
    expect(sent[0]?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/events\/aws4_request, SignedHeaders=.*x-amz-target/,
    );
    expect(sent[0]?.body.Entries[0]).toEqual({
      Source: "valence",
      DetailType: "Node Registered",
      Detail: JSON.stringify(registered(0).detail),
      EventBusName: "valence-events",
      // The JSON protocol's timestamps are epoch seconds.
      Time: AT.getTime() / 1000,
    });
  });

  it("retries refused entries once, then logs them and does not throw", async () => {
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const sent = fakeEventBridge(() =>
      Response.json({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: "InternalFailure", ErrorMessage: "try later" }],
      }),
    );
    await expect(publisher().publish([registered(0)])).resolves.toBeUndefined();
    expect(sent).toHaveLength(2);
  });

  it("does not throw when EventBridge refuses the call as a whole", async () => {
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const sent = fakeEventBridge(
      () => new Response("{}", { status: 400, headers: { "x-amzn-errortype": "AccessDeniedException" } }),
    );
    await expect(publisher().publish([registered(0)])).resolves.toBeUndefined();
    expect(sent).toHaveLength(2);
  });

  it("throws from the port, naming EventBridge's error type, when the call is refused", async () => {
    fakeEventBridge(
      () =>
        new Response("{}", {
          status: 400,
          headers: { "x-amzn-errortype": "ResourceNotFoundException:http" },
        }),
    );
    const putEvents = eventBridgePutEventsFor(parseConfig({ AWS_REGION: "us-west-2" }));
    await expect(putEvents({ Entries: [] })).rejects.toThrow(
      "EventBridge refused PutEvents (400 ResourceNotFoundException)",
    );
  });

  it("is what the runtime builds for VALENCE_EVENT_BUS_NAME", async () => {
    const sent = fakeEventBridge(accepted);
    await eventPublisherFor(parseConfig({ VALENCE_EVENT_BUS_NAME: "valence-events" })).publish([
      registered(0),
    ]);
    expect(sent[0]?.body.Entries[0]?.EventBusName).toBe("valence-events");
  });
});
