import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import type { RedfishEmulator } from "../../local/redfish-emulator/index.ts";
import { DEMO_CREDENTIALS } from "../../local/stack.ts";
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

  /** Valence's inspect operation: Ironic's out-of-band inspection as a step, which reports what it found. */
  async function inspectThroughValence(node: string, uuid: string) {
    const managed = await ironic.getNode(uuid);
    expect(managed.provision_state).toBe("manageable");
    expect(managed.inspect_interface).toBe("redfish");
    const started = await api.call("POST", `/v1/nodes/${node}/inspect`);
    expect(started.status).toBe(202);
    const operation = await followOperation(api.call, started.body.id);
    const step = operation.steps.find((each) => each.name === "inspect");
    expect(operation.state, JSON.stringify(step)).toBe("succeeded");
    if (!step?.report) throw new Error(`the inspect step reported nothing: ${JSON.stringify(step)}`);
    return { inspected: await ironic.getNode(uuid), report: step.report, detail: step.detail ?? "" };
  }

  const BLOCKS = "/redfish/v1/CompositionService/ResourceBlocks";

  interface Case {
    name: string;
    /** What the emulator composes; the demo composed test-node-2 already. */
    blocks?: string[];
    /** What Valence registers, which is what Ironic's inspection finds. */
    expected: NodeBody["hardware"];
    was: string;
  }

  const cases: Case[] = [
    {
      name: "test-node-2",
      // 2 × Xeon 8 cores / 16 threads, 4 × 16 GiB, one 240 GB NVMe drive.
      expected: { cpus: 32, memory_mb: 65_536, local_gb: 222, cpu_arch: "x86_64" },
      was: "cpus 16, local_gb 223",
    },
    {
      name: "big-node",
      // 2 × Xeon 16 cores / 32 threads, 8 × 32 GiB, a 480 GB drive and DriveBlock3's two 1920 GB drives.
      blocks: ["ComputeBlock3", "DriveBlock3"],
      expected: { cpus: 64, memory_mb: 262_144, local_gb: 446, cpu_arch: "x86_64" },
      was: "cpus 32, local_gb 4023",
    },
    {
      name: "arm-node",
      // 1 × Ampere Altra, 80 cores / 80 threads, ProcessorArchitecture ARM, 8 × 16 GiB, a 480 GB drive.
      blocks: ["ComputeBlock4"],
      expected: { cpus: 80, memory_mb: 131_072, local_gb: 446, cpu_arch: "arm" },
      was: "local_gb 447, cpu_arch aarch64",
    },
  ];

  it("registers a system that lists its NICs only under its chassis with a port for each", async () => {
    const emulator = api.stack.emulator as RedfishEmulator;
    const macs = emulator.composedSystems().find((system) => system.name === "test-node")?.macs ?? [];
    expect(macs).toHaveLength(2);
    emulator.switches.nicsUnderChassis = true;
    try {
      const system = emulator.composedSystems().find((candidate) => candidate.name === "test-node");
      const listed = await fetch(`${emulator.url}${system?.systemUri}/EthernetInterfaces`, {
        headers: {
          Authorization: `Basic ${Buffer.from(`${DEMO_CREDENTIALS.username}:${DEMO_CREDENTIALS.password}`).toString("base64")}`,
        },
      });
      expect(((await listed.json()) as { Members: unknown[] }).Members).toEqual([]);

      const registered = await api.call<NodeBody>("POST", "/v1/nodes/test-node/register");
      expect(registered.status).toBe(200);
      const ports = await ironic.listPorts({ node_uuid: registered.body.ironic_node_uuid as string });
      expect(ports.map((port) => port.address).sort()).toEqual([...macs].sort());
    } finally {
      emulator.switches.nicsUnderChassis = false;
    }
  });

  it.each(cases)(
    "$name (was $was): inspection changes none of cpus, memory_mb, local_gb, cpu_arch",
    async ({ name, blocks, expected }) => {
      if (blocks) {
        const podmId = (await api.call("GET", "/v1/pod_managers")).body[0].uuid;
        const composed = await api.call("POST", "/v1/nodes", {
          name,
          podm_id: podmId,
          resource_blocks: blocks.map((block) => `${BLOCKS}/${block}`),
        });
        expect(composed.status).toBe(201);
      }
      const { before, uuid } = await registerAndManage(name);
      expect(before.hardware).toMatchObject(expected);

      const { inspected, report, detail } = await inspectThroughValence(name, uuid);
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
      // The step's report says so, property by property, and keeps every port registered.
      expect(report.agrees).toBe(true);
      expect(report.properties.map((p) => p.name)).toEqual(["cpus", "memory_mb", "local_gb", "cpu_arch"]);
      expect(report.properties.every((p) => p.agrees)).toBe(true);
      expect(report.ports.missing).toEqual([]);
      expect(report.ports.registered.length).toBeGreaterThan(0);
      expect(report.ports.found).toEqual(expect.arrayContaining(report.ports.registered));
      expect(detail).toMatch(/^inspection agrees with the registration \(cpus \d+, memory_mb \d+/);
    },
  );
});
