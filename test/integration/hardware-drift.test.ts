import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import type { Node } from "../../lib/nodes/model.ts";
import { NODE_MARK } from "../../lib/nodes/ownership.ts";
import type { ReconcileSummary } from "../../lib/nodes/reconciler.ts";
import type { OperationView } from "../../lib/operations/model.ts";
import type { RedfishEmulator } from "../../local/redfish-emulator/index.ts";
import { defaultInventory } from "../../local/redfish-emulator/inventory.ts";
import { DEMO_CREDENTIALS } from "../../local/stack.ts";
import { startTestApi, type TestApi } from "../support/local-api.ts";
import { followOperation } from "../support/operations.ts";

const BLOCKS = "/redfish/v1/CompositionService/ResourceBlocks";
const GB = 1_000_000_000;

/**
 * Composition drift through the API, against the real Ironic, the emulator and dynalite: a resource block added
 * to a composed system (the emulator's DMTF `#ComputerSystem.AddResourceBlock`) under a registered node.
 * Two compute blocks without onboard drives, so a drive block added moves `local_gb` (Ironic takes the smallest
 * drive of at least 4 GiB, in GiB, minus 1): 0 without drives, 297 with DriveBlock4's 320 GB (298 GiB).
 */
describe("composition drift (real Ironic, emulator, dynalite)", () => {
  let api: TestApi;
  let ironic: IronicDriver;
  let emulator: RedfishEmulator;
  let podmId: string;

  beforeAll(async () => {
    const inventory = defaultInventory();
    const diskless = (id: string) => ({
      id,
      processors: [{ model: "Intel(R) Xeon(R) Gold 6134 CPU", cores: 8, threads: 16 }],
      memory: [{ capacityMiB: 16_384 }, { capacityMiB: 16_384 }],
      nics: [{ speedMbps: 25_000 }, { speedMbps: 25_000 }],
    });
    inventory.computeBlocks.push(diskless("ComputeBlock5"), diskless("ComputeBlock6"));
    inventory.driveBlocks.push(
      { id: "DriveBlock4", drives: [{ capacityBytes: 320 * GB }] },
      { id: "DriveBlock5", drives: [{ capacityBytes: 320 * GB }] },
    );
    api = await startTestApi({ demo: true, ironic: "start", emulatorInventory: inventory });
    ironic = createIronicDriver({ url: api.stack.ironicUrl as string, auth: { type: "none" } });
    emulator = api.stack.emulator as RedfishEmulator;
    podmId = (await api.call("GET", "/v1/pod_managers")).body[0].uuid;
  });
  afterAll(() => api?.stop());

  const reconcile = async () => {
    const response = await api.call<ReconcileSummary>("POST", "/v1/reconcile");
    expect(response.status).toBe(200);
    return response.body;
  };
  const node = async (name: string) => (await api.call<Node>("GET", `/v1/nodes/${name}`)).body;
  const history = async (name: string) =>
    (
      await api.call<Array<{ action: string; outcome: string; detail?: string }>>(
        "GET",
        `/v1/nodes/${name}/history`,
      )
    ).body;

  /** Composes `name` of one diskless compute block, registers it and manages it: `manageable` in Ironic. */
  async function registeredManageable(name: string, computeBlock: string) {
    const composed = await api.call("POST", "/v1/nodes", {
      name,
      podm_id: podmId,
      resource_blocks: [`${BLOCKS}/${computeBlock}`],
    });
    expect(composed.status, composed.text).toBe(201);
    const registered = await api.call<Node>("POST", `/v1/nodes/${name}/register`);
    expect(registered.status, registered.text).toBe(200);
    const managed = await api.call("POST", `/v1/nodes/${name}/manage`);
    expect(managed.status).toBe(202);
    expect((await followOperation(api.call, managed.body.id)).state).toBe("succeeded");
    const uuid = registered.body.ironic_node_uuid as string;
    expect((await ironic.getNode(uuid)).properties).toMatchObject({ local_gb: 0 });
    return { uuid, systemId: (await node(name)).index };
  }

  /** The emulator's DMTF actions, as another user of the pod manager would send them. */
  async function addResourceBlock(systemId: string, block: string, action = "AddResourceBlock") {
    const response = await fetch(
      `${emulator.url}/redfish/v1/Systems/${systemId}/Actions/ComputerSystem.${action}`,
      {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Authorization: `Basic ${Buffer.from(`${DEMO_CREDENTIALS.username}:${DEMO_CREDENTIALS.password}`).toString("base64")}`,
        },
        body: JSON.stringify({ ResourceBlock: { "@odata.id": `${BLOCKS}/${block}` } }),
      },
    );
    expect(response.status).toBe(204);
  }

  it("a block added while the node is manageable re-syncs it within one reconcile pass", async () => {
    const { uuid, systemId } = await registeredManageable("drift-rest", "ComputeBlock5");
    // A port someone else made on the node: never Valence's to touch.
    const foreign = await ironic.createPort({
      node_uuid: uuid,
      address: "52:54:00:aa:bb:01",
      pxe_enabled: false,
    });
    const oursBefore = (await ironic.listPorts({ node_uuid: uuid }))
      .filter((port) => port.extra?.[NODE_MARK])
      .map((port) => port.address)
      .sort();
    expect(oursBefore).toHaveLength(2);
    await reconcile(); // the composition as registered is known
    await addResourceBlock(systemId, "DriveBlock4");

    const summary = await reconcile();
    expect(summary).toMatchObject({ hardware_drift: 1, hardware_synced: 1, errors: 0 });
    const operations = (await api.call<OperationView[]>("GET", "/v1/nodes/drift-rest/operations")).body;
    const sync = operations.find((operation) => operation.kind === "hardware_sync");
    if (!sync) throw new Error(`no hardware_sync operation: ${JSON.stringify(operations)}`);
    const ended = await followOperation(api.call, sync.id);
    expect(ended.state, JSON.stringify(ended.steps)).toBe("succeeded");

    const synced = await ironic.getNode(uuid);
    expect(synced.provision_state).toBe("manageable");
    expect(synced.properties).toMatchObject({
      local_gb: 297,
      cpus: 16,
      memory_mb: 32_768,
      cpu_arch: "x86_64",
    });
    const ports = await ironic.listPorts({ node_uuid: uuid });
    expect(ports.map((port) => port.address).sort()).toEqual([...oursBefore, foreign.address].sort());
    const view = await node("drift-rest");
    expect(view.hardware.local_gb).toBe(297);
    expect(view.hardware_drift ?? null).toBeNull();
    expect(view.composition?.links).toContain(`ResourceBlocks:${BLOCKS}/DriveBlock4`);
    const events = await history("drift-rest");
    const drift = events.find((event) => event.action === "hardware_drift");
    expect(drift?.detail).toContain(`blocks added ResourceBlocks:${BLOCKS}/DriveBlock4`);
    expect(drift?.detail).toContain("local_gb 0 → 297");
    expect(events.find((event) => event.action === "hardware_sync")?.outcome).toBe("succeeded");

    // The next pass finds the composition as recorded: nothing more.
    expect(await reconcile()).toMatchObject({ hardware_drift: 0, hardware_synced: 0, errors: 0 });

    // The block removed again: Ironic follows back.
    await addResourceBlock(systemId, "DriveBlock4", "RemoveResourceBlock");
    expect(await reconcile()).toMatchObject({ hardware_drift: 1, hardware_synced: 1, errors: 0 });
    const again = (await api.call<OperationView[]>("GET", "/v1/nodes/drift-rest/operations")).body.filter(
      (operation) => operation.kind === "hardware_sync" && operation.id !== sync.id,
    );
    expect(again).toHaveLength(1);
    expect((await followOperation(api.call, (again[0] as OperationView).id)).state).toBe("succeeded");
    expect((await ironic.getNode(uuid)).properties).toMatchObject({ local_gb: 0 });
    expect(
      (await history("drift-rest")).find((event) => event.action === "hardware_drift")?.detail,
    ).toContain(`blocks removed ResourceBlocks:${BLOCKS}/DriveBlock4`);
  });

  it("a block added while Ironic uses the node (active) only flags it, Ironic alone; once it rests it re-syncs", async () => {
    const { uuid, systemId } = await registeredManageable("drift-active", "ComputeBlock6");
    // Ironic's adopt takes a manageable node to active without deploying.
    await ironic.updateNode(uuid, [
      { op: "add", path: "/instance_info/image_source", value: "http://127.0.0.1/image.qcow2" },
    ]);
    await ironic.setProvisionState(uuid, "adopt");
    await ironic.waitForProvisionState(uuid, { target: "active", timeoutMs: 60_000 });
    await reconcile();
    const before = await ironic.getNode(uuid);
    const portsBefore = (await ironic.listPorts({ node_uuid: uuid })).map((port) => port.address).sort();
    await addResourceBlock(systemId, "DriveBlock5");

    const summary = await reconcile();
    expect(summary).toMatchObject({ hardware_drift: 1, hardware_synced: 0, errors: 0 });
    const after = await ironic.getNode(uuid);
    expect(after.provision_state).toBe("active");
    expect(after.properties).toEqual(before.properties);
    expect((await ironic.listPorts({ node_uuid: uuid })).map((port) => port.address).sort()).toEqual(
      portsBefore,
    );
    const view = await node("drift-active");
    expect(view.hardware.local_gb).toBe(0);
    expect(view.hardware_drift?.changes).toMatchObject({
      blocks_added: [`ResourceBlocks:${BLOCKS}/DriveBlock5`],
      properties: [{ name: "local_gb", before: "0", after: "297" }],
    });
    expect(view.operation ?? null).toBeNull();
    expect((await history("drift-active")).map((event) => event.action)).toContain("hardware_drift");

    // Still in use on the next pass: still flagged, Ironic still untouched, nothing started.
    expect(await reconcile()).toMatchObject({ hardware_synced: 0, errors: 0 });
    expect((await ironic.getNode(uuid)).properties).toEqual(before.properties);
    expect((await node("drift-active")).hardware_drift?.since).toBe(view.hardware_drift?.since);

    // The instance goes (undeploy; no automated cleaning locally): the first pass that finds it at rest re-syncs.
    await ironic.setProvisionState(uuid, "deleted");
    await ironic.waitForProvisionState(uuid, { target: "available", timeoutMs: 60_000 });
    expect(await reconcile()).toMatchObject({ hardware_synced: 1, errors: 0 });
    const sync = (await api.call<OperationView[]>("GET", "/v1/nodes/drift-active/operations")).body.find(
      (operation) => operation.kind === "hardware_sync",
    );
    if (!sync) throw new Error("no hardware_sync operation once the node rested");
    expect((await followOperation(api.call, sync.id)).state).toBe("succeeded");
    expect((await ironic.getNode(uuid)).properties).toMatchObject({ local_gb: 297 });
    const rested = await node("drift-active");
    expect(rested.hardware_drift ?? null).toBeNull();
    expect(rested.hardware.local_gb).toBe(297);
  });
});
