import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import type { Node } from "../../lib/nodes/model.ts";
import type { ReconcileSummary } from "../../lib/nodes/reconciler.ts";
import { RegistrationService } from "../../lib/nodes/registration-service.ts";
import type { NodeRepository } from "../../lib/nodes/repository.ts";
import { RegisterNodeBody } from "../../lib/nodes/schemas.ts";
import {
  deploymentIdentity,
  ironicDriver,
  nodeRepository,
  nodeService,
  podManagerSessions,
} from "../../lib/runtime.ts";
import { poolInventory } from "../../local/pool.ts";
import { composeNode, startTestApi, type TestApi } from "../support/local-api.ts";
import { registerAndSettle } from "../support/operations.ts";

interface NodeBody extends Node {
  uuid: string;
}

const context = () => ({ requestId: randomUUID(), principal: "test", remainingMs: () => 60_000 });

/** A register or unregister that dies part-way: its Ironic calls or its store writes start failing for good. */
function crashingDriver(real: IronicDriver, crashAt: "createPort" | "never"): IronicDriver {
  let ports = 0;
  const crashed = { value: false };
  const proxy: IronicDriver = new Proxy(real, {
    get(target, property, receiver) {
      if (property === "withContext" || property === "withRequestId") return () => proxy;
      const original = Reflect.get(target, property, receiver);
      if (typeof original !== "function") return original;
      return async (...args: unknown[]) => {
        if (crashed.value) throw new Error("process died");
        if (property === "createPort" && crashAt === "createPort" && ++ports === 2) {
          crashed.value = true;
          throw new Error("process died");
        }
        return (original as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return proxy;
}

function failingFinalWrites(real: NodeRepository): NodeRepository {
  return new Proxy(real, {
    get(target, property, receiver) {
      const original = Reflect.get(target, property, receiver);
      if (property !== "update") return typeof original === "function" ? original.bind(target) : original;
      return async (
        uuid: string,
        guard: Parameters<NodeRepository["update"]>[1],
        changes: Parameters<NodeRepository["update"]>[2],
      ) => {
        // The intent is written; everything after it is lost with the process.
        if (changes.intent && changes.intent !== null) return target.update(uuid, guard, changes);
        throw new Error("process died");
      };
    },
  });
}

describe("reconcile (real Ironic, emulator, dynalite)", () => {
  let api: TestApi;
  let ironic: IronicDriver;
  let podmId: string;

  beforeAll(async () => {
    // Intents older than a second count as interrupted, so the tests need not wait 16 minutes.
    api = await startTestApi({
      demo: true,
      ironic: "start",
      emulatorInventory: poolInventory(16),
      env: { VALENCE_INTENT_STALE_SECONDS: "1" },
    });
    ironic = createIronicDriver({ url: api.stack.ironicUrl as string, auth: { type: "none" } });
    podmId = (await api.call("GET", "/v1/pod_managers")).body[0].uuid;
  });
  afterAll(() => api?.stop());

  const compose = (name: string) => composeNode<NodeBody>(api, podmId, name);
  const reconcile = async () => {
    const response = await api.call<ReconcileSummary>("POST", "/v1/reconcile");
    expect(response.status).toBe(200);
    return response.body;
  };
  const node = async (id: string) => (await api.call<NodeBody>("GET", `/v1/nodes/${id}`)).body;
  const history = async (id: string) =>
    (
      await api.call<Array<{ action: string; actor: string; outcome: string }>>(
        "GET",
        `/v1/nodes/${id}/history`,
      )
    ).body;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const allQuiet = (summary: ReconcileSummary) =>
    expect(summary).toMatchObject({
      drift: 0,
      finished: 0,
      rolled_back: 0,
      adopted: 0,
      missing: 0,
      synced: 0,
      errors: 0,
    });

  it("settles every case in one pass, and a second pass changes nothing", async () => {
    // 1. Drift: registered, then deleted with Ironic's own API.
    const drifted = await compose("case-drift");
    const registered = await api.call<NodeBody>("POST", `/v1/nodes/${drifted.uuid}/register`);
    await ironic.deleteNode(registered.body.ironic_node_uuid as string);

    // 2a. A register that died after the node create and one port: incomplete, to be rolled back.
    const halfway = await compose("case-halfway");
    const dying = new RegistrationService({
      nodes: nodeRepository(),
      finder: nodeService(),
      sessions: podManagerSessions(),
      ironic: async () => crashingDriver(await ironicDriver(), "createPort"),
      defaultResourceClass: "baremetal",
      deployment: deploymentIdentity(),
    });
    await expect(dying.register(halfway.uuid, RegisterNodeBody.parse({}), context())).rejects.toThrow();
    expect((await node(halfway.uuid)).intent?.op).toBe("registering");
    expect((await ironic.findNodes()).filter((n) => n.extra.valence_node_uuid === halfway.uuid)).toHaveLength(
      1,
    );

    // 2b. A register that died after all of Ironic's work, before its final write: complete, to be finished.
    const almost = await compose("case-almost");
    const unrecorded = new RegistrationService({
      nodes: failingFinalWrites(nodeRepository()),
      finder: nodeService(),
      sessions: podManagerSessions(),
      ironic: async () => crashingDriver(await ironicDriver(), "never"),
      defaultResourceClass: "baremetal",
      deployment: deploymentIdentity(),
    });
    await expect(unrecorded.register(almost.uuid, RegisterNodeBody.parse({}), context())).rejects.toThrow();
    // Its rollback deleted the Ironic node; recreate what a process killed before rollback leaves behind.
    expect((await node(almost.uuid)).intent?.op).toBe("registering");
    const survivor = await ironic.createNode({
      name: "case-almost",
      driver: "fake-hardware",
      extra: { valence_node_uuid: almost.uuid },
    });
    for (const nic of almost.hardware.nics.filter((n) => n.enabled)) {
      await ironic.createPort({ node_uuid: survivor.uuid, address: nic.mac });
    }

    // 3. An unregister that died after deleting the Ironic node, before its final write.
    const leaving = await compose("case-leaving");
    await api.call("POST", `/v1/nodes/${leaving.uuid}/register`);
    const unfinished = new RegistrationService({
      nodes: failingFinalWrites(nodeRepository()),
      finder: nodeService(),
      sessions: podManagerSessions(),
      ironic: ironicDriver,
      defaultResourceClass: "baremetal",
      deployment: deploymentIdentity(),
    });
    await expect(unfinished.unregister(leaving.uuid, { force: false }, context())).rejects.toThrow();
    expect((await node(leaving.uuid)).intent?.op).toBe("unregistering");

    // 4. Ironic has a node marked as ours while the store says valence.
    const claimed = await compose("case-claimed");
    const foreignMade = await ironic.createNode({
      name: "case-claimed",
      driver: "fake-hardware",
      extra: { valence_node_uuid: claimed.uuid },
    });

    // 5. A registered node whose Ironic state the store should cache.
    const cached = await compose("case-cached");
    const cachedRegistration = await registerAndSettle(api.call, cached.uuid, { manage: true });
    expect(cachedRegistration.operation?.state).toBe("succeeded");

    // 6. A composed system decomposed behind Valence's back.
    const vanished = await compose("case-vanished");
    expect(api.stack.emulator?.decomposeOutOfBand(vanished.index)).toBe(true);

    await sleep(1_100); // intents become stale

    const first = await reconcile();
    expect(first).toMatchObject({ drift: 1, finished: 2, rolled_back: 1, adopted: 1, missing: 1, errors: 0 });
    expect(first.synced).toBeGreaterThanOrEqual(1);
    expect(first.checked).toBeGreaterThanOrEqual(9);

    expect(await node(drifted.uuid)).toMatchObject({ managed_by: "valence", ironic_node_uuid: null });
    expect(await node(halfway.uuid)).toMatchObject({
      managed_by: "valence",
      ironic_node_uuid: null,
      intent: null,
    });
    expect((await ironic.findNodes()).filter((n) => n.extra.valence_node_uuid === halfway.uuid)).toEqual([]);
    expect(await node(almost.uuid)).toMatchObject({
      managed_by: "ironic",
      ironic_node_uuid: survivor.uuid,
      intent: null,
    });
    expect(await node(leaving.uuid)).toMatchObject({
      managed_by: "valence",
      ironic_node_uuid: null,
      intent: null,
    });
    expect(await node(claimed.uuid)).toMatchObject({
      managed_by: "ironic",
      ironic_node_uuid: foreignMade.uuid,
    });
    expect((await node(cached.uuid)).ironic_state).toMatchObject({
      provision_state: "manageable",
      maintenance: false,
    });
    expect(await node(vanished.uuid)).toMatchObject({ status: "missing" });

    expect((await history(drifted.uuid))[0]).toMatchObject({ action: "drift", actor: "reconciler" });
    expect((await history(halfway.uuid)).map((e) => e.action)).toContain("rollback");
    expect((await history(almost.uuid))[0]).toMatchObject({ action: "finish-register", actor: "reconciler" });
    expect((await history(claimed.uuid))[0]).toMatchObject({ action: "adopt", actor: "reconciler" });
    expect((await history(drifted.uuid)).map((e) => e.action)).toEqual(["drift", "register"]);

    const versions = new Map<string, number>();
    for (const item of await api.scan())
      if (item.sk === "NODE") versions.set(item.uuid as string, item.version as number);

    const second = await reconcile();
    allQuiet(second);
    for (const item of await api.scan()) {
      if (item.sk === "NODE") expect(item.version).toBe(versions.get(item.uuid as string));
    }
  });

  it("gives the same end state when two passes run at once", async () => {
    const a = await compose("parallel-a");
    const registered = await api.call<NodeBody>("POST", `/v1/nodes/${a.uuid}/register`);
    await ironic.deleteNode(registered.body.ironic_node_uuid as string);
    const b = await compose("parallel-b");
    await ironic.createNode({
      name: "parallel-b",
      driver: "fake-hardware",
      extra: { valence_node_uuid: b.uuid },
    });

    const [one, two] = await Promise.all([reconcile(), reconcile()]);

    expect(one.drift + two.drift).toBe(1);
    expect(one.adopted + two.adopted).toBe(1);
    expect(one.errors + two.errors).toBe(0);
    expect(await node(a.uuid)).toMatchObject({ managed_by: "valence", ironic_node_uuid: null });
    expect(await node(b.uuid)).toMatchObject({ managed_by: "ironic" });
    expect((await history(a.uuid)).filter((e) => e.action === "drift")).toHaveLength(1);
    allQuiet(await reconcile());
  });

  it("pages a node's history newest first with a Link header", async () => {
    const n = await compose("history-pages");
    for (let i = 0; i < 3; i++) {
      expect((await api.call("POST", `/v1/nodes/${n.uuid}/register`)).status).toBe(200);
      expect((await api.call("POST", `/v1/nodes/${n.uuid}/unregister`)).status).toBe(200);
    }
    const first = await api.call<Array<{ action: string; at: string }>>(
      "GET",
      `/v1/nodes/${n.uuid}/history?limit=4`,
    );
    expect(first.body.map((e) => e.action)).toEqual(["unregister", "register", "unregister", "register"]);
    const link = first.headers.get("link") ?? "";
    expect(link).toContain('rel="next"');
    const next = link.slice(link.indexOf(api.stack.apiUrl) + api.stack.apiUrl.length, link.indexOf(">"));
    const second = await api.call<Array<{ action: string; at: string }>>("GET", next);
    expect(second.body.map((e) => e.action)).toEqual(["unregister", "register"]);
    expect(second.headers.get("link")).toBeNull();
    expect(first.body.every((e, i, all) => i === 0 || (all[i - 1]?.at ?? "") >= e.at)).toBe(true);
  });
});
