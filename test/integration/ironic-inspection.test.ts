import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import { startTestApi, type TestApi } from "../support/local-api.ts";
import { followOperation } from "../support/operations.ts";

interface NodeBody {
  uuid: string;
  ironic_node_uuid: string | null;
  hardware: { cpus: number; memory_mb: number; local_gb: number; cpu_arch: string };
}

/**
 * Ironic's own out-of-band inspection (the `redfish` inspect interface, reading the emulator through sushy) of a
 * node Valence registered leaves its properties as Valence wrote them: Valence computes them as Ironic does.
 * Before, test-node-2 (2 × Xeon 8 cores / 16 threads, 64 GiB, one 240 GB drive) was registered with
 * `cpus: 16, local_gb: 223`, and inspection rewrote them to 32 and 222.
 */
describe("Ironic's inspection of a registered node (real Ironic, emulator, dynalite)", () => {
  let api: TestApi;
  let ironic: IronicDriver;

  beforeAll(async () => {
    api = await startTestApi({ demo: true, ironic: "start" });
    ironic = createIronicDriver({ url: api.stack.ironicUrl as string, auth: { type: "none" } });
  });
  afterAll(() => api?.stop());

  async function registerAndManage(node: string): Promise<{ before: NodeBody; uuid: string }> {
    const before = (await api.call<NodeBody>("GET", `/v1/nodes/${node}`)).body;
    const registered = await api.call<NodeBody>("POST", `/v1/nodes/${node}/register`);
    expect(registered.status).toBe(200);
    const managed = await api.call("POST", `/v1/nodes/${node}/manage`);
    expect(managed.status).toBe(202);
    const operation = await followOperation(api.call, managed.body.id);
    expect(operation.state).toBe("succeeded");
    return { before, uuid: registered.body.ironic_node_uuid as string };
  }

  async function inspectWithIronic(uuid: string) {
    const managed = await ironic.getNode(uuid);
    expect(managed.provision_state).toBe("manageable");
    expect(managed.inspect_interface).toBe("redfish");
    await ironic.setProvisionState(uuid, "inspect");
    try {
      return await ironic.waitForProvisionState(uuid, { target: "manageable", timeoutMs: 120_000 });
    } catch (error) {
      throw new Error(`inspection did not end in manageable: ${(await ironic.getNode(uuid)).last_error}`, {
        cause: error,
      });
    }
  }

  it.each([
    // name, what the emulator composed, what Valence registers (= Ironic's inspection)
    ["test-node-2", "2 × 8-core/16-thread x86, 64 GiB, 240 GB NVMe (was cpus 16, local_gb 223)"],
  ])("%s (%s): inspection changes none of cpus, memory_mb, local_gb, cpu_arch", async (node) => {
    const { before, uuid } = await registerAndManage(node);
    expect(before.hardware).toMatchObject({ cpus: 32, memory_mb: 65_536, local_gb: 222, cpu_arch: "x86_64" });

    const inspected = await inspectWithIronic(uuid);
    // Ironic 21.4 writes memory_mb and local_gb as strings: they are its own values, not ours left alone.
    expect(inspected.inspection_finished_at).toEqual(expect.any(String));
    expect(inspected.properties).toMatchObject({
      memory_mb: expect.any(String),
      local_gb: expect.any(String),
    });
    const { cpus, memory_mb, local_gb, cpu_arch } = inspected.properties as Record<string, unknown>;
    expect({
      cpus: Number(cpus),
      memory_mb: Number(memory_mb),
      local_gb: Number(local_gb),
      cpu_arch,
    }).toEqual({
      cpus: before.hardware.cpus,
      memory_mb: before.hardware.memory_mb,
      local_gb: before.hardware.local_gb,
      cpu_arch: before.hardware.cpu_arch,
    });
  });
});
