import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { poolInventory } from "../../local/pool.ts";
import { DEMO_CREDENTIALS } from "../../local/stack.ts";
import { expectErrorBody, startTestApi, type TestApi } from "../support/local-api.ts";
import { freePort } from "../support/processes.ts";

interface NodeBody {
  uuid: string;
  name: string;
  index: string;
  resource_uri: string;
  managed_by: string;
  hardware: {
    cpus: number;
    memory_mb: number;
    local_gb: number;
    cpu_arch: string;
    nics: { mac: string; enabled: boolean }[];
  };
}

/** Valence's node routes on pod managers of both dialects, over the emulator (no Ironic needed). */
describe("compose, manage, act and decompose through the API", () => {
  let api: TestApi;
  const podms: Record<"redfish" | "rsd", string> = { redfish: "", rsd: "" };

  beforeAll(async () => {
    api = await startTestApi({ demo: true, emulatorInventory: poolInventory(12) });
    const emulatorUrl = api.stack.emulator?.url as string;
    podms.redfish = (await api.call("GET", "/v1/pod_managers")).body[0].uuid;
    const rsd = await api.call("POST", "/v1/pod_managers", {
      name: "rsd-podm",
      // Same emulator, its RSD face; a different url string keeps the url unique.
      url: `${emulatorUrl.replace("127.0.0.1", "localhost")}`,
      driver: "redfishv1",
      verify_ca: false,
      authentication: [{ type: "basic", auth_items: DEMO_CREDENTIALS }],
    });
    expect(rsd.status).toBe(201);
    expect(rsd.body.status).toBe("online");
    podms.rsd = rsd.body.uuid;
  });
  afterAll(() => api?.stop());
  beforeEach(() => {
    const switches = api.stack.emulator?.switches;
    if (!switches) return;
    switches.refuseComposition = false;
    switches.failAssembly = false;
  });

  const compositions = () => api.stack.emulator?.composedSystems() ?? [];

  describe.each(["redfish", "rsd"] as const)("on a %s pod manager", (driver) => {
    it("composes, shows, acts on and decomposes a node", async () => {
      const name = `${driver}-node-${randomUUID().slice(0, 6)}`;
      const created = await api.call<NodeBody>("POST", "/v1/nodes", {
        name,
        description: "composed by a test",
        podm_id: podms[driver],
        properties: { memory: { capacity_mib: 16_384 }, processor: { total_cores: 4 } },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name, managed_by: "valence", description: "composed by a test" });
      expect(created.body.resource_uri).toMatch(/^\/redfish\/v1\/Systems\/[^/]+$/);
      // As Ironic's inspection counts them: one 8-core Xeon with 16 threads is 16 logical CPUs (was 8), and the
      // 480 GB drive, 447.03 GiB, gives 446 GiB after Ironic's minus 1 (was 447).
      expect(created.body.hardware).toMatchObject({
        cpus: 16,
        memory_mb: 32_768,
        local_gb: 446,
        cpu_arch: "x86_64",
      });
      expect(created.body.hardware.nics).toHaveLength(4);
      expect(created.body.hardware.nics.every((nic) => /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(nic.mac))).toBe(
        true,
      );
      const composition = compositions().find((c) => c.name === name);
      expect(composition).toBeDefined();

      const shown = await api.call<NodeBody>("GET", `/v1/nodes/${name}`);
      expect(shown.body.uuid).toBe(created.body.uuid);

      expect((await api.call("POST", `/v1/nodes/${name}/action`, { Reset: { Type: "On" } })).status).toBe(
        204,
      );
      expect(compositions().find((c) => c.name === name)?.powerState).toBe("On");
      expect(
        (await api.call("POST", `/v1/nodes/${name}/action`, { Reset: { Type: "ForceOff" } })).status,
      ).toBe(204);
      expect(compositions().find((c) => c.name === name)?.powerState).toBe("Off");
      const boot = await api.call("POST", `/v1/nodes/${name}/action`, {
        Boot: { Enabled: "Once", Target: "Pxe" },
      });
      expect(boot.status).toBe(204);
      expect(compositions().find((c) => c.name === name)?.boot).toMatchObject({
        enabled: "Once",
        target: "Pxe",
      });

      expect((await api.call("DELETE", `/v1/nodes/${name}`)).status).toBe(204);
      expect(compositions().find((c) => c.name === name)).toBeUndefined();
      expectErrorBody(await api.call("GET", `/v1/nodes/${name}`), 404);
      expectErrorBody(await api.call("DELETE", `/v1/nodes/${name}`), 404);
    });

    it("refuses a composition the pod manager refuses, writing nothing", async () => {
      const emulator = api.stack.emulator;
      if (!emulator) throw new Error("no emulator");
      emulator.switches.refuseComposition = true;
      const name = `refused-${driver}`;
      const response = await api.call("POST", "/v1/nodes", {
        name,
        podm_id: podms[driver],
        properties: { processor: { total_cores: 1 } },
      });
      expect(expectErrorBody(response, 409).code).toBe("CompositionRefused");
      expect((await api.call("GET", `/v1/nodes?name=${name}`)).body).toEqual([]);
      expect(compositions().find((c) => c.name === name)).toBeUndefined();
    });
  });

  it("deletes the allocated RSD node again when assembly fails, and records nothing", async () => {
    const emulator = api.stack.emulator;
    if (!emulator) throw new Error("no emulator");
    emulator.switches.failAssembly = true;
    const before = emulator.resourceBlocks().filter((block) => block.composedInto).length;
    const response = await api.call("POST", "/v1/nodes", {
      name: "assembly-fails",
      podm_id: podms.rsd,
      properties: { processor: { total_cores: 1 } },
    });
    expect(response.status).toBeGreaterThanOrEqual(500);
    expect(response.status).toBeLessThan(600);
    expect(response.body.code).not.toBe("InternalError");
    expect((await api.call("GET", "/v1/nodes?name=assembly-fails")).body).toEqual([]);
    expect(compositions().find((c) => c.name === "assembly-fails")).toBeUndefined();
    expect(emulator.resourceBlocks().filter((block) => block.composedInto).length).toBe(before);
  });

  it("refuses a duplicate node name before composing anything", async () => {
    const before = compositions().length;
    const response = await api.call("POST", "/v1/nodes", {
      name: "test-node",
      podm_id: podms.redfish,
      properties: { processor: { total_cores: 1 } },
    });
    expect(expectErrorBody(response, 409).code).toBe("NodeNameConflict");
    expect(compositions().length).toBe(before);
  });

  it("manages an already composed system once; the name defaults to its Redfish Id", async () => {
    const emulator = api.stack.emulator;
    if (!emulator) throw new Error("no emulator");
    // Composed behind Valence's back, through the pod manager's own API.
    const composed = await fetch(`${emulator.url}/redfish/v1/Systems`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${DEMO_CREDENTIALS.username}:${DEMO_CREDENTIALS.password}`).toString("base64")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ Name: "out-of-band", Processors: { "@Redfish.RequestedCount": 1 } }),
    });
    expect(composed.status).toBe(201);
    const systemId = (composed.headers.get("location") ?? "").split("/").pop() as string;

    const managed = await api.call<NodeBody>("POST", "/v1/nodes/manage", {
      podm_id: podms.redfish,
      node_index: systemId,
    });
    expect(managed.status).toBe(201);
    expect(managed.body).toMatchObject({
      name: systemId,
      index: systemId,
      resource_uri: `/redfish/v1/Systems/${systemId}`,
    });

    const again = await api.call("POST", "/v1/nodes/manage", {
      podm_id: podms.redfish,
      node_index: systemId,
      name: "other",
    });
    expect(expectErrorBody(again, 409).code).toBe("NodeAlreadyManaged");
    expectErrorBody(await api.call("GET", "/v1/nodes/other"), 404);
  });

  it("answers 404 for a system the pod manager does not have, and for an unknown pod manager", async () => {
    const missing = await api.call("POST", "/v1/nodes/manage", {
      podm_id: podms.redfish,
      node_index: "no-such-system",
    });
    expectErrorBody(missing, 404);
    const unknown = await api.call("POST", "/v1/nodes", {
      name: "x",
      podm_id: randomUUID(),
      properties: { processor: { total_cores: 1 } },
    });
    expect(expectErrorBody(unknown, 404).code).toBe("PodManagerNotFound");
  });

  it("answers 502 with a clear detail when the pod manager is unreachable, and marks it offline", async () => {
    const port = await freePort();
    const podm = await api.call("POST", "/v1/pod_managers", {
      name: "unreachable",
      url: `http://127.0.0.1:${port}`,
      authentication: [{ type: "basic", auth_items: { username: "u", password: "p" } }],
    });
    expect(podm.status).toBe(201);
    expect(podm.body.status).toBe("offline");
    const response = await api.call("POST", "/v1/nodes", {
      name: "nowhere",
      podm_id: podm.body.uuid,
      properties: { processor: { total_cores: 1 } },
    });
    const error = expectErrorBody(response, 502);
    expect(error.detail).toContain(`127.0.0.1:${port}`);
    expect((await api.call("GET", "/v1/nodes?name=nowhere")).body).toEqual([]);
  });

  it.each([
    [{ podm_id: "x", name: "a" }, "body.podm_id"],
    [{ name: "has space" }, "body.name"],
    [{ name: "states" }, "body.name"],
    [{ name: "2b1a2f8e-6c1d-4f0e-9a1b-3c4d5e6f7a8b" }, "body.name"],
    [{ name: "ok", properties: { memory: { capacity_mib: -5 } } }, "capacity_mib"],
    [{ name: "ok", resource_blocks: [] }, "body.resource_blocks"],
    [{ name: "ok" }, "needs resource_blocks, or properties with memory or processor"],
  ])("answers 400 for a bad compose body %#", async (overrides, field) => {
    const response = await api.call("POST", "/v1/nodes", { podm_id: podms.redfish, ...overrides });
    expect(expectErrorBody(response, 400).detail).toContain(field);
  });

  it.each([
    [{ Reset: { Type: "Explode" } }, "Reset.Type"],
    [{ Boot: { Enabled: "Once", Target: "Floppy" } }, "Boot.Target"],
    [{ Reset: { Type: "On" }, Boot: { Enabled: "Once", Target: "Pxe" } }, "body"],
    [{}, "body"],
  ])("answers 400 for a bad action body %#", async (body, field) => {
    const response = await api.call("POST", "/v1/nodes/test-node/action", body);
    expect(expectErrorBody(response, 400).detail).toContain(field);
  });
});
