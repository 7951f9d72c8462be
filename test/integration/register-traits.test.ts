import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import { DEFAULT_HARDWARE_RULES } from "../../lib/nodes/hardware-traits.ts";
import { gpuInventory } from "../../local/redfish-emulator/index.ts";
import { startTestApi, type TestApi } from "../support/local-api.ts";

interface NodeBody {
  uuid: string;
  name: string;
  managed_by: string;
  ironic_node_uuid: string | null;
  hardware: { nics: { mac: string; enabled: boolean }[] };
  traits?: string[] | null;
  resource_class?: string | null;
}

/** The shipped rules, and before them one that gives GPU nodes their own resource class. */
const RULES = {
  rules: [
    { name: "gpu-class", when: { processor: { type: "GPU" } }, resource_class: "baremetal-gpu" },
    ...DEFAULT_HARDWARE_RULES.rules,
  ],
};

const GPU_TRAITS = ["CUSTOM_GPU", "CUSTOM_GPU_COUNT_4", "CUSTOM_GPU_NVIDIA_A100"];

/**
 * Traits and resource class from the composition, through the API, against a real Ironic (API 1.82) and the
 * emulator composing a GPU offload block with a compute block.
 */
describe("traits and resource class at register (real Ironic, emulator, dynalite)", () => {
  let api: TestApi;
  let ironic: IronicDriver;
  let gpuNode: NodeBody;

  beforeAll(async () => {
    api = await startTestApi({
      demo: true,
      ironic: "start",
      emulatorInventory: gpuInventory(),
      env: { VALENCE_HARDWARE_RULES: JSON.stringify(RULES) },
    });
    ironic = createIronicDriver({ url: api.stack.ironicUrl as string, auth: { type: "none" } });
    const podmId = (await api.call("GET", "/v1/pod_managers")).body[0].uuid;
    // The demo composed the first two compute blocks; this one takes the third, four A100s and an NVMe drive.
    const composed = await api.call<NodeBody>("POST", "/v1/nodes", {
      name: "gpu-node",
      podm_id: podmId,
      resource_blocks: ["ComputeBlock3", "OffloadBlock1", "DriveBlock1"],
    });
    expect(composed.status, composed.text).toBe(201);
    gpuNode = composed.body;
  });
  afterAll(() => api?.stop());

  it("dry run: answers the plan and changes nothing in Ironic, the store or the history", async () => {
    const ironicBefore = await ironic.findNodes({ fields: ["uuid"] });
    const portsBefore = await ironic.listPorts();
    const storeBefore = await api.scan();

    const response = await api.call("POST", "/v1/nodes/gpu-node/register?dry_run=true", {
      traits: { add: ["CUSTOM_RACK_7"] },
    });

    expect(response.status, response.text).toBe(200);
    const macs = gpuNode.hardware.nics.map((nic) => nic.mac);
    expect(response.body).toMatchObject({
      dry_run: true,
      action: "create",
      node: { uuid: gpuNode.uuid, name: "gpu-node" },
      ironic_node: {
        uuid: null,
        name: "gpu-node",
        driver: "redfish",
        driver_info: { redfish_password: "******" },
        properties: { cpus: 64, cpu_arch: "x86_64" },
        resource_class: "baremetal-gpu",
      },
      ports: {
        create: macs.map((mac, index) => ({ address: mac, pxe_enabled: index === 0 })),
        keep: [],
        conflicting: [],
      },
    });
    expect(response.body.ironic_node.traits).toEqual(
      expect.arrayContaining([...GPU_TRAITS, "CUSTOM_NVME", "CUSTOM_RACK_7"]),
    );

    expect(await ironic.findNodes({ fields: ["uuid"] })).toEqual(ironicBefore);
    expect(await ironic.listPorts()).toEqual(portsBefore);
    expect(await api.scan()).toEqual(storeBefore);
    expect((await api.call("GET", "/v1/nodes/gpu-node/history")).body).toEqual([]);
  });

  it("registers a GPU-composed node with the GPU traits and the configured resource class", async () => {
    const response = await api.call<NodeBody>("POST", "/v1/nodes/gpu-node/register");
    expect(response.status, response.text).toBe(200);
    const ironicUuid = response.body.ironic_node_uuid as string;

    const traits = await ironic.getTraits(ironicUuid);
    expect(traits).toEqual(expect.arrayContaining([...GPU_TRAITS, "CUSTOM_NVME", "STORAGE_DISK_SSD"]));
    expect((await ironic.getNode(ironicUuid)).resource_class).toBe("baremetal-gpu");
    // Shown on our node as Ironic has them.
    expect(response.body.traits).toEqual([...traits].sort());
    expect(response.body.resource_class).toBe("baremetal-gpu");
    expect((await api.call<NodeBody>("GET", "/v1/nodes/gpu-node")).body).toMatchObject({
      traits: response.body.traits,
      resource_class: "baremetal-gpu",
    });
  });

  it("registers a CPU-only node without GPU traits, in the default class, with the body's traits added", async () => {
    const response = await api.call<NodeBody>("POST", "/v1/nodes/test-node/register", {
      traits: { add: ["CUSTOM_RACK_7"], remove: ["HW_ARCH_X86_64"] },
    });
    expect(response.status, response.text).toBe(200);
    const ironicUuid = response.body.ironic_node_uuid as string;

    const traits = await ironic.getTraits(ironicUuid);
    expect(traits).toContain("CUSTOM_RACK_7");
    expect(traits).not.toContain("HW_ARCH_X86_64");
    expect(traits.filter((trait) => trait.includes("GPU"))).toEqual([]);
    expect((await ironic.getNode(ironicUuid)).resource_class).toBe("baremetal");
  });
});
