import { describe, expect, it } from "vitest";
import { ValidationError } from "../../lib/errors.ts";
import {
  ComposedSystemNotFoundError,
  CompositionFailedError,
  CompositionRefusedError,
  CompositionUnsupportedError,
  createPodManagerClient,
  PodManagerAuthError,
  type PodManagerConnection,
  PodManagerResponseError,
  PodManagerUnreachableError,
} from "../../lib/redfish/index.ts";
import { expandResource, parseExpand } from "../../local/redfish-emulator/expand.ts";

// ---------------------------------------------------------------------------------------------------------------
// A fake pod manager behind `deps.fetch`: a map of path → body, plus per-test overrides. No network.
// ---------------------------------------------------------------------------------------------------------------

const POD = "http://podm.test:8443";
const PASSWORD = "Sup3r-Secret-Pw";
const TOKEN = "token-5f2b9c1d7e";
const SESSION = "/redfish/v1/SessionService/Sessions/7";

interface Call {
  method: string;
  path: string;
  /** The query string, `?$expand=...` say; empty without one. */
  query: string;
  headers: Headers;
  body: unknown;
  dispatcher: unknown;
  signal?: AbortSignal | null;
}
type Override = (call: Call) => Response | Promise<Response> | undefined;

function reply(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  if (status === 204) return new Response(null, { status, headers });
  return new Response(typeof body === "string" ? body : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

function redfishError(message: string, status: number): Response {
  return reply({ error: { code: "Base.1.0.GeneralError", message, "@Message.ExtendedInfo": [] } }, status);
}

function fakePodManager(resources: Record<string, unknown>, override?: Override, delayMs = 0) {
  const calls: Call[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit & { dispatcher?: unknown }) => {
    const url = new URL(String(input));
    const call: Call = {
      method: init?.method ?? "GET",
      path: url.pathname,
      query: url.search,
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
      dispatcher: init?.dispatcher,
      signal: init?.signal,
    };
    calls.push(call);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const custom = await override?.(call);
      if (custom) return custom;
      if (call.method === "POST" && call.path === "/redfish/v1/SessionService/Sessions") {
        return reply({ Id: "7" }, 201, { "X-Auth-Token": TOKEN, Location: SESSION });
      }
      if (call.method === "DELETE") return reply(null, 204);
      if (call.method === "GET" && call.path in resources) {
        const body = resources[call.path];
        return body instanceof Response ? body : reply(body);
      }
      return redfishError(`${call.path} not found`, 404);
    } finally {
      inFlight -= 1;
    }
  };
  return {
    fetch: fetchImpl as typeof fetch,
    calls,
    gets: () => calls.filter((call) => call.method === "GET").map((call) => call.path),
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

function connect(
  fake: { fetch: typeof fetch },
  overrides: Partial<PodManagerConnection> = {},
): ReturnType<typeof createPodManagerClient> {
  return createPodManagerClient(
    { url: POD, username: "valence", password: PASSWORD, driver: "redfish", verifyCa: true, ...overrides },
    { fetch: fake.fetch },
  );
}

const link = (path: string) => ({ "@odata.id": path });
const members = (...paths: string[]) => ({ Members: paths.map(link) });
const B1 = "/redfish/v1/CompositionService/ResourceBlocks/B1";
const B2 = "/redfish/v1/CompositionService/ResourceBlocks/B2";
const S1 = "/redfish/v1/Systems/S1";

/** A DMTF composed system whose NICs are spread over the system, a block, and a system inside another block. */
function dmtfResources(): Record<string, unknown> {
  return {
    "/redfish/v1/": {
      Id: "RootService",
      RedfishVersion: "1.15.0",
      UUID: "root-uuid",
      Systems: link("/redfish/v1/Systems"),
    },
    "/redfish/v1/Systems": {
      ...members(S1, "/redfish/v1/Systems/Physical1", "/redfish/v1/Systems/Gone"),
      "@Redfish.CollectionCapabilities": {
        Capabilities: [
          { UseCase: "ComputerSystemComposition" },
          { UseCase: "ComputerSystemConstrainedComposition" },
        ],
      },
    },
    "/redfish/v1/Systems/Physical1": { Id: "Physical1", SystemType: "Physical" },
    [S1]: {
      "@odata.id": S1,
      Id: "S1",
      Name: "composed",
      UUID: "uuid-s1",
      SystemType: "Composed",
      PowerState: "On",
      Status: { State: "Enabled" },
      Boot: {
        BootSourceOverrideEnabled: "Disabled",
        BootSourceOverrideTarget: "None",
        "BootSourceOverrideTarget@Redfish.AllowableValues": ["None", "Pxe", "Hdd"],
      },
      MemorySummary: { TotalSystemMemoryGiB: 999 },
      Processors: link(`${S1}/Processors`),
      Memory: link(`${S1}/Memory`),
      EthernetInterfaces: link(`${S1}/EthernetInterfaces`),
      Storage: link(`${S1}/Storage`),
      Links: { ResourceBlocks: [link(B1), link(B2)] },
      Actions: {
        "#ComputerSystem.Reset": {
          target: `${S1}/Actions/ComputerSystem.Reset`,
          "ResetType@Redfish.AllowableValues": ["On", "ForceOff"],
        },
      },
    },
    [`${S1}/Processors`]: members(`${B1}/Processors/CPU0`, `${B1}/Processors/CPU1`),
    [`${B1}/Processors/CPU0`]: { ProcessorType: "CPU", InstructionSet: "ARM-A64", TotalCores: 32 },
    [`${B1}/Processors/CPU1`]: { ProcessorType: "CPU", InstructionSet: "ARM-A64", TotalCores: 32 },
    [`${S1}/Memory`]: members(`${B1}/Memory/DIMM0`, `${B1}/Memory/DIMM1`),
    [`${B1}/Memory/DIMM0`]: { CapacityMiB: 16384 },
    [`${B1}/Memory/DIMM1`]: { CapacityMiB: 16384 },
    [`${S1}/Storage`]: members(`${S1}/Storage/1`),
    [`${S1}/Storage/1`]: { Drives: [link(`${B2}/Drives/D0`), link(`${B2}/Drives/D1`)] },
    [`${B2}/Drives/D0`]: { CapacityBytes: 500 * 1024 ** 3 },
    [`${B2}/Drives/D1`]: { CapacityBytes: 250 * 1024 ** 3 },
    [`${S1}/EthernetInterfaces`]: members(`${S1}/EthernetInterfaces/1`),
    [`${S1}/EthernetInterfaces/1`]: { MACAddress: "AA:AA:AA:AA:AA:01", Status: { State: "Enabled" } },
    [B1]: {
      Processors: [link(`${B1}/Processors/CPU0`), link(`${B1}/Processors/CPU1`)],
      // The system's own NIC, under the same URI: must be read once.
      EthernetInterfaces: [
        link(`${S1}/EthernetInterfaces/1`),
        link(`${B1}/EthernetInterfaces/N1`),
        link(`${B1}/EthernetInterfaces/N2`),
      ],
      Links: { ComputerSystems: [link(S1)] },
    },
    // The same NIC as the system's, under another URI: must be listed once.
    [`${B1}/EthernetInterfaces/N1`]: { MACAddress: "aa:aa:aa:aa:aa:01", Status: { State: "Enabled" } },
    [`${B1}/EthernetInterfaces/N2`]: { MACAddress: "AA:AA:AA:AA:AA:02", Status: { State: "Disabled" } },
    [B2]: {
      ComputerSystems: [link("/redfish/v1/Systems/Inner"), link(S1)],
      Drives: [link(`${B2}/Drives/D0`)],
    },
    "/redfish/v1/Systems/Inner": {
      Id: "Inner",
      EthernetInterfaces: link("/redfish/v1/Systems/Inner/EthernetInterfaces"),
    },
    "/redfish/v1/Systems/Inner/EthernetInterfaces": members("/redfish/v1/Systems/Inner/EthernetInterfaces/0"),
    "/redfish/v1/Systems/Inner/EthernetInterfaces/0": { PermanentMACAddress: "AA-AA-AA-AA-AA-03" },
  };
}

const N7 = "/redfish/v1/Nodes/7";

function rsdResources(): Record<string, unknown> {
  return {
    "/redfish/v1/": {
      Id: "PODM",
      RedfishVersion: "1.0.2",
      Nodes: link("/redfish/v1/Nodes"),
      Systems: link("/redfish/v1/Systems"),
    },
    "/redfish/v1/Nodes": members(N7),
    [N7]: {
      Id: "7",
      Name: "node-7",
      PowerState: "Off",
      ComposedNodeState: "Assembled",
      Boot: {
        BootSourceOverrideTarget: "Hdd",
        "BootSourceOverrideTarget@Redfish.AllowableValues": ["Pxe", "Hdd"],
      },
      Processors: { Count: 2 },
      Memory: { TotalSystemMemoryGiB: 64 },
      Links: {
        ComputerSystem: link("/redfish/v1/Systems/sled-3"),
        Processors: [
          link("/redfish/v1/Systems/sled-3/Processors/1"),
          link("/redfish/v1/Systems/sled-3/Processors/2"),
        ],
        Memory: [],
        EthernetInterfaces: [link("/redfish/v1/Systems/sled-3/EthernetInterfaces/1")],
        LocalDrives: [link("/redfish/v1/Chassis/1/Drives/1")],
        RemoteDrives: [link("/redfish/v1/Services/1/Targets/1")],
      },
      Actions: {
        "#ComposedNode.Reset": {
          target: `${N7}/Actions/ComposedNode.Reset`,
          "ResetType@Redfish.AllowableValues": ["On"],
        },
      },
    },
    "/redfish/v1/Systems/sled-3/Processors/1": {
      ProcessorArchitecture: "x86",
      InstructionSet: "x86-64",
      TotalCores: 10,
    },
    "/redfish/v1/Systems/sled-3/Processors/2": {
      ProcessorArchitecture: "x86",
      InstructionSet: "x86-64",
      TotalCores: 10,
    },
    "/redfish/v1/Systems/sled-3/EthernetInterfaces/1": { MACAddress: "00:1E:67:AB:CD:EF" },
    "/redfish/v1/Chassis/1/Drives/1": { CapacityBytes: 120 * 1024 ** 3 },
    "/redfish/v1/Services/1/Targets/1": { CapacityGiB: 80 },
  };
}

// ---------------------------------------------------------------------------------------------------------------

describe("getSystem (DMTF)", () => {
  it("reads hardware from the system, its resource blocks and systems inside the blocks", async () => {
    const fake = fakePodManager(dmtfResources());
    const system = await connect(fake).getSystem("S1");
    expect(system).toEqual({
      index: "S1",
      resourceUri: S1,
      // The resource blocks it is composed of: what the reconciler's drift check compares.
      composition: [
        "ResourceBlocks:/redfish/v1/CompositionService/ResourceBlocks/B1",
        "ResourceBlocks:/redfish/v1/CompositionService/ResourceBlocks/B2",
      ],
      name: "composed",
      uuid: "uuid-s1",
      powerState: "On",
      state: "Enabled",
      boot: { enabled: "Disabled", target: "None", allowedTargets: ["None", "Pxe", "Hdd"] },
      hardware: {
        // CPUs without TotalThreads (Ironic would write no cpus): their cores, 2 × 32.
        cpus: 64,
        // MemorySummary's 999 GiB × 1024, as Ironic, over the DIMMs' 32768 (was 32768).
        memory_mb: 1022976,
        // The smaller drive, 250 GiB, minus 1, as Ironic (was 750, both drives).
        local_gb: 249,
        // No ProcessorArchitecture (Ironic would write none): the instruction set's name.
        cpu_arch: "aarch64",
        nics: [
          { mac: "aa:aa:aa:aa:aa:01", enabled: true },
          { mac: "aa:aa:aa:aa:aa:02", enabled: false },
          { mac: "aa:aa:aa:aa:aa:03", enabled: true },
        ],
        summary: expect.any(Object),
      },
    });
  });

  it("never reads a URI twice, and reads independent resources in parallel", async () => {
    const fake = fakePodManager(dmtfResources(), undefined, 5);
    await connect(fake).getSystem("S1");
    const gets = fake.gets();
    expect(gets.length).toBeGreaterThan(10);
    expect(new Set(gets).size).toBe(gets.length);
    expect(fake.maxInFlight).toBeGreaterThan(3);
  });

  it("finds NICs that only a resource block lists", async () => {
    const resources = dmtfResources();
    resources[`${S1}/EthernetInterfaces`] = members();
    const system = await connect(fakePodManager(resources)).getSystem("S1");
    expect(system.hardware.nics.map((nic) => nic.mac)).toEqual([
      "aa:aa:aa:aa:aa:01",
      "aa:aa:aa:aa:aa:02",
      "aa:aa:aa:aa:aa:03",
    ]);
  });

  it.each([
    [{ Status: { State: "Enabled" } }, "field MACAddress missing"],
    [{ MACAddress: "n/a" }, 'field MACAddress is not a MAC address ("n/a")'],
    [{ MACAddress: "" }, "field MACAddress missing"],
    [{ MACAddress: "00:00:00:00:00:00" }, "field MACAddress is the zero MAC 00:00:00:00:00:00"],
    [{ MACAddress: "FF-FF-FF-FF-FF-FF" }, "field MACAddress is the broadcast MAC ff:ff:ff:ff:ff:ff"],
  ])("skips an interface %j with a warning naming its URI, and keeps the others", async (nic, problem) => {
    const resources = dmtfResources();
    resources[`${B1}/EthernetInterfaces/N2`] = nic;
    const system = await connect(fakePodManager(resources)).getSystem("S1");
    expect(system.warnings).toEqual([`GET ${B1}/EthernetInterfaces/N2: ${problem}: skipped`]);
    expect(system.hardware.nics.map((found) => found.mac)).toEqual([
      "aa:aa:aa:aa:aa:01",
      "aa:aa:aa:aa:aa:03",
    ]);
  });

  it("counts threads and takes local_gb from volumes when every Storage has Volumes, as Ironic", async () => {
    const resources = dmtfResources();
    const cpu = {
      ProcessorType: "CPU",
      ProcessorArchitecture: "ARM",
      InstructionSet: "ARM-A64",
      TotalCores: 32,
    };
    resources[`${B1}/Processors/CPU0`] = { ...cpu, TotalThreads: 64 };
    resources[`${B1}/Processors/CPU1`] = { ...cpu, TotalThreads: 64 };
    resources[`${S1}/Storage/1`] = {
      Drives: [link(`${B2}/Drives/D0`), link(`${B2}/Drives/D1`)],
      Volumes: link(`${S1}/Storage/1/Volumes`),
    };
    resources[`${S1}/Storage/1/Volumes`] = members(`${S1}/Storage/1/Volumes/1`, `${S1}/Storage/1/Volumes/2`);
    resources[`${S1}/Storage/1/Volumes/1`] = { CapacityBytes: 600 * 1024 ** 3 };
    resources[`${S1}/Storage/1/Volumes/2`] = { CapacityBytes: 1024 ** 3 };
    const system = await connect(fakePodManager(resources)).getSystem("S1");
    // Was cpus 64 (cores), local_gb 750 (both drives), cpu_arch aarch64.
    expect(system.hardware).toMatchObject({ cpus: 128, local_gb: 599, cpu_arch: "arm" });
  });

  it("ignores volumes when one Storage has no Volumes, and counts only Enabled simple-storage devices", async () => {
    const resources = dmtfResources();
    resources[S1] = { ...(resources[S1] as object), SimpleStorage: link(`${S1}/SimpleStorage`) };
    resources[`${S1}/Storage`] = members(`${S1}/Storage/1`, `${S1}/Storage/2`);
    resources[`${S1}/Storage/1`] = {
      Drives: [link(`${B2}/Drives/D0`), link(`${B2}/Drives/D1`)],
      Volumes: link(`${S1}/Storage/1/Volumes`),
    };
    resources[`${S1}/Storage/1/Volumes`] = members(`${S1}/Storage/1/Volumes/1`);
    resources[`${S1}/Storage/1/Volumes/1`] = { CapacityBytes: 20 * 1024 ** 3 };
    // No Volumes here: sushy fails reading volumes and Ironic falls back to the drives (250 GiB the smallest).
    resources[`${S1}/Storage/2`] = { Drives: [] };
    resources[`${S1}/SimpleStorage`] = members(`${S1}/SimpleStorage/1`);
    resources[`${S1}/SimpleStorage/1`] = {
      Devices: [
        { CapacityBytes: 100 * 1024 ** 3, Status: { State: "Disabled" } },
        { CapacityBytes: 100 * 1024 ** 3 },
        { CapacityBytes: 300 * 1024 ** 3, Status: { State: "Enabled" } },
      ],
    };
    const system = await connect(fakePodManager(resources)).getSystem("S1");
    // min(250 GiB drive, 300 GiB enabled device) - 1 (was 1250: every drive and device summed).
    expect(system.hardware.local_gb).toBe(249);
    resources[`${S1}/Storage/2`] = { Drives: [], Volumes: link(`${S1}/Storage/1/Volumes`) };
    const withVolumes = await connect(fakePodManager(resources)).getSystem("S1");
    expect(withVolumes.hardware.local_gb).toBe(19);
  });

  it("takes memory from MemorySummary and cores from ProcessorSummary when there are no collections", async () => {
    const resources = dmtfResources();
    resources[S1] = {
      Id: "S1",
      MemorySummary: { TotalSystemMemoryGiB: 48 },
      ProcessorSummary: { Count: 2, CoreCount: 20 },
    };
    const system = await connect(fakePodManager(resources)).getSystem("S1");
    expect(system.hardware).toEqual({
      cpus: 20,
      memory_mb: 49152,
      local_gb: 0,
      cpu_arch: "x86_64",
      nics: [],
      // No collections, no blocks: nothing to summarize.
      summary: { processors: [], drives: [], nics: [], memory: [] },
    });
  });

  it("is a ComposedSystemNotFoundError when the system does not exist", async () => {
    const error = await connect(fakePodManager(dmtfResources()))
      .getSystem("Nope")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComposedSystemNotFoundError);
    expect((error as Error).message).toBe(
      `composed system Nope not found on pod manager ${POD} (/redfish/v1/Systems/Nope)`,
    );
  });
});

describe("getSystem with $expand", () => {
  /** The DMTF resources served as a service that takes `$expand` (each with its `@odata.id`, as Redfish has it). */
  function expanding(root: Record<string, unknown>, refuse?: number) {
    const resources: Record<string, Record<string, unknown>> = Object.fromEntries(
      Object.entries(dmtfResources()).map(([path, body]) => [
        path,
        { "@odata.id": path, ...(body as object) },
      ]),
    );
    resources["/redfish/v1/"] = { ...resources["/redfish/v1/"], ...root };
    return fakePodManager(resources, (call) => {
      const value = new URLSearchParams(call.query).get("$expand");
      if (call.method !== "GET" || value === null) return undefined;
      if (refuse) return redfishError("$expand is not implemented", refuse);
      const body = resources[call.path] as Record<string, unknown> | undefined;
      if (!body) return redfishError(`${call.path} not found`, 404);
      return reply(expandResource(body, parseExpand(value), (path) => resources[path] as never));
    });
  }
  const advertised = {
    ProtocolFeaturesSupported: {
      ExpandQuery: { ExpandAll: true, Levels: true, Links: true, NoLinks: true, MaxLevels: 6 },
    },
  };

  it("reads the system with its collections, members and drives in one request, the rest in one more", async () => {
    const plain = await connect(fakePodManager(dmtfResources())).getSystem("S1");
    const fake = expanding(advertised);

    const system = await connect(fake, { url: "http://expand.test:8443" }).getSystem("S1");

    expect(system).toEqual(plain);
    const reads = fake.calls
      .filter((call) => call.method === "GET")
      .map((call) => `${call.path}${call.query}`);
    expect(reads).toEqual([
      "/redfish/v1/",
      `${S1}?$expand=.($levels=3)`,
      `${B1}?$expand=.`,
      `${B2}?$expand=.`,
      "/redfish/v1/Systems/Inner/EthernetInterfaces?$expand=.",
    ]);
  });

  it("asks the service root once per pod manager, and no deeper than its MaxLevels", async () => {
    const url = "http://shallow.test:8443";
    const first = expanding({
      ProtocolFeaturesSupported: { ExpandQuery: { NoLinks: true, Levels: true, MaxLevels: 2 } },
    });
    await connect(first, { url }).getSystem("S1");
    const second = expanding({});
    await connect(second, { url }).getSystem("S1");

    const getsOf = (fake: typeof first) => fake.calls.filter((call) => call.method === "GET");
    expect(getsOf(first)[0]).toMatchObject({ path: "/redfish/v1/" });
    expect(getsOf(first)[1]).toMatchObject({ path: S1, query: "?$expand=.($levels=2)" });
    expect(getsOf(second).some((call) => call.path === "/redfish/v1/")).toBe(false);
    expect(getsOf(second)[0]).toMatchObject({ path: S1, query: "?$expand=.($levels=2)" });
  });

  it("reads without $expand where the root does not advertise it, or the service refuses it after all", async () => {
    const silent = expanding({});
    const plain = await connect(silent, { url: "http://silent.test:8443" }).getSystem("S1");
    expect(silent.calls.every((call) => call.query === "")).toBe(true);

    const refusing = expanding(advertised, 501);
    const system = await connect(refusing, { url: "http://refusing.test:8443" }).getSystem("S1");
    expect(system).toEqual(plain);
    const expandedReads = refusing.calls.filter((call) => call.query !== "");
    expect(expandedReads.map((call) => call.path)).toEqual([S1]);
    const gets = refusing.calls
      .filter((call) => call.method === "GET" && call.query === "")
      .map((c) => c.path);
    expect(new Set(gets).size).toBe(gets.length);
  });
});

describe("unexpected shapes", () => {
  async function failure(change: (resources: Record<string, unknown>) => void): Promise<Error> {
    const resources = dmtfResources();
    change(resources);
    const error = await connect(fakePodManager(resources))
      .getSystem("S1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodManagerResponseError);
    return error as Error;
  }

  it("names the system's missing Id", async () => {
    const error = await failure((r) => {
      r[S1] = { Name: "no id" };
    });
    expect(error.message).toBe(`pod manager ${POD}: GET ${S1}: field Id missing`);
  });

  it("names a field of the wrong type", async () => {
    const error = await failure((r) => {
      r[`${B1}/Processors/CPU1`] = { TotalCores: "thirty-two" };
    });
    expect(error.message).toBe(
      `pod manager ${POD}: GET ${B1}/Processors/CPU1: field TotalCores: expected number, received string`,
    );
  });

  it("names a collection without Members", async () => {
    const error = await failure((r) => {
      r[`${S1}/Memory`] = { Name: "Memory" };
    });
    expect(error.message).toBe(`pod manager ${POD}: GET ${S1}/Memory: field Members missing`);
  });

  it("refuses a 200 that is not JSON", async () => {
    const error = await failure((r) => {
      r[`${S1}/Storage`] = new Response("<html>oops</html>", { status: 200 });
    });
    expect(error.message).toBe(
      `pod manager ${POD}: GET ${S1}/Storage answered 200 with a body that is not JSON`,
    );
  });

  it("names a sub-resource that answers 404", async () => {
    const error = await failure((r) => {
      delete r[`${B2}/Drives/D1`];
    });
    expect(error.message).toBe(
      `pod manager ${POD}: GET ${B2}/Drives/D1 answered 404: ${B2}/Drives/D1 not found`,
    );
  });
});

describe("getSystem (RSD)", () => {
  it("reads the node's devices and gives the ComputerSystem path as resourceUri", async () => {
    const fake = fakePodManager(rsdResources());
    const system = await connect(fake, { driver: "rsd" }).getSystem("7");
    expect(system).toEqual({
      index: "7",
      resourceUri: "/redfish/v1/Systems/sled-3",
      composition: [
        "EthernetInterfaces:/redfish/v1/Systems/sled-3/EthernetInterfaces/1",
        "LocalDrives:/redfish/v1/Chassis/1/Drives/1",
        "Processors:/redfish/v1/Systems/sled-3/Processors/1",
        "Processors:/redfish/v1/Systems/sled-3/Processors/2",
        "RemoteDrives:/redfish/v1/Services/1/Targets/1",
      ],
      name: "node-7",
      powerState: "Off",
      state: "Assembled",
      boot: { target: "Hdd", allowedTargets: ["Pxe", "Hdd"] },
      hardware: {
        cpus: 20,
        memory_mb: 65536,
        // The smaller drive, the 80 GiB remote target, minus 1 (was 200, both drives).
        local_gb: 79,
        cpu_arch: "x86_64",
        nics: [{ mac: "00:1e:67:ab:cd:ef", enabled: true }],
        summary: expect.any(Object),
      },
    });
    expect(typeof system.resourceUri).toBe("string");
  });

  it("reads the ComputerSystem when the node lists no devices", async () => {
    const resources = rsdResources();
    resources[N7] = { Id: "7", Links: { ComputerSystem: link("/redfish/v1/Systems/sled-3") } };
    resources["/redfish/v1/Systems/sled-3"] = {
      Id: "sled-3",
      EthernetInterfaces: link("/redfish/v1/Systems/sled-3/EthernetInterfaces"),
      MemorySummary: { TotalSystemMemoryGiB: 8 },
    };
    resources["/redfish/v1/Systems/sled-3/EthernetInterfaces"] = members(
      "/redfish/v1/Systems/sled-3/EthernetInterfaces/1",
    );
    const system = await connect(fakePodManager(resources), { driver: "rsd" }).getSystem("7");
    expect(system.hardware.memory_mb).toBe(8192);
    expect(system.hardware.nics).toEqual([{ mac: "00:1e:67:ab:cd:ef", enabled: true }]);
  });

  it("names the node's missing ComputerSystem link", async () => {
    const resources = rsdResources();
    resources[N7] = { Id: "7", Links: {} };
    const error = await connect(fakePodManager(resources), { driver: "rsd" })
      .getSystem("7")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodManagerResponseError);
    expect((error as Error).message).toBe(
      `pod manager ${POD}: GET ${N7}: field Links.ComputerSystem missing`,
    );
  });
});

describe("NICs listed under the system's chassis", () => {
  const C1 = "/redfish/v1/Chassis/C1";
  const A1 = `${C1}/NetworkAdapters/A1`;
  const A2 = `${C1}/NetworkAdapters/A2`;
  const UNLINKED = "/redfish/v1/Chassis/Other";

  /** The DMTF system with no EthernetInterfaces anywhere: its NICs are its chassis' adapter ports. */
  function chassisResources(): Record<string, unknown> {
    const resources = dmtfResources();
    resources[`${S1}/EthernetInterfaces`] = members();
    resources[B1] = { ...(resources[B1] as object), EthernetInterfaces: [] };
    resources["/redfish/v1/Systems/Inner"] = { Id: "Inner" };
    const s1 = resources[S1] as { Links: object };
    resources[S1] = { ...s1, Links: { ...s1.Links, Chassis: [link(C1)] } };
    return {
      ...resources,
      [C1]: { Id: "C1", NetworkAdapters: link(`${C1}/NetworkAdapters`) },
      [`${C1}/NetworkAdapters`]: members(A1, A2),
      [A1]: { Id: "A1", Ports: link(`${A1}/Ports`) },
      [`${A1}/Ports`]: members(`${A1}/Ports/1`, `${A1}/Ports/2`),
      [`${A1}/Ports/1`]: {
        Ethernet: { AssociatedMACAddresses: ["AA:BB:CC:00:00:01"] },
        Status: { State: "Enabled" },
      },
      [`${A1}/Ports/2`]: { Ethernet: { AssociatedMACAddresses: ["00:00:00:00:00:00", "aa:bb:cc:00:00:02"] } },
      // The older NetworkPorts, a MAC repeated from A1 and one disabled.
      [A2]: { Id: "A2", NetworkPorts: link(`${A2}/NetworkPorts`) },
      [`${A2}/NetworkPorts`]: members(`${A2}/NetworkPorts/1`),
      [`${A2}/NetworkPorts/1`]: {
        AssociatedNetworkAddresses: ["AA-BB-CC-00-00-01", "AA:BB:CC:00:00:03"],
        Status: { State: "Disabled" },
      },
      [UNLINKED]: { Id: "Other", NetworkAdapters: link(`${UNLINKED}/NetworkAdapters`) },
      [`${UNLINKED}/NetworkAdapters`]: members(`${UNLINKED}/NetworkAdapters/X`),
    };
  }

  it("reads Ports and the older NetworkPorts of linked chassis only, deduplicated, skipping the zero MAC", async () => {
    const fake = fakePodManager(chassisResources());
    const system = await connect(fake).getSystem("S1");
    expect(system.hardware.nics).toEqual([
      { mac: "aa:bb:cc:00:00:01", enabled: true },
      { mac: "aa:bb:cc:00:00:02", enabled: true },
      { mac: "aa:bb:cc:00:00:03", enabled: false },
    ]);
    expect(system.warnings).toEqual([
      `GET ${A1}/Ports/2: Ethernet.AssociatedMACAddresses[0] is the zero MAC 00:00:00:00:00:00: skipped`,
    ]);
    expect(fake.gets().filter((path) => path.startsWith(UNLINKED))).toEqual([]);
  });

  it("leaves the chassis alone when the system lists a usable NIC", async () => {
    const resources = chassisResources();
    resources[`${S1}/EthernetInterfaces`] = members(`${S1}/EthernetInterfaces/1`);
    const fake = fakePodManager(resources);
    const system = await connect(fake).getSystem("S1");
    expect(system.hardware.nics).toEqual([{ mac: "aa:aa:aa:aa:aa:01", enabled: true }]);
    expect(fake.gets().filter((path) => path.startsWith("/redfish/v1/Chassis"))).toEqual([]);
  });

  it("falls back to the chassis when every interface the system lists has an unusable MAC", async () => {
    const resources = chassisResources();
    resources[`${S1}/EthernetInterfaces`] = members(`${S1}/EthernetInterfaces/1`);
    resources[`${S1}/EthernetInterfaces/1`] = { MACAddress: "FF:FF:FF:FF:FF:FF" };
    const system = await connect(fakePodManager(resources)).getSystem("S1");
    expect(system.hardware.nics.map((nic) => nic.mac)).toEqual([
      "aa:bb:cc:00:00:01",
      "aa:bb:cc:00:00:02",
      "aa:bb:cc:00:00:03",
    ]);
    expect(system.warnings).toHaveLength(2);
  });

  it("reads an RSD node's chassis when the node links no NIC", async () => {
    const resources = rsdResources();
    const node = resources[N7] as { Links: object };
    resources[N7] = { ...node, Links: { ...node.Links, EthernetInterfaces: [] } };
    resources["/redfish/v1/Systems/sled-3"] = { Id: "sled-3", Links: { Chassis: [link(C1)] } };
    Object.assign(resources, {
      [C1]: { NetworkAdapters: link(`${C1}/NetworkAdapters`) },
      [`${C1}/NetworkAdapters`]: members(A2),
      [A2]: { NetworkPorts: link(`${A2}/NetworkPorts`) },
      [`${A2}/NetworkPorts`]: members(`${A2}/NetworkPorts/1`),
      [`${A2}/NetworkPorts/1`]: { AssociatedNetworkAddresses: ["00:1E:67:AB:CD:F0"] },
    });
    const system = await connect(fakePodManager(resources), { driver: "rsd" }).getSystem("7");
    expect(system.hardware.nics).toEqual([{ mac: "00:1e:67:ab:cd:f0", enabled: true }]);
  });
});

describe("listComposedSystems", () => {
  it("lists only composed DMTF systems, skipping members that vanished", async () => {
    const systems = await connect(fakePodManager(dmtfResources())).listComposedSystems();
    expect(systems).toEqual([
      {
        index: "S1",
        resourceUri: S1,
        // Read from the same GET that tells a composed system: no request more.
        composition: [
          "ResourceBlocks:/redfish/v1/CompositionService/ResourceBlocks/B1",
          "ResourceBlocks:/redfish/v1/CompositionService/ResourceBlocks/B2",
        ],
      },
    ]);
  });

  it("lists RSD nodes with their ComputerSystem paths", async () => {
    const systems = await connect(fakePodManager(rsdResources()), { driver: "rsd" }).listComposedSystems();
    expect(systems).toEqual([
      {
        index: "7",
        resourceUri: "/redfish/v1/Systems/sled-3",
        composition: [
          "EthernetInterfaces:/redfish/v1/Systems/sled-3/EthernetInterfaces/1",
          "LocalDrives:/redfish/v1/Chassis/1/Drives/1",
          "Processors:/redfish/v1/Systems/sled-3/Processors/1",
          "Processors:/redfish/v1/Systems/sled-3/Processors/2",
          "RemoteDrives:/redfish/v1/Services/1/Targets/1",
        ],
      },
    ]);
  });
});

describe("probe", () => {
  it("reads the root without credentials, then checks them on the collection", async () => {
    const fake = fakePodManager(dmtfResources());
    await expect(connect(fake).probe()).resolves.toEqual({ redfishVersion: "1.15.0", uuid: "root-uuid" });
    const root = fake.calls.find((call) => call.path === "/redfish/v1/");
    expect(root?.headers.get("authorization")).toBeNull();
    expect(root?.headers.get("x-auth-token")).toBeNull();
    const systems = fake.calls.find((call) => call.path === "/redfish/v1/Systems");
    expect(systems?.headers.get("x-auth-token")).toBe(TOKEN);
  });

  it("rejects a root that is not JSON", async () => {
    const fake = fakePodManager({
      "/redfish/v1/": new Response("<html>router login</html>", { status: 200 }),
    });
    await expect(connect(fake).probe()).rejects.toThrow(
      new PodManagerResponseError(POD, "GET /redfish/v1/ answered 200 with a body that is not JSON"),
    );
  });

  it("rejects a service without a Redfish root", async () => {
    const fake = fakePodManager({});
    await expect(connect(fake).probe()).rejects.toThrow(
      new PodManagerResponseError(POD, "GET /redfish/v1/ answered 404: /redfish/v1/ not found"),
    );
  });

  it("rejects an RSD connection to a service without Nodes", async () => {
    const fake = fakePodManager(dmtfResources());
    await expect(connect(fake, { driver: "rsd" }).probe()).rejects.toThrow(
      /GET \/redfish\/v1\/: field Nodes missing/,
    );
  });
});

describe("authentication", () => {
  it("opens one session for parallel reads, sends its token, and deletes it on close", async () => {
    const fake = fakePodManager(dmtfResources(), undefined, 2);
    const client = connect(fake);
    await client.getSystem("S1");
    await client.close();
    expect(fake.calls.filter((call) => call.path === "/redfish/v1/SessionService/Sessions")).toHaveLength(1);
    const login = fake.calls.find((call) => call.method === "POST");
    expect(login?.body).toEqual({ UserName: "valence", Password: PASSWORD });
    const reads = fake.calls.filter((call) => call.method === "GET");
    expect(reads.every((call) => call.headers.get("x-auth-token") === TOKEN)).toBe(true);
    expect(reads.every((call) => call.headers.get("authorization") === null)).toBe(true);
    const logout = fake.calls.at(-1);
    expect(logout).toMatchObject({ method: "DELETE", path: SESSION });
    expect(logout?.headers.get("x-auth-token")).toBe(TOKEN);
  });

  it.each([405, 404, 400, 501])("falls back to Basic when sessions answer %i", async (status) => {
    const fake = fakePodManager(dmtfResources(), (call) =>
      call.method === "POST" ? redfishError("no sessions", status) : undefined,
    );
    const client = connect(fake);
    await client.getSystem("S1");
    await client.close();
    const basic = `Basic ${Buffer.from(`valence:${PASSWORD}`).toString("base64")}`;
    const reads = fake.calls.filter((call) => call.method === "GET");
    expect(reads.every((call) => call.headers.get("authorization") === basic)).toBe(true);
    expect(fake.calls.some((call) => call.method === "DELETE")).toBe(false);
  });

  it("a one-shot read sends Basic from the first request: no session to open or close", async () => {
    const fake = fakePodManager(dmtfResources(), undefined, 2);
    const client = connect(fake, { preferBasic: true });
    await client.getSystem("S1");
    await client.close();
    const basic = `Basic ${Buffer.from(`valence:${PASSWORD}`).toString("base64")}`;
    expect(fake.calls.every((call) => call.method === "GET")).toBe(true);
    expect(fake.calls.every((call) => call.headers.get("authorization") === basic)).toBe(true);
  });

  it("a one-shot read opens a session where Basic is refused, once for parallel reads, and remembers it", async () => {
    const url = "http://basic-refused.test:8443";
    const resources = dmtfResources();
    const fake = fakePodManager(resources, (call) =>
      call.headers.get("authorization") ? redfishError("use a session", 401) : undefined,
    );
    const client = createPodManagerClient(
      { url, username: "valence", password: PASSWORD, driver: "redfish", verifyCa: true, preferBasic: true },
      { fetch: fake.fetch },
    );
    const system = await client.getSystem("S1");
    await client.close();
    expect(system.index).toBe("S1");
    const logins = fake.calls.filter((call) => call.method === "POST");
    expect(logins).toHaveLength(1);
    expect(fake.calls.filter((call) => call.headers.get("authorization"))).toHaveLength(1);
    expect(fake.calls.at(-1)).toMatchObject({ method: "DELETE", path: SESSION });

    // The next one-shot read of that pod manager logs in at once.
    const again = fakePodManager(resources);
    const next = createPodManagerClient(
      { url, username: "valence", password: PASSWORD, driver: "redfish", verifyCa: true, preferBasic: true },
      { fetch: again.fetch },
    );
    await next.getSystem("S1");
    await next.close();
    expect(again.calls[0]).toMatchObject({ method: "POST", path: "/redfish/v1/SessionService/Sessions" });
    expect(again.calls.some((call) => call.headers.get("authorization"))).toBe(false);
  });

  it("is a PodManagerAuthError when the session login is refused", async () => {
    const fake = fakePodManager(dmtfResources(), (call) =>
      call.method === "POST" ? redfishError("bad credentials", 401) : undefined,
    );
    const error = await connect(fake)
      .getSystem("S1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodManagerAuthError);
    expect((error as PodManagerAuthError).code).toBe("PodManagerAuth");
    expect((error as Error).message).toBe(
      `pod manager ${POD} refused the credentials (401 on POST /redfish/v1/SessionService/Sessions)`,
    );
  });

  it("is a PodManagerAuthError on a 401 or 403 anywhere", async () => {
    const fake = fakePodManager(dmtfResources(), (call) =>
      call.path === `${S1}/Memory` ? redfishError("forbidden", 403) : undefined,
    );
    const error = await connect(fake)
      .getSystem("S1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodManagerAuthError);
    expect((error as Error).message).toContain(`(403 on GET ${S1}/Memory)`);
  });

  it("sends the connection's extra headers with every request", async () => {
    const fake = fakePodManager(dmtfResources());
    await connect(fake, { headers: { "X-Request-Id": "req-42" } }).getSystem("S1");
    expect(fake.calls.every((call) => call.headers.get("x-request-id") === "req-42")).toBe(true);
  });
});

describe("transport", () => {
  it("times out a request that hangs", async () => {
    const hang: Override = (call) =>
      new Promise<Response>((_, reject) => {
        call.signal?.addEventListener("abort", () => reject(call.signal?.reason));
      });
    const error = await connect(fakePodManager({}, hang), { timeoutMs: 50 })
      .probe()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodManagerUnreachableError);
    expect((error as Error).message).toBe(
      `pod manager ${POD} unreachable: GET /redfish/v1/ timed out after 50 ms`,
    );
  });

  it("reports the socket error behind fetch's 'fetch failed'", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:8443"), { code: "ECONNREFUSED" });
    const fake = fakePodManager({}, () => {
      throw new TypeError("fetch failed", { cause: refused });
    });
    const error = await connect(fake)
      .probe()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodManagerUnreachableError);
    expect((error as PodManagerUnreachableError).code).toBe("PodManagerUnreachable");
    expect((error as Error).message).toBe(
      `pod manager ${POD} unreachable: connect ECONNREFUSED 10.0.0.1:8443`,
    );
  });
});

describe("secrets", () => {
  const basic = Buffer.from(`valence:${PASSWORD}`).toString("base64");

  function text(error: unknown): string {
    const parts: string[] = [];
    for (let current = error; current instanceof Error; current = current.cause) {
      parts.push(current.message, String(current.stack));
    }
    return parts.join("\n");
  }

  const scenarios: Array<[string, Override]> = [
    [
      "a refused login",
      (call) => (call.method === "POST" ? redfishError(`password ${PASSWORD} rejected`, 401) : undefined),
    ],
    [
      "an upstream error echoing the password and token",
      (call) =>
        call.path === S1
          ? redfishError(`bad request: Password=${PASSWORD} X-Auth-Token=${TOKEN} ${basic}`, 500)
          : undefined,
    ],
    [
      "a socket error quoting the request",
      (call) => {
        if (call.method === "POST") return undefined;
        throw new TypeError("fetch failed", {
          cause: new Error(`reset while sending Authorization: ${TOKEN}`),
        });
      },
    ],
    ["a shape error", (call) => (call.path === S1 ? reply({ Name: PASSWORD }) : undefined)],
  ];

  it.each(scenarios)("keeps them out of the error for %s", async (_name, override) => {
    const error = await connect(fakePodManager(dmtfResources(), override))
      .getSystem("S1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const all = text(error);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain(basic);
  });

  it("keeps them out when they come inside the URL", async () => {
    const fake = fakePodManager({}, () => {
      throw new TypeError("fetch failed", { cause: new Error("getaddrinfo ENOTFOUND podm.test") });
    });
    const client = connect(fake, { url: `http://valence:${PASSWORD}@podm.test:8443/redfish/v1` });
    const error = await client.probe().catch((e: unknown) => e);
    expect((error as Error).message).toBe(`pod manager ${POD} unreachable: getaddrinfo ENOTFOUND podm.test`);
    expect(text(error)).not.toContain(PASSWORD);
  });
});

describe("compose (DMTF)", () => {
  function composing(capabilities: string[], answer?: Override) {
    const resources = dmtfResources();
    (resources["/redfish/v1/Systems"] as Record<string, unknown>)["@Redfish.CollectionCapabilities"] = {
      Capabilities: capabilities.map((useCase) => ({ UseCase: useCase })),
    };
    return fakePodManager(resources, (call) => {
      if (call.method === "POST" && call.path === "/redfish/v1/Systems") {
        return answer?.(call) ?? reply({}, 201, { Location: `https://10.1.1.1:8443${S1}` });
      }
      return undefined;
    });
  }
  const posted = (fake: ReturnType<typeof composing>) =>
    fake.calls.find((call) => call.method === "POST" && call.path === "/redfish/v1/Systems")?.body;

  it("composes from named resource blocks and reads the system back from its Location", async () => {
    const fake = composing(["ComputerSystemComposition"]);
    const system = await connect(fake).compose({
      name: "web-1",
      description: "web tier",
      resourceBlocks: ["B1", B2],
    });
    expect(posted(fake)).toEqual({
      Name: "web-1",
      Description: "web tier",
      Links: { ResourceBlocks: [link(B1), link(B2)] },
    });
    expect(system.index).toBe("S1");
    expect(system.resourceUri).toBe(S1);
    expect(system.hardware.nics).toHaveLength(3);
  });

  it("composes from constraints with requested counts", async () => {
    const fake = composing(["ComputerSystemConstrainedComposition"]);
    await connect(fake).compose({ name: "db-1", totalCores: 16, memoryMib: 65536, processorModel: "Xeon" });
    expect(posted(fake)).toEqual({
      Name: "db-1",
      Processors: {
        Members: [{ "@Redfish.RequestedCount": 1, ProcessorType: "CPU", TotalCores: 16, Model: "Xeon" }],
      },
      Memory: { Members: [{ "@Redfish.RequestedCount": 1, MemoryType: "DRAM", CapacityMiB: 65536 }] },
    });
  });

  it("does not POST a kind of composition the service does not advertise", async () => {
    const fake = composing(["ComputerSystemComposition"]);
    const error = await connect(fake)
      .compose({ name: "db-1", totalCores: 16 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompositionUnsupportedError);
    expect((error as Error).message).toContain(
      "it offers only specific composition; name the resource blocks",
    );
    expect(posted(fake)).toBeUndefined();

    const none = composing([]);
    await expect(connect(none).compose({ name: "x", resourceBlocks: ["B1"] })).rejects.toBeInstanceOf(
      CompositionUnsupportedError,
    );
  });

  it("needs something to constrain", async () => {
    const fake = composing(["ComputerSystemConstrainedComposition"]);
    await expect(connect(fake).compose({ name: "x" })).rejects.toBeInstanceOf(ValidationError);
  });

  it("is a CompositionRefusedError with the pod manager's reason on 409", async () => {
    const fake = composing(["ComputerSystemComposition"], () => redfishError("block B1 is in use", 409));
    const error = await connect(fake)
      .compose({ name: "x", resourceBlocks: ["B1"] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompositionRefusedError);
    expect((error as CompositionRefusedError).code).toBe("CompositionRefused");
    expect((error as Error).message).toBe(`pod manager ${POD} refused the composition: block B1 is in use`);
  });

  it("is a CompositionFailedError on 500", async () => {
    const fake = composing(["ComputerSystemComposition"], () => redfishError("internal", 500));
    await expect(connect(fake).compose({ name: "x", resourceBlocks: ["B1"] })).rejects.toThrow(
      new CompositionFailedError(POD, "POST /redfish/v1/Systems answered 500: internal"),
    );
  });
});

describe("compose (RSD)", () => {
  it("allocates with requirements, assembles, and reads the node back", async () => {
    const fake = fakePodManager(rsdResources(), (call) => {
      if (call.path === "/redfish/v1/Nodes/Actions/Allocate") return reply({}, 201, { Location: N7 });
      if (call.path === `${N7}/Actions/ComposedNode.Assemble`) return reply(null, 204);
      return undefined;
    });
    const system = await connect(fake, { driver: "rsd" }).compose({
      name: "n",
      totalCores: 20,
      memoryMib: 1024,
    });
    expect(fake.calls.find((call) => call.path.endsWith("/Allocate"))?.body).toEqual({
      Name: "n",
      Processors: [{ TotalCores: 20 }],
      Memory: [{ CapacityMiB: 1024 }],
    });
    expect(system.index).toBe("7");
    expect(system.resourceUri).toBe("/redfish/v1/Systems/sled-3");
  });

  it("deletes the allocated node when assembly fails", async () => {
    const fake = fakePodManager(rsdResources(), (call) => {
      if (call.path === "/redfish/v1/Nodes/Actions/Allocate") return reply({}, 201, { Location: N7 });
      if (call.path === `${N7}/Actions/ComposedNode.Assemble`) return redfishError("assembly failed", 500);
      return undefined;
    });
    const error = await connect(fake, { driver: "rsd" })
      .compose({ name: "n", totalCores: 2 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompositionFailedError);
    expect((error as Error).message).toBe(
      `pod manager ${POD}: composition failed: POST ${N7}/Actions/ComposedNode.Assemble answered 500: assembly failed; the allocated node ${N7} was deleted`,
    );
    expect(fake.calls.some((call) => call.method === "DELETE" && call.path === N7)).toBe(true);
  });

  it("refuses resource blocks, which RSD does not have", async () => {
    const fake = fakePodManager(rsdResources());
    await expect(
      connect(fake, { driver: "rsd" }).compose({ name: "n", resourceBlocks: ["B1"] }),
    ).rejects.toBeInstanceOf(CompositionUnsupportedError);
    expect(fake.calls.some((call) => call.method === "POST" && call.path.endsWith("/Allocate"))).toBe(false);
  });
});

describe("decompose, reset and boot", () => {
  it("treats an already deleted system as decomposed", async () => {
    const fake = fakePodManager({}, (call) =>
      call.method === "DELETE" ? redfishError("gone", 404) : undefined,
    );
    await expect(connect(fake).decompose("S1")).resolves.toBeUndefined();
    await expect(connect(fake, { driver: "rsd" }).decompose("7")).resolves.toBeUndefined();
    expect(fake.calls.filter((call) => call.method === "DELETE").map((call) => call.path)).toEqual([S1, N7]);
  });

  it("reports a refused decomposition", async () => {
    const fake = fakePodManager({}, (call) =>
      call.method === "DELETE" ? redfishError("in use", 409) : undefined,
    );
    await expect(connect(fake).decompose("S1")).rejects.toBeInstanceOf(PodManagerResponseError);
  });

  it("posts the reset to the advertised target, after checking the allowed types", async () => {
    const fake = fakePodManager(dmtfResources(), (call) =>
      call.method === "POST" && call.path.includes("Reset") ? reply(null, 204) : undefined,
    );
    const client = connect(fake);
    await client.reset("S1", "ForceOff");
    expect(fake.calls.at(-1)).toMatchObject({
      method: "POST",
      path: `${S1}/Actions/ComputerSystem.Reset`,
      body: { ResetType: "ForceOff" },
    });
    const error = await client.reset("S1", "Nmi").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe(`reset type Nmi is not allowed by ${S1}; allowed: On, ForceOff`);
  });

  it("resets an RSD node through the node's action", async () => {
    const fake = fakePodManager(rsdResources(), (call) =>
      call.method === "POST" && call.path.includes("Reset") ? reply(null, 204) : undefined,
    );
    await connect(fake, { driver: "rsd" }).reset("7", "On");
    expect(fake.calls.at(-1)).toMatchObject({
      path: `${N7}/Actions/ComposedNode.Reset`,
      body: { ResetType: "On" },
    });
  });

  it("patches the boot override with the ETag it read", async () => {
    const resources = dmtfResources();
    resources[S1] = new Response(JSON.stringify(resources[S1]), {
      status: 200,
      headers: { ETag: 'W/"abc"' },
    });
    const fake = fakePodManager(resources, (call) =>
      call.method === "PATCH" ? reply(null, 204) : undefined,
    );
    await connect(fake).setBoot("S1", { enabled: "Once", target: "Pxe" });
    const patch = fake.calls.find((call) => call.method === "PATCH");
    expect(patch?.path).toBe(S1);
    expect(patch?.body).toEqual({
      Boot: { BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: "Pxe" },
    });
    expect(patch?.headers.get("if-match")).toBe('W/"abc"');
  });

  it("refuses a boot target the system does not allow", async () => {
    const fake = fakePodManager(dmtfResources());
    const error = await connect(fake)
      .setBoot("S1", { enabled: "Once", target: "Cd" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe(`boot target Cd is not allowed by ${S1}; allowed: None, Pxe, Hdd`);
    expect(fake.calls.some((call) => call.method === "PATCH")).toBe(false);
  });

  it("is a ComposedSystemNotFoundError to reset or boot a missing node", async () => {
    const client = connect(fakePodManager(rsdResources()), { driver: "rsd" });
    await expect(client.reset("8", "On")).rejects.toBeInstanceOf(ComposedSystemNotFoundError);
    await expect(client.setBoot("8", { enabled: "Once", target: "Pxe" })).rejects.toBeInstanceOf(
      ComposedSystemNotFoundError,
    );
  });
});
