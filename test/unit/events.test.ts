import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../lib/config.ts";
import {
  nodeEvent,
  operationFinished,
  operationStarted,
  reconcilerDetailType,
} from "../../lib/events/build.ts";
import {
  EventBridgePublisher,
  PUT_EVENTS_BATCH,
  type PutEventsInput,
  type PutEventsOutput,
} from "../../lib/events/eventbridge.ts";
import { JsonLinesFilePublisher } from "../../lib/events/file.ts";
import {
  type EventPublisher,
  NoopEventPublisher,
  publishQuietly,
  toEntry,
} from "../../lib/events/publisher.ts";
import {
  DETAIL_TYPES,
  EVENT_SOURCE,
  MESSAGE_MAX,
  NODE_DRIFT,
  NODE_REGISTERED,
  NODE_REGISTRATION_FAILED,
  NODE_UNREGISTERED,
  type NodeEventDetail,
  NodeEventDetailSchema,
  OPERATION_FINISHED,
  OPERATION_STARTED,
  OperationFinishedDetailSchema,
  OperationStartedDetailSchema,
  type ValenceEvent,
} from "../../lib/events/schemas.ts";
import { eventPublisherFor } from "../../lib/runtime/events.ts";

const NODE = {
  uuid: "5f0c3c57-6a9b-4d4f-9d49-2d7b1f6c0e11",
  name: "test-node",
  podm_id: "9a2b7e5c-1111-4c2d-8e3f-000000000001",
  ironic_node_uuid: null,
};
const AT = new Date("2026-12-01T12:00:00.000Z");
const SECRET = "Hunter2-very-secret-bmc-password";

function registered(index = 0): ValenceEvent {
  return nodeEvent(NODE_REGISTERED, {
    node: { ...NODE, name: `node-${index}` },
    action: "register",
    outcome: "succeeded",
    actor: "arn:aws:iam::123456789012:user/operator",
    requestId: `request-${index}`,
    at: AT,
    ironicNodeUuid: "0b7d2f9e-2222-4a1b-9c3d-000000000002",
    provisionState: "available",
  });
}

/** Log lines at WARN and above (the logger writes those to stderr). */
function captureErrors(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  });
  return lines;
}

/** A PutEvents that records each call and answers what `answer` says for it. */
function fakePutEvents(answer: (input: PutEventsInput, call: number) => PutEventsOutput | Error) {
  const calls: PutEventsInput[] = [];
  const putEvents = async (input: PutEventsInput): Promise<PutEventsOutput> => {
    calls.push(structuredClone(input));
    const result = answer(input, calls.length);
    if (result instanceof Error) throw result;
    return result;
  };
  return { calls, putEvents };
}

const accepted = (input: PutEventsInput): PutEventsOutput => ({
  FailedEntryCount: 0,
  Entries: input.Entries.map((_, i) => ({ EventId: `id-${i}` })),
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("event schemas", () => {
  it("names one source and the six detail-types", () => {
    expect(EVENT_SOURCE).toBe("valence");
    expect(DETAIL_TYPES).toEqual([
      "Node Registered",
      "Node Unregistered",
      "Node Drift",
      "Node Registration Failed",
      "Operation Started",
      "Operation Finished",
    ]);
  });

  it("accepts the details the builders make", () => {
    expect(NodeEventDetailSchema.safeParse(registered().detail).success).toBe(true);
    const operation = { id: "op-1", kind: "provide", node_uuid: NODE.uuid, node_name: NODE.name };
    const started = operationStarted({ operation, actor: "me", requestId: "r", at: AT });
    expect(started.detailType).toBe(OPERATION_STARTED);
    expect(OperationStartedDetailSchema.safeParse(started.detail).success).toBe(true);
    const finished = operationFinished({
      operation,
      actor: "me",
      requestId: "r",
      at: AT,
      outcome: "failed",
      provisionState: "clean failed",
      lastError: "cleaning failed",
    });
    expect(finished.detailType).toBe(OPERATION_FINISHED);
    expect(OperationFinishedDetailSchema.safeParse(finished.detail).success).toBe(true);
  });

  it("refuses fields it does not know, so nothing can ride along in a detail", () => {
    const detail = { ...registered().detail, driver_info: { redfish_password: SECRET } };
    expect(NodeEventDetailSchema.safeParse(detail).success).toBe(false);
    const node = { ...registered().detail, node: { ...NODE, password: SECRET } };
    expect(NodeEventDetailSchema.safeParse(node).success).toBe(false);
  });

  it("refuses an unknown action, outcome or a time that is not ISO 8601", () => {
    const base = registered().detail;
    expect(NodeEventDetailSchema.safeParse({ ...base, action: "missing" }).success).toBe(false);
    expect(NodeEventDetailSchema.safeParse({ ...base, outcome: "maybe" }).success).toBe(false);
    expect(NodeEventDetailSchema.safeParse({ ...base, at: "yesterday" }).success).toBe(false);
  });
});

describe("docs/events.md", () => {
  const docs = readFileSync("docs/events.md", "utf8");

  /** Field paths of a strict object schema: `version`, `node.uuid`, ... */
  function fieldsOf(schema: { def: { shape: Record<string, unknown> } }, prefix = ""): string[] {
    return Object.entries(schema.def.shape).flatMap(([key, field]) => {
      const inner = field as { def: { type: string; shape?: Record<string, unknown> } };
      return inner.def.type === "object" && inner.def.shape
        ? fieldsOf(inner as { def: { shape: Record<string, unknown> } }, `${prefix}${key}.`)
        : [`${prefix}${key}`];
    });
  }

  it("names the source and every detail-type", () => {
    expect(docs).toContain(`\`${EVENT_SOURCE}\``);
    for (const detailType of DETAIL_TYPES) expect(docs, detailType).toContain(`\`${detailType}\``);
  });

  it("documents every field of every detail schema", () => {
    for (const schema of [
      NodeEventDetailSchema,
      OperationStartedDetailSchema,
      OperationFinishedDetailSchema,
    ]) {
      for (const field of fieldsOf(schema)) expect(docs, field).toContain(`| \`${field}\` |`);
    }
  });
});

describe("event builders: no secrets", () => {
  it("masks credentials in a message and bounds its length", () => {
    const event = nodeEvent(NODE_REGISTRATION_FAILED, {
      node: NODE,
      action: "register",
      outcome: "failed",
      actor: "me",
      requestId: "r",
      at: AT,
      message: `Ironic said: {"redfish_password": "${SECRET}"} via https://admin:${SECRET}@podm.example/ ${"x".repeat(5000)}`,
    });
    const text = JSON.stringify(event);
    expect(text).not.toContain(SECRET);
    expect(text).toContain("***");
    expect((event.detail as { message: string }).message.length).toBeLessThanOrEqual(MESSAGE_MAX);
    expect(NodeEventDetailSchema.safeParse(event.detail).success).toBe(true);
  });

  it("masks credentials in an operation's last_error", () => {
    const event = operationFinished({
      operation: { id: "op", kind: "clean", node_uuid: NODE.uuid },
      actor: "me",
      requestId: "r",
      at: AT,
      outcome: "failed",
      lastError: `agent token=${SECRET} refused`,
    });
    expect(JSON.stringify(event)).not.toContain(SECRET);
  });

  it("carries only the node's identity, whatever else the node object holds", () => {
    const node = {
      ...NODE,
      hardware: { nics: [] },
      credentials: { password: SECRET },
      driver_info: { redfish_password: SECRET },
    };
    const event = nodeEvent(NODE_UNREGISTERED, {
      node,
      action: "unregister",
      outcome: "succeeded",
      actor: "me",
      requestId: "r",
      at: AT,
    });
    expect(JSON.stringify(event)).not.toContain(SECRET);
    expect(Object.keys((event.detail as NodeEventDetail).node).sort()).toEqual([
      "ironic_node_uuid",
      "name",
      "podm_id",
      "uuid",
    ]);
  });

  it("maps what the reconciler settles to detail-types, and leaves the rest unpublished", () => {
    expect(reconcilerDetailType("drift")).toBe(NODE_DRIFT);
    expect(reconcilerDetailType("adopt")).toBe(NODE_REGISTERED);
    expect(reconcilerDetailType("finish-register")).toBe(NODE_REGISTERED);
    expect(reconcilerDetailType("finish-unregister")).toBe(NODE_UNREGISTERED);
    expect(reconcilerDetailType("rollback")).toBe(NODE_REGISTRATION_FAILED);
    expect(reconcilerDetailType("missing")).toBeUndefined();
    expect(reconcilerDetailType("found")).toBeUndefined();
  });
});

describe("EventBridgePublisher", () => {
  it("sends entries with the source, detail-type, JSON detail, time and bus", async () => {
    const fake = fakePutEvents(accepted);
    await new EventBridgePublisher({ eventBusName: "valence-bus", putEvents: fake.putEvents }).publish([
      registered(),
    ]);
    expect(fake.calls).toHaveLength(1);
    const [entry] = fake.calls[0]?.Entries ?? [];
    expect(entry).toEqual({
      Source: "valence",
      DetailType: "Node Registered",
      Detail: JSON.stringify(registered().detail),
      Time: AT,
      EventBusName: "valence-bus",
    });
  });

  it("sends at most 10 entries per call", async () => {
    const fake = fakePutEvents(accepted);
    const events = Array.from({ length: 25 }, (_, i) => registered(i));
    await new EventBridgePublisher({ eventBusName: "default", putEvents: fake.putEvents }).publish(events);
    expect(fake.calls.map((call) => call.Entries.length)).toEqual([10, 10, 5]);
    expect(PUT_EVENTS_BATCH).toBe(10);
    const names = fake.calls.flatMap((call) =>
      call.Entries.map((entry) => JSON.parse(entry.Detail).node.name),
    );
    expect(names.sort()).toEqual(
      events.map((event) => (event.detail as { node: { name: string } }).node.name).sort(),
    );
  });

  it("retries the entries EventBridge refused, once, and only those", async () => {
    const fake = fakePutEvents((input, call) =>
      call === 1
        ? {
            FailedEntryCount: 1,
            Entries: input.Entries.map((_, i) =>
              i === 1
                ? { ErrorCode: "ThrottlingException", ErrorMessage: "slow down" }
                : { EventId: `id-${i}` },
            ),
          }
        : accepted(input),
    );
    const errors = captureErrors();
    await new EventBridgePublisher({ eventBusName: "default", putEvents: fake.putEvents }).publish([
      registered(0),
      registered(1),
      registered(2),
    ]);
    expect(fake.calls).toHaveLength(2);
    expect(fake.calls[1]?.Entries.map((entry) => JSON.parse(entry.Detail).node.name)).toEqual(["node-1"]);
    expect(errors.join("")).toBe("");
  });

  it("logs an entry refused twice and does not throw", async () => {
    const fake = fakePutEvents((input) => ({
      FailedEntryCount: input.Entries.length,
      Entries: input.Entries.map(() => ({ ErrorCode: "InternalFailure", ErrorMessage: "try later" })),
    }));
    const errors = captureErrors();
    await expect(
      new EventBridgePublisher({ eventBusName: "default", putEvents: fake.putEvents }).publish([
        registered(7),
      ]),
    ).resolves.toBeUndefined();
    expect(fake.calls).toHaveLength(2);
    const logged = errors.map((line) => JSON.parse(line));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: "ERROR",
      message: "event not published to EventBridge",
      detail_type: "Node Registered",
      request_id: "request-7",
      error: "InternalFailure: try later",
    });
  });

  it("retries a whole batch when the call itself fails, and never throws into the caller", async () => {
    const fake = fakePutEvents(() =>
      Object.assign(new Error("connect ECONNREFUSED"), { name: "NetworkError" }),
    );
    const errors = captureErrors();
    await expect(
      new EventBridgePublisher({ eventBusName: "default", putEvents: fake.putEvents }).publish(
        Array.from({ length: 12 }, (_, i) => registered(i)),
      ),
    ).resolves.toBeUndefined();
    expect(fake.calls.map((call) => call.Entries.length)).toEqual([10, 2, 10, 2]);
    expect(errors).toHaveLength(12);
    expect(errors[0]).toContain("NetworkError: connect ECONNREFUSED");
  });

  it("treats an answer with a failure count but no per-entry results as all failed", async () => {
    const fake = fakePutEvents((_input, call) =>
      call === 1 ? { FailedEntryCount: 1 } : { FailedEntryCount: 0 },
    );
    await new EventBridgePublisher({ eventBusName: "default", putEvents: fake.putEvents }).publish([
      registered(0),
      registered(1),
    ]);
    expect(fake.calls.map((call) => call.Entries.length)).toEqual([2, 2]);
  });

  it("leaves out an event whose detail does not match its schema, and says so", async () => {
    const fake = fakePutEvents(accepted);
    const errors = captureErrors();
    const bad = {
      detailType: NODE_REGISTERED,
      detail: { ...registered().detail, secret: SECRET },
    } as unknown as ValenceEvent;
    await new EventBridgePublisher({ eventBusName: "default", putEvents: fake.putEvents }).publish([
      bad,
      registered(1),
    ]);
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]?.Entries).toHaveLength(1);
    expect(JSON.stringify(fake.calls)).not.toContain(SECRET);
    expect(errors.join("")).toContain("does not match its schema");
    expect(errors.join("")).not.toContain(SECRET);
  });

  it("makes no call for no events", async () => {
    const fake = fakePutEvents(accepted);
    await new EventBridgePublisher({ eventBusName: "default", putEvents: fake.putEvents }).publish([]);
    expect(fake.calls).toHaveLength(0);
  });
});

describe("JsonLinesFilePublisher", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "valence-events-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("appends one line per event, in EventBridge's delivery shape, to a file of mode 0600", async () => {
    const path = join(tempDir(), "events.jsonl");
    const publisher = new JsonLinesFilePublisher(path);
    await publisher.publish([registered(0), registered(1)]);
    await publisher.publish([registered(2)]);
    const lines = readFileSync(path, "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      version: "0",
      source: "valence",
      "detail-type": "Node Registered",
      time: AT.toISOString(),
      resources: [],
      detail: registered(0).detail,
    });
    expect(lines[0].id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.map((line) => line.detail.node.name)).toEqual(["node-0", "node-1", "node-2"]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("tightens an existing file to 0600", async () => {
    const path = join(tempDir(), "events.jsonl");
    writeFileSync(path, "", { mode: 0o644 });
    await new JsonLinesFilePublisher(path).publish([registered()]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("keeps the lines of publishes made at once whole", async () => {
    const path = join(tempDir(), "events.jsonl");
    const publisher = new JsonLinesFilePublisher(path);
    await Promise.all(Array.from({ length: 20 }, (_, i) => publisher.publish([registered(i)])));
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    expect(lines.map((line) => JSON.parse(line).detail.node.name)).toEqual(
      Array.from({ length: 20 }, (_, i) => `node-${i}`),
    );
  });

  it("logs a write it cannot make and does not throw", async () => {
    const dir = tempDir();
    const errors = captureErrors();
    // A directory where the file should be: the open fails.
    await expect(new JsonLinesFilePublisher(dir).publish([registered()])).resolves.toBeUndefined();
    expect(errors.join("")).toContain("events not written to the events file");
  });
});

describe("publishQuietly and the no-op publisher", () => {
  it("swallows a publisher that throws, and logs it", async () => {
    const errors = captureErrors();
    const broken: EventPublisher = {
      publish: async () => {
        throw new Error("broken");
      },
    };
    await expect(publishQuietly(broken, [registered()])).resolves.toBeUndefined();
    expect(errors.join("")).toContain("events not published");
  });

  it("publishes nothing without a publisher or events", async () => {
    const publish = vi.fn(async () => {});
    await publishQuietly(undefined, [registered()]);
    await publishQuietly({ publish }, []);
    expect(publish).not.toHaveBeenCalled();
    await expect(new NoopEventPublisher().publish([registered()])).resolves.toBeUndefined();
  });

  it("gives every entry the event's own time", () => {
    expect(toEntry(registered()).Time.toISOString()).toBe(AT.toISOString());
  });
});

describe("eventPublisherFor", () => {
  it("publishes to EventBridge when VALENCE_EVENT_BUS_NAME names a bus", () => {
    expect(eventPublisherFor(parseConfig({ VALENCE_EVENT_BUS_NAME: "valence-events" }))).toBeInstanceOf(
      EventBridgePublisher,
    );
    expect(
      eventPublisherFor(
        parseConfig({ VALENCE_EVENT_BUS_NAME: "arn:aws:events:eu-west-1:123456789012:event-bus/valence" }),
      ),
    ).toBeInstanceOf(EventBridgePublisher);
  });

  it("writes to a file in the local stack and publishes nowhere otherwise", () => {
    expect(eventPublisherFor(parseConfig({ VALENCE_LOCAL: "true" }))).toBeInstanceOf(JsonLinesFilePublisher);
    expect(eventPublisherFor(parseConfig({}))).toBeInstanceOf(NoopEventPublisher);
  });

  it("refuses a bus name that is neither a name nor an event bus ARN", () => {
    expect(() => parseConfig({ VALENCE_EVENT_BUS_NAME: "bad bus!" })).toThrow(/VALENCE_EVENT_BUS_NAME/);
    expect(() => parseConfig({ VALENCE_EVENT_BUS_NAME: "arn:aws:sqs:eu-west-1:123456789012:queue" })).toThrow(
      /VALENCE_EVENT_BUS_NAME/,
    );
  });
});
