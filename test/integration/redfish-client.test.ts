import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpsServer } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { hardwareTraits } from "../../lib/nodes/hardware-traits.ts";
import {
  ComposedSystemNotFoundError,
  type ComposeRequest,
  CompositionFailedError,
  CompositionRefusedError,
  createPodManagerClient,
  PodManagerAuthError,
  type PodManagerClient,
  type PodManagerConnection,
  PodManagerUnreachableError,
} from "../../lib/redfish/index.ts";
import { forgetExpandSupport } from "../../lib/redfish/reader.ts";
import {
  gpuInventory,
  type RedfishEmulator,
  startRedfishEmulator,
} from "../../local/redfish-emulator/index.ts";
import { LOCAL_ADDRESS_POLICY } from "../support/fixtures.ts";
import {
  afterIronicInspection,
  ironicCodeMissing,
  ironicInspectionFigures,
} from "../support/ironic-figures.ts";

/** Valence's pod-manager client against the emulator over HTTP, in each Redfish dialect. */

interface Dialect {
  mode: "dmtf" | "rsd";
  driver: PodManagerConnection["driver"];
  /** What to compose, and what the default inventory gives for it. */
  request: ComposeRequest;
  expected: { cpus: number; memory_mb: number; local_gb: number; macs: string[] };
}

const dialects: Dialect[] = [
  {
    mode: "dmtf",
    driver: "redfish",
    request: { name: "web-1", resourceBlocks: ["ComputeBlock2", "DriveBlock1"] },
    // 2 × Xeon 8 cores / 16 threads; a 240 GB and a 960 GB drive. Was cpus 16 (cores), local_gb 1117 (the sum).
    expected: {
      cpus: 32,
      memory_mb: 65536,
      local_gb: 222,
      macs: ["02:5a:e0:00:02:00", "02:5a:e0:00:02:01", "02:5a:e0:00:02:02"],
    },
  },
  {
    mode: "rsd",
    driver: "rsd",
    request: { name: "web-1", totalCores: 16, memoryMib: 65536 },
    // ComputeBlock1: as above, one 240 GB drive. Was cpus 16, local_gb 223 (223.5 GiB without Ironic's minus 1).
    expected: {
      cpus: 32,
      memory_mb: 65536,
      local_gb: 222,
      macs: ["02:5a:e0:00:01:00", "02:5a:e0:00:01:01"],
    },
  },
];

describe.each(dialects)("pod-manager client against the emulator in $mode mode", (dialect) => {
  let emulator: RedfishEmulator;
  const clients: PodManagerClient[] = [];

  function connect(overrides: Partial<PodManagerConnection> = {}): PodManagerClient {
    const client = createPodManagerClient({
      url: emulator.url,
      username: "admin",
      password: "admin",
      driver: dialect.driver,
      verifyCa: true,
      addressPolicy: LOCAL_ADDRESS_POLICY,
      ...overrides,
    });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    emulator = await startRedfishEmulator({ mode: dialect.mode });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await emulator.close();
  });
  beforeEach(() => emulator.reset());

  it("composes, reads back, powers, boots and decomposes a system", async () => {
    const client = connect();
    const composed = await client.compose(dialect.request);
    const [shown] = emulator.composedSystems();
    expect(emulator.composedSystems()).toHaveLength(1);
    expect(shown?.nodeState).toBe("Assembled");

    const system = await client.getSystem(composed.index);
    expect(system.index).toBe(dialect.mode === "rsd" ? shown?.nodeId : shown?.systemId);
    expect(typeof system.resourceUri).toBe("string");
    expect(system.resourceUri).toBe(shown?.systemUri);
    expect(system.resourceUri).toMatch(/^\/redfish\/v1\/Systems\/[^/]+$/);
    expect(system.hardware).toEqual({
      cpus: dialect.expected.cpus,
      memory_mb: dialect.expected.memory_mb,
      local_gb: dialect.expected.local_gb,
      cpu_arch: "x86_64",
      nics: dialect.expected.macs.map((mac) => ({ mac, enabled: true })),
      summary: expect.objectContaining({
        nics: [{ speed_mbps: 25_000, count: dialect.expected.macs.length }],
      }),
    });
    expect(system.hardware.nics.map((nic) => nic.mac)).toEqual(shown?.macs);
    expect(system.powerState).toBe("Off");

    await client.reset(composed.index, "On");
    expect(emulator.composedSystems()[0]?.powerState).toBe("On");
    expect((await client.getSystem(composed.index)).powerState).toBe("On");
    await client.reset(composed.index, "ForceOff");
    expect((await client.getSystem(composed.index)).powerState).toBe("Off");

    await client.setBoot(composed.index, { enabled: "Once", target: "Pxe" });
    expect(emulator.composedSystems()[0]?.boot).toMatchObject({ enabled: "Once", target: "Pxe" });
    expect((await client.getSystem(composed.index)).boot).toMatchObject({ enabled: "Once", target: "Pxe" });

    await client.decompose(composed.index);
    expect(emulator.composedSystems()).toEqual([]);
    await expect(client.decompose(composed.index)).resolves.toBeUndefined();
    await expect(client.getSystem(composed.index)).rejects.toBeInstanceOf(ComposedSystemNotFoundError);
  });

  it("composes by requirements, picking a block that satisfies them", async () => {
    const client = connect();
    const big = await client.compose({ name: "db-1", totalCores: 32, memoryMib: 200_000 });
    // 2 × 16 cores / 32 threads: was 32 (cores).
    expect(big.hardware).toMatchObject({ cpus: 64, memory_mb: 262_144, cpu_arch: "x86_64" });
    expect(emulator.composedSystems()[0]?.resourceBlocks).toEqual(["ComputeBlock3"]);
    const arm = await client.compose({ name: "arm-1", processorModel: "Altra" });
    // ProcessorArchitecture ARM: Ironic's inspection writes "arm" (was aarch64, from the instruction set).
    expect(arm.hardware).toMatchObject({ cpus: 80, cpu_arch: "arm" });
  });

  it.skipIf(ironicCodeMissing !== undefined)(
    "reads what Ironic's inspection code computes from the ComputerSystem Ironic is given",
    async () => {
      const client = connect();
      const requests: ComposeRequest[] = [
        dialect.request,
        { name: "db-1", totalCores: 32, memoryMib: 200_000 },
        { name: "arm-1", processorModel: "Altra" },
      ];
      for (const request of requests) {
        const system = await client.compose(request);
        const { cpus, memory_mb, local_gb, cpu_arch } = system.hardware;
        const registered = { cpus, memory_mb, local_gb, cpu_arch };
        const ironic = await ironicInspectionFigures(emulator.url, "admin", "admin", system.resourceUri);
        expect(registered).toEqual(afterIronicInspection(registered, ironic));
      }
    },
  );

  it("lists what it composed", async () => {
    const client = connect();
    const first = await client.compose({ name: "a", totalCores: 8 });
    const second = await client.compose({ name: "b", totalCores: 8 });
    const listed = await client.listComposedSystems();
    // Each with the links that define its hardware, as the system read after composing has them.
    expect(listed).toEqual([
      { index: first.index, resourceUri: first.resourceUri, composition: first.composition },
      { index: second.index, resourceUri: second.resourceUri, composition: second.composition },
    ]);
    expect(listed[0]?.composition?.length).toBeGreaterThan(0);
    expect(new Set(listed.map((entry) => entry.resourceUri)).size).toBe(2);
  });

  it("sees a system decomposed out of band as gone", async () => {
    const client = connect();
    const composed = await client.compose({ name: "a", totalCores: 8 });
    expect(emulator.decomposeOutOfBand(composed.index)).toBe(true);
    await expect(client.getSystem(composed.index)).rejects.toBeInstanceOf(ComposedSystemNotFoundError);
    await expect(client.decompose(composed.index)).resolves.toBeUndefined();
  });

  it("is a CompositionRefusedError when the pod manager refuses, and composes nothing", async () => {
    emulator.switches.refuseComposition = true;
    const error = await connect()
      .compose(dialect.request)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompositionRefusedError);
    expect((error as Error).message).toMatch(/refused the composition: (composition|allocation) refused/);
    expect(emulator.composedSystems()).toEqual([]);
  });

  it("is a CompositionRefusedError when no free block satisfies the request", async () => {
    await expect(connect().compose({ name: "huge", totalCores: 1000 })).rejects.toThrow(
      /refused the composition: no free compute block satisfies 1000 cores/,
    );
  });

  it("is a CompositionFailedError when assembly fails, and leaves nothing allocated", async () => {
    emulator.switches.failAssembly = true;
    const error = await connect()
      .compose(dialect.request)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompositionFailedError);
    expect(emulator.composedSystems()).toEqual([]);
    expect(emulator.resourceBlocks().every((block) => block.composedInto === undefined)).toBe(true);
    if (dialect.mode === "rsd") {
      expect((error as Error).message).toContain("the allocated node /redfish/v1/Nodes/1 was deleted");
      expect(emulator.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(
        expect.arrayContaining([
          "POST /redfish/v1/Nodes/Actions/Allocate 201",
          "POST /redfish/v1/Nodes/1/Actions/ComposedNode.Assemble 500",
          "DELETE /redfish/v1/Nodes/1 204",
        ]),
      );
    }
  });

  it("falls back to Basic when sessions are off", async () => {
    emulator.switches.sessionsEnabled = false;
    const client = connect();
    const composed = await client.compose(dialect.request);
    await client.reset(composed.index, "On");
    expect(emulator.composedSystems()[0]?.powerState).toBe("On");
    const [login, ...rest] = emulator.requests;
    expect(login).toMatchObject({ method: "POST", path: "/redfish/v1/SessionService/Sessions", status: 405 });
    expect(rest.length).toBeGreaterThan(3);
    expect(rest.every((request) => request.auth === "basic")).toBe(true);
  });

  it("uses a session while open and deletes it on close", async () => {
    const client = connect();
    await client.compose(dialect.request);
    expect(emulator.sessions()).toHaveLength(1);
    expect(emulator.requests.slice(1).every((request) => request.auth === "session")).toBe(true);
    await client.close();
    expect(emulator.sessions()).toEqual([]);
  });

  it("reports a disabled NIC as not enabled", async () => {
    const client = connect();
    const composed = await client.compose(dialect.request);
    const [first, second] = dialect.expected.macs;
    emulator.switches.disabledMacs.add(String(second).toUpperCase());
    const system = await client.getSystem(composed.index);
    expect(system.hardware.nics.slice(0, 2)).toEqual([
      { mac: first, enabled: true },
      { mac: second, enabled: false },
    ]);
  });

  // The RSD dialect reads a node's links as before.
  it.skipIf(dialect.mode !== "dmtf")(
    "reads a composed system in two round trips with $expand, Basic credentials and no session",
    async () => {
      const composed = await connect().compose(dialect.request);
      forgetExpandSupport();
      // The first read of a pod manager in a process asks its service root what it takes.
      emulator.clearRequests();
      await connect({ preferBasic: true }).getSystem(composed.index);
      expect(emulator.requests.filter((request) => request.path === "/redfish/v1/")).toHaveLength(1);
      emulator.clearRequests();
      const system = await connect({ preferBasic: true }).getSystem(composed.index);
      expect(system.hardware.nics).toHaveLength(dialect.expected.macs.length);
      const reads = emulator.requests.map((request) => `${request.method} ${request.path} ${request.auth}`);
      // The system (with its collections, their members and its drives), then its resource blocks, each with its
      // devices inline.
      expect(reads).toEqual([
        `GET ${composed.resourceUri} basic`,
        "GET /redfish/v1/CompositionService/ResourceBlocks/ComputeBlock2 basic",
        "GET /redfish/v1/CompositionService/ResourceBlocks/DriveBlock1 basic",
      ]);
    },
  );

  it("reads in parallel when the pod manager is slow, and times out when too slow", async () => {
    const composed = await connect().compose(dialect.request);
    // Without $expand: every collection and member is a request of its own.
    emulator.switches.expandEnabled = false;
    forgetExpandSupport();
    emulator.switches.latencyMs = 100;
    emulator.clearRequests();
    const started = performance.now();
    const system = await connect().getSystem(composed.index);
    const elapsed = performance.now() - started;
    const requests = emulator.requests.length;
    expect(system.hardware.nics).toHaveLength(dialect.expected.macs.length);
    expect(requests).toBeGreaterThan(8);
    // Serially this would take requests × 100 ms.
    expect(elapsed).toBeLessThan((requests * 100) / 2);

    const impatient = connect({ timeoutMs: 30 });
    const error = await impatient.getSystem(composed.index).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodManagerUnreachableError);
    expect((error as Error).message).toContain("timed out after 30 ms");
  });

  it("is a PodManagerAuthError with a wrong password, with or without sessions", async () => {
    const wrong = connect({ password: "not-the-password" });
    const error = await wrong.probe().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodManagerAuthError);
    expect((error as Error).message).not.toContain("not-the-password");

    emulator.switches.sessionsEnabled = false;
    await expect(connect({ password: "not-the-password" }).listComposedSystems()).rejects.toBeInstanceOf(
      PodManagerAuthError,
    );
  });

  it("probes the pod manager", async () => {
    await expect(connect().probe()).resolves.toEqual({
      redfishVersion: "1.15.0",
      uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });
});

describe("pod-manager client against an address nobody listens on", () => {
  it("is a PodManagerUnreachableError naming the pod manager and the socket error", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    const client = createPodManagerClient({
      url: `http://127.0.0.1:${port}`,
      username: "admin",
      password: "admin",
      driver: "redfish",
      verifyCa: true,
      addressPolicy: LOCAL_ADDRESS_POLICY,
    });
    const error = await client.probe().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodManagerUnreachableError);
    expect((error as Error).message).toBe(
      `pod manager http://127.0.0.1:${port} unreachable: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });
});

describe("pod-manager client composing the emulator's GPU and NVMe blocks", () => {
  let emulator: RedfishEmulator;
  beforeAll(async () => {
    emulator = await startRedfishEmulator({ mode: "dmtf", inventory: gpuInventory() });
  });
  afterAll(() => emulator.close());

  it("reads the GPUs of an offload block as accelerators, not CPUs, and their traits", async () => {
    const client = createPodManagerClient({
      url: emulator.url,
      username: "admin",
      password: "admin",
      driver: "redfish",
      verifyCa: true,
      addressPolicy: LOCAL_ADDRESS_POLICY,
    });
    const composed = await client.compose({
      name: "gpu-1",
      resourceBlocks: ["ComputeBlock1", "OffloadBlock1", "DriveBlock1"],
    });
    const { hardware } = await client.getSystem(composed.index);
    await client.close();
    // 2 × Xeon 8 cores / 16 threads: the four A100s add nothing to cpus.
    expect(hardware.cpus).toBe(32);
    expect(hardware.summary?.processors).toEqual([
      {
        type: "CPU",
        manufacturer: "Intel(R) Corporation",
        model: "Intel(R) Xeon(R) Gold 6134 CPU",
        instruction_set: "x86-64",
        count: 2,
      },
      { type: "GPU", manufacturer: "NVIDIA", model: "A100", count: 4 },
    ]);
    expect(hardware.summary?.drives).toEqual([{ media: "SSD", protocol: "NVMe", count: 2 }]);
    expect(hardwareTraits(hardware).traits).toEqual([
      "CUSTOM_GPU",
      "CUSTOM_GPU_COUNT_4",
      "CUSTOM_GPU_NVIDIA_A100",
      "CUSTOM_MEMORY_64G_256G",
      "CUSTOM_NIC_25G",
      "CUSTOM_NVME",
      "HW_ARCH_X86_64",
      "STORAGE_DISK_SSD",
    ]);
  });
});

describe("pod-manager client reading NIC speeds from a chassis's ports", () => {
  let emulator: RedfishEmulator;
  beforeAll(async () => {
    emulator = await startRedfishEmulator({ mode: "dmtf" });
    emulator.switches.nicsUnderChassis = true;
  });
  afterAll(() => emulator.close());

  it("takes Port CurrentSpeedGbps and NetworkPort CurrentLinkSpeedMbps into the summary", async () => {
    const client = createPodManagerClient({
      url: emulator.url,
      username: "admin",
      password: "admin",
      driver: "redfish",
      verifyCa: true,
      addressPolicy: LOCAL_ADDRESS_POLICY,
    });
    // ComputeBlock3: four 25 Gb/s NICs, listed two as Ports and two as NetworkPorts.
    const composed = await client.compose({ name: "chassis-nics", resourceBlocks: ["ComputeBlock3"] });
    const { hardware } = await client.getSystem(composed.index);
    await client.close();
    expect(hardware.nics).toHaveLength(4);
    expect(hardware.summary?.nics).toEqual([{ speed_mbps: 25_000, count: 4 }]);
    expect(hardwareTraits(hardware).traits).toContain("CUSTOM_NIC_25G");
  });
});

describe("pod-manager clients of both dialects on one emulator", () => {
  let emulator: RedfishEmulator;
  beforeAll(async () => {
    emulator = await startRedfishEmulator({ mode: "both" });
  });
  afterAll(() => emulator.close());

  it("see the same composed system and its ComputerSystem", async () => {
    const connection = {
      url: emulator.url,
      username: "admin",
      password: "admin",
      verifyCa: true,
      addressPolicy: LOCAL_ADDRESS_POLICY,
    };
    const rsd = createPodManagerClient({ ...connection, driver: "rsd" });
    const dmtf = createPodManagerClient({ ...connection, driver: "redfish" });
    const node = await rsd.compose({ name: "shared", totalCores: 8 });
    const listed = await dmtf.listComposedSystems();
    expect(listed).toMatchObject([{ index: "composed-1", resourceUri: node.resourceUri }]);
    const system = await dmtf.getSystem("composed-1");
    expect(system.hardware).toEqual(node.hardware);
    await dmtf.decompose("composed-1");
    await expect(rsd.getSystem(node.index)).rejects.toBeInstanceOf(ComposedSystemNotFoundError);
    await Promise.all([rsd.close(), dmtf.close()]);
  });
});

describe("pod-manager client against a pod manager with a self-signed certificate", () => {
  it("refuses it when verifyCa is true and accepts it when false", async () => {
    const dir = await mkdtemp(join(tmpdir(), "valence-tls-"));
    try {
      const openssl = await promisify(execFile)("openssl", [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ]).catch((error: unknown) => error);
      if (openssl instanceof Error) {
        console.warn(`skipping the TLS check: openssl failed (${openssl.message})`);
        return;
      }
      const root = {
        Id: "RootService",
        RedfishVersion: "1.6.0",
        Systems: { "@odata.id": "/redfish/v1/Systems" },
      };
      const server = createHttpsServer(
        { key: await readFile(join(dir, "key.pem")), cert: await readFile(join(dir, "cert.pem")) },
        (request, response) => {
          response.writeHead(request.url === "/redfish/v1/SessionService/Sessions" ? 405 : 200, {
            "Content-Type": "application/json",
          });
          response.end(JSON.stringify(request.url === "/redfish/v1/" ? root : { Members: [] }));
        },
      );
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
      const connection = {
        url,
        username: "admin",
        password: "admin",
        driver: "redfish" as const,
        addressPolicy: LOCAL_ADDRESS_POLICY,
      };
      try {
        const strict = createPodManagerClient({ ...connection, verifyCa: true });
        const error = await strict.probe().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(PodManagerUnreachableError);
        expect((error as Error).message).toMatch(/self[- ]signed certificate/);
        const lax = createPodManagerClient({ ...connection, verifyCa: false });
        await expect(lax.probe()).resolves.toEqual({ redfishVersion: "1.6.0" });
        await lax.close();
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
