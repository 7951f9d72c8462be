import { mkdirSync, readFileSync, renameSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import type { ReconcileSummary } from "../../lib/nodes/reconciler.ts";
import { DEMO_CREDENTIALS } from "../../local/stack.ts";
import { startTestApi, type TestApi } from "../support/local-api.ts";
import { followOperation } from "../support/operations.ts";

interface DeliveredEvent {
  version: string;
  id: string;
  "detail-type": string;
  source: string;
  time: string;
  // biome-ignore lint/suspicious/noExplicitAny: the test reads loosely typed JSON
  detail: any;
}

/** The local stack's events: `<data dir>/events.jsonl`, through the API, with the real Ironic and emulator. */
describe("events (local stack: JSON-lines file, real Ironic, emulator, dynalite)", () => {
  let api: TestApi;
  let ironic: IronicDriver;
  let eventsFile: string;

  beforeAll(async () => {
    api = await startTestApi({ demo: true, ironic: "start" });
    ironic = createIronicDriver({ url: api.stack.ironicUrl as string, auth: { type: "none" } });
    eventsFile = join(api.stack.config.VALENCE_DATA_DIR, "events.jsonl");
  });
  afterAll(() => api?.stop());

  const events = (): DeliveredEvent[] => {
    try {
      return readFileSync(eventsFile, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    } catch {
      return [];
    }
  };

  it("appends Node Registered, Operation Started/Finished and Node Unregistered for a register with manage and an unregister", async () => {
    const before = events().length;
    const node = (await api.call("GET", "/v1/nodes/test-node")).body;

    const registered = await api.call("POST", "/v1/nodes/test-node/register", { manage: true });
    expect(registered.status).toBe(202);
    const operation = await followOperation(api.call, registered.body.operation.id);
    expect(operation.state).toBe("succeeded");
    const ironicNodeUuid = registered.body.ironic_node_uuid as string;
    const unregistered = await api.call("POST", "/v1/nodes/test-node/unregister");
    expect(unregistered.status).toBe(200);

    const appended = events().slice(before);
    expect(appended.map((event) => event["detail-type"])).toEqual([
      "Node Registered",
      "Operation Started",
      "Operation Finished",
      "Node Unregistered",
    ]);
    const [register, started, finished, unregister] = appended;
    expect(started).toMatchObject({
      detail: { operation: { id: operation.id, kind: "register", node_uuid: node.uuid } },
    });
    expect(finished).toMatchObject({ detail: { operation: { id: operation.id }, outcome: "succeeded" } });
    expect(register).toMatchObject({
      version: "0",
      source: "valence",
      detail: {
        version: "1",
        node: { uuid: node.uuid, name: "test-node", podm_id: node.podm_id, ironic_node_uuid: ironicNodeUuid },
        action: "register",
        outcome: "succeeded",
        provision_state: "enroll",
        request_id: registered.headers.get("x-request-id"),
      },
    });
    expect(register?.time).toBe(register?.detail.at);
    expect(unregister).toMatchObject({
      source: "valence",
      detail: {
        node: { uuid: node.uuid, name: "test-node", ironic_node_uuid: ironicNodeUuid },
        action: "unregister",
        outcome: "succeeded",
        request_id: unregistered.headers.get("x-request-id"),
      },
    });
    expect(statSync(eventsFile).mode & 0o777).toBe(0o600);
  });

  it("appends Node Registration Failed for a register that fails, and nothing for one refused up front", async () => {
    const before = events().length;
    const refused = await api.call("POST", "/v1/nodes/no-such-node/register", {});
    expect(refused.status).toBe(404);

    const failed = await api.call("POST", "/v1/nodes/test-node-2/register", {
      boot_mac: "02:00:00:00:00:99",
    });
    expect(failed.status).toBe(400);

    const appended = events().slice(before);
    expect(appended).toHaveLength(1);
    expect(appended[0]).toMatchObject({
      "detail-type": "Node Registration Failed",
      detail: {
        node: { name: "test-node-2", ironic_node_uuid: null },
        action: "register",
        outcome: "failed",
        request_id: failed.headers.get("x-request-id"),
      },
    });
    expect(appended[0]?.detail.message).toContain("02:00:00:00:00:99");
  });

  it("appends Node Drift when the reconciler finds a registered node's Ironic node gone", async () => {
    const registered = await api.call("POST", "/v1/nodes/test-node-2/register", {});
    expect(registered.status).toBe(200);
    const ironicNodeUuid = registered.body.ironic_node_uuid as string;
    await ironic.deleteNode(ironicNodeUuid);
    const before = events().length;

    const pass = await api.call<ReconcileSummary>("POST", "/v1/reconcile");
    expect(pass.body.drift).toBe(1);

    const appended = events().slice(before);
    expect(appended).toHaveLength(1);
    expect(appended[0]).toMatchObject({
      "detail-type": "Node Drift",
      detail: {
        node: { name: "test-node-2", ironic_node_uuid: ironicNodeUuid },
        action: "drift",
        outcome: "succeeded",
        actor: "reconciler",
      },
    });
  });

  it("appends Node Registered (adopt) when the reconciler adopts an Ironic node marked as one of ours", async () => {
    const node = (await api.call("GET", "/v1/nodes/test-node-2")).body;
    expect(node.managed_by).toBe("valence");
    const marked = await ironic.createNode({
      name: "test-node-2",
      driver: "fake-hardware",
      extra: { valence_node_uuid: node.uuid },
    });
    const before = events().length;

    const pass = await api.call<ReconcileSummary>("POST", "/v1/reconcile");
    expect(pass.body.adopted).toBe(1);

    const appended = events().slice(before);
    expect(appended).toHaveLength(1);
    expect(appended[0]).toMatchObject({
      "detail-type": "Node Registered",
      detail: {
        node: { uuid: node.uuid, name: "test-node-2", ironic_node_uuid: marked.uuid },
        action: "adopt",
        outcome: "succeeded",
        actor: "reconciler",
        provision_state: "enroll",
      },
    });
  });

  it("never carries a credential", () => {
    const text = readFileSync(eventsFile, "utf8");
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(DEMO_CREDENTIALS.password);
    expect(text).not.toContain(Buffer.from(DEMO_CREDENTIALS.password).toString("base64"));
  });

  it("registers and unregisters all the same when the events cannot be written, and logs why", async () => {
    // A directory where the file should be: every append fails.
    const kept = `${eventsFile}.kept`;
    renameSync(eventsFile, kept);
    mkdirSync(eventsFile);
    try {
      const logged = api.logs.length;
      const registered = await api.call("POST", "/v1/nodes/test-node/register", {});
      expect(registered.status).toBe(200);
      expect(registered.body.managed_by).toBe("ironic");
      const unregistered = await api.call("POST", "/v1/nodes/test-node/unregister");
      expect(unregistered.status).toBe(200);
      const failures = api.logs.slice(logged).filter((line) => line.includes("events not written"));
      expect(failures).toHaveLength(2);
    } finally {
      rmdirSync(eventsFile);
      renameSync(kept, eventsFile);
    }
  });
});
