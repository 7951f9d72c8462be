import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  defaultInventory,
  type EmulatorMode,
  type RedfishEmulator,
  startRedfishEmulator,
} from "../../local/redfish-emulator/index.ts";

/** The emulator as a Redfish service, seen with plain HTTP: what sushy and other clients rely on. */

const BASIC = `Basic ${Buffer.from("admin:admin").toString("base64")}`;

async function call(
  emulator: RedfishEmulator,
  method: string,
  path: string,
  options: { body?: unknown; auth?: boolean; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth !== false) headers.Authorization = BASIC;
  if (options.body !== undefined) headers["Content-Type"] ??= "application/json";
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const expectRedfishError = (body: unknown) =>
  expect(body).toEqual({
    error: {
      code: expect.stringMatching(/^Base\./),
      message: expect.any(String),
      "@Message.ExtendedInfo": expect.any(Array),
    },
  });

describe.each<EmulatorMode>(["dmtf", "rsd", "both"])("emulator in %s mode", (mode) => {
  let emulator: RedfishEmulator;
  beforeAll(async () => {
    emulator = await startRedfishEmulator({ mode });
  });
  afterAll(() => emulator.close());
  beforeEach(() => emulator.reset());

  async function composeOne(): Promise<string> {
    if (mode === "rsd") {
      const allocated = await call(emulator, "POST", "/redfish/v1/Nodes/Actions/Allocate", {
        body: { Name: "n", Processors: [{ TotalCores: 8 }] },
      });
      await call(emulator, "POST", `${allocated.headers.get("location")}/Actions/ComposedNode.Assemble`, {
        body: {},
      });
    } else {
      await call(emulator, "POST", "/redfish/v1/Systems", {
        body: {
          Name: "s",
          Links: {
            ResourceBlocks: [{ "@odata.id": "/redfish/v1/CompositionService/ResourceBlocks/ComputeBlock1" }],
          },
        },
      });
    }
    return String(emulator.composedSystems()[0]?.systemUri);
  }

  it("serves the service root without credentials, with what its mode offers", async () => {
    const { status, body } = await call(emulator, "GET", "/redfish/v1/", { auth: false });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      "@odata.id": "/redfish/v1/",
      "@odata.type": expect.stringMatching(/^#ServiceRoot\./),
      Id: expect.any(String),
      RedfishVersion: expect.any(String),
      UUID: expect.any(String),
      Systems: { "@odata.id": "/redfish/v1/Systems" },
      Managers: { "@odata.id": "/redfish/v1/Managers" },
      SessionService: { "@odata.id": "/redfish/v1/SessionService" },
      Links: { Sessions: { "@odata.id": "/redfish/v1/SessionService/Sessions" } },
    });
    expect("CompositionService" in body).toBe(mode !== "rsd");
    expect("Nodes" in body).toBe(mode !== "dmtf");
  });

  it("answers 401 with a Redfish error body to requests without valid credentials", async () => {
    const anonymous = await call(emulator, "GET", "/redfish/v1/Systems", { auth: false });
    expect(anonymous.status).toBe(401);
    expectRedfishError(anonymous.body);
    expect(anonymous.body.error["@Message.ExtendedInfo"]).toEqual([]);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic /);
    const wrong = await call(emulator, "GET", "/redfish/v1/Systems", {
      auth: false,
      headers: { Authorization: `Basic ${Buffer.from("admin:nope").toString("base64")}` },
    });
    expect(wrong.status).toBe(401);
    const badToken = await call(emulator, "GET", "/redfish/v1/Systems", {
      auth: false,
      headers: { "X-Auth-Token": "x" },
    });
    expect(badToken.status).toBe(401);
  });

  it("opens sessions with a token and Location, and refuses them with 405 when switched off", async () => {
    const opened = await call(emulator, "POST", "/redfish/v1/SessionService/Sessions", {
      auth: false,
      body: { UserName: "admin", Password: "admin" },
    });
    expect(opened.status).toBe(201);
    const token = String(opened.headers.get("x-auth-token"));
    const location = String(opened.headers.get("location"));
    expect(location).toMatch(/^\/redfish\/v1\/SessionService\/Sessions\/\w+$/);
    const withToken = await call(emulator, "GET", "/redfish/v1/Systems", {
      auth: false,
      headers: { "X-Auth-Token": token },
    });
    expect(withToken.status).toBe(200);
    expect((await call(emulator, "DELETE", location)).status).toBe(204);
    const afterLogout = await call(emulator, "GET", "/redfish/v1/Systems", {
      auth: false,
      headers: { "X-Auth-Token": token },
    });
    expect(afterLogout.status).toBe(401);

    const refusedLogin = await call(emulator, "POST", "/redfish/v1/SessionService/Sessions", {
      auth: false,
      body: { UserName: "admin", Password: "wrong" },
    });
    expect(refusedLogin.status).toBe(401);

    emulator.switches.sessionsEnabled = false;
    const off = await call(emulator, "POST", "/redfish/v1/SessionService/Sessions", {
      auth: false,
      body: { UserName: "admin", Password: "admin" },
    });
    expect(off.status).toBe(405);
    expectRedfishError(off.body);
  });

  it("links only to resources that exist, each with @odata.id and @odata.type", async () => {
    await composeOne();
    const seen = new Set<string>();
    const queue = ["/redfish/v1/"];
    while (queue.length > 0) {
      const path = queue.shift() as string;
      if (seen.has(path)) continue;
      seen.add(path);
      const { status, body } = await call(emulator, "GET", path);
      expect({ path, status }).toEqual({ path, status: 200 });
      if (path !== "/redfish/v1/" && !path.endsWith("/Actions/Allocate")) {
        expect(body["@odata.id"]).toBe(path);
        expect(body["@odata.type"]).toMatch(/^#\w+(\.v\d+_\d+_\d+)?\.\w+$/);
      }
      const links = JSON.stringify(body).matchAll(/"@odata\.id":"([^"]+)"/g);
      for (const [, link] of links) if (link && !seen.has(link)) queue.push(link);
    }
    expect(seen.size).toBeGreaterThan(mode === "rsd" ? 20 : 40);
  });

  it("shows a composed system with everything sushy reads", async () => {
    const systemUri = await composeOne();
    const { body } = await call(emulator, "GET", systemUri);
    expect(body).toMatchObject({
      Id: expect.any(String),
      Name: expect.any(String),
      SystemType: "Composed",
      UUID: expect.any(String),
      Manufacturer: expect.any(String),
      Model: expect.any(String),
      PowerState: "Off",
      Boot: {
        BootSourceOverrideEnabled: "Disabled",
        BootSourceOverrideTarget: "None",
        BootSourceOverrideMode: "UEFI",
        "BootSourceOverrideTarget@Redfish.AllowableValues": expect.arrayContaining(["Pxe", "Hdd", "None"]),
      },
      Actions: {
        "#ComputerSystem.Reset": {
          target: `${systemUri}/Actions/ComputerSystem.Reset`,
          "ResetType@Redfish.AllowableValues": expect.arrayContaining(["On", "ForceOff", "GracefulRestart"]),
        },
      },
      ProcessorSummary: { Count: 2 },
      MemorySummary: { TotalSystemMemoryGiB: 64 },
      EthernetInterfaces: { "@odata.id": `${systemUri}/EthernetInterfaces` },
      Processors: { "@odata.id": `${systemUri}/Processors` },
      Memory: { "@odata.id": `${systemUri}/Memory` },
      Storage: { "@odata.id": `${systemUri}/Storage` },
      Links: {
        ManagedBy: [{ "@odata.id": "/redfish/v1/Managers/PodManager" }],
        Chassis: [expect.any(Object)],
      },
    });
  });

  it("advertises $expand and expands subordinate hyperlinks (.), Links (~) or both (*), to $levels deep", async () => {
    const systemUri = await composeOne();
    const root = await call(emulator, "GET", "/redfish/v1/", { auth: false });
    expect(root.body.ProtocolFeaturesSupported.ExpandQuery).toEqual({
      ExpandAll: true,
      Levels: true,
      Links: true,
      NoLinks: true,
      MaxLevels: 6,
    });
    const plain = (await call(emulator, "GET", systemUri)).body;
    const processors = (await call(emulator, "GET", `${systemUri}/Processors`)).body;
    const firstCpu = (await call(emulator, "GET", processors.Members[0]["@odata.id"])).body;

    // `.` one level: the collections inline, their members still hyperlinks; Links untouched.
    const one = (await call(emulator, "GET", `${systemUri}?$expand=.`)).body;
    expect(one.Processors).toEqual(processors);
    expect(one.Links).toEqual(plain.Links);
    expect(one.Id).toBe(plain.Id);
    // Two levels: the members too.
    const two = (await call(emulator, "GET", `${systemUri}?$expand=.($levels=2)`)).body;
    expect(two.Processors.Members[0]).toEqual(firstCpu);
    expect(two.Links).toEqual(plain.Links);
    // `~`: only Links; the collections stay hyperlinks.
    const links = (await call(emulator, "GET", `${systemUri}?$expand=~`)).body;
    expect(links.Processors).toEqual({ "@odata.id": `${systemUri}/Processors` });
    expect(links.Links.ManagedBy[0]).toMatchObject({
      "@odata.id": "/redfish/v1/Managers/PodManager",
      Id: expect.any(String),
    });
    // `*`: both.
    const all = (await call(emulator, "GET", `${systemUri}?$expand=*`)).body;
    expect(all.Processors).toEqual(processors);
    expect(all.Links.ManagedBy[0]).toEqual(links.Links.ManagedBy[0]);
    // A collection's members are subordinate: `.` inlines them.
    const collection = (await call(emulator, "GET", `${systemUri}/Processors?$expand=.`)).body;
    expect(collection.Members[0]).toEqual(firstCpu);
  });

  it("without $expand (switch off) advertises none and answers 501 to one", async () => {
    const systemUri = await composeOne();
    emulator.switches.expandEnabled = false;
    const root = await call(emulator, "GET", "/redfish/v1/", { auth: false });
    expect(root.body.ProtocolFeaturesSupported).toBeUndefined();
    const response = await call(emulator, "GET", `${systemUri}?$expand=.`);
    expect(response.status).toBe(501);
    expectRedfishError(response.body);
  });

  it("answers 400 to a $expand it cannot parse or deeper than MaxLevels", async () => {
    const systemUri = await composeOne();
    for (const bad of ["x", ".($levels=0)", ".($levels=7)", ".(levels=2)"]) {
      const response = await call(emulator, "GET", `${systemUri}?$expand=${encodeURIComponent(bad)}`);
      expect(response.status).toBe(400);
      expectRedfishError(response.body);
    }
  });

  it.each([
    ["On", "On"],
    ["ForceOn", "On"],
    ["ForceRestart", "On"],
    ["GracefulRestart", "On"],
    ["PowerCycle", "On"],
    ["ForceOff", "Off"],
    ["GracefulShutdown", "Off"],
  ])("resets with %s to power %s at once", async (type, power) => {
    const systemUri = await composeOne();
    if (power === "On") {
      expect(emulator.composedSystems()[0]?.powerState).toBe("Off");
    } else {
      await call(emulator, "POST", `${systemUri}/Actions/ComputerSystem.Reset`, {
        body: { ResetType: "On" },
      });
    }
    const reset = await call(emulator, "POST", `${systemUri}/Actions/ComputerSystem.Reset`, {
      body: { ResetType: type },
    });
    expect(reset.status).toBe(204);
    expect(emulator.composedSystems()[0]?.powerState).toBe(power);
    expect((await call(emulator, "GET", systemUri)).body.PowerState).toBe(power);
  });

  it("writes the boot override through, accepting If-Match and any JSON content type", async () => {
    const systemUri = await composeOne();
    const patched = await call(emulator, "PATCH", systemUri, {
      body: {
        Boot: {
          BootSourceOverrideTarget: "Pxe",
          BootSourceOverrideEnabled: "Continuous",
          BootSourceOverrideMode: "Legacy",
        },
      },
      headers: { "If-Match": 'W/"stale"', "Content-Type": "application/json; charset=utf-8" },
    });
    expect(patched.status).toBe(200);
    expect(emulator.composedSystems()[0]?.boot).toEqual({
      enabled: "Continuous",
      target: "Pxe",
      mode: "Legacy",
    });
    const refused = await call(emulator, "PATCH", systemUri, {
      body: { Boot: { BootSourceOverrideTarget: "Floppy" } },
    });
    expect(refused.status).toBe(400);
    expectRedfishError(refused.body);
    expect(emulator.composedSystems()[0]?.boot.target).toBe("Pxe");
  });

  it("answers unknown and malformed paths with a Redfish 404, never a 5xx", async () => {
    const systemUri = await composeOne();
    const paths = [
      "/redfish/v1/Nope",
      "/redfish/v1/Systems/missing",
      `${systemUri}/Processors/not-a-cpu`,
      `${systemUri}/EthernetInterfaces/ComputeBlock2-NIC0`,
      `${systemUri}/Storage/Local/Drives/x/y`,
      "/redfish/v1/Managers/PodManager/LogServices",
      "/redfish/v1/CompositionService/ResourceBlocks/ComputeBlock1/Processors/ComputeBlock1-CPU0/extra",
      "/redfish/v1/Systems/%E0%A4%A",
      "/elsewhere",
    ];
    for (const path of paths) {
      const { status, body } = await call(emulator, "GET", path);
      expect({ path, status: status >= 500 ? status : "no 5xx" }).toEqual({ path, status: "no 5xx" });
      expect([400, 404]).toContain(status);
      expectRedfishError(body);
    }
  });

  it("refuses composition with a 409 Redfish error when switched to", async () => {
    emulator.switches.refuseComposition = true;
    const { status, body } =
      mode === "rsd"
        ? await call(emulator, "POST", "/redfish/v1/Nodes/Actions/Allocate", {
            body: { Processors: [{ TotalCores: 2 }] },
          })
        : await call(emulator, "POST", "/redfish/v1/Systems", {
            body: { Name: "x", Processors: { Members: [{ TotalCores: 2 }] } },
          });
    expect(status).toBe(409);
    expectRedfishError(body);
    expect(emulator.composedSystems()).toEqual([]);
  });

  it("adds latency to every request", async () => {
    emulator.switches.latencyMs = 60;
    const started = performance.now();
    await call(emulator, "GET", "/redfish/v1/", { auth: false });
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });
});

describe("emulator composition rules", () => {
  let emulator: RedfishEmulator;
  beforeAll(async () => {
    emulator = await startRedfishEmulator({ mode: "both" });
  });
  afterAll(() => emulator.close());
  beforeEach(() => emulator.reset());

  const blocks = (...ids: string[]) => ({
    ResourceBlocks: ids.map((id) => ({ "@odata.id": `/redfish/v1/CompositionService/ResourceBlocks/${id}` })),
  });

  it("refuses a block already in use with 409, and an unknown block or no compute block with 400", async () => {
    const first = await call(emulator, "POST", "/redfish/v1/Systems", {
      body: { Name: "a", Links: blocks("ComputeBlock1", "DriveBlock1") },
    });
    expect(first.status).toBe(201);
    expect(first.headers.get("location")).toBe("/redfish/v1/Systems/composed-1");
    const taken = await call(emulator, "POST", "/redfish/v1/Systems", {
      body: { Name: "b", Links: blocks("ComputeBlock2", "DriveBlock1") },
    });
    expect(taken.status).toBe(409);
    const unknown = await call(emulator, "POST", "/redfish/v1/Systems", {
      body: { Name: "c", Links: blocks("ComputeBlock9") },
    });
    expect(unknown.status).toBe(400);
    const storageOnly = await call(emulator, "POST", "/redfish/v1/Systems", {
      body: { Name: "d", Links: blocks("DriveBlock2") },
    });
    expect(storageOnly.status).toBe(400);
    expect(emulator.composedSystems().map((system) => system.resourceBlocks)).toEqual([
      ["ComputeBlock1", "DriveBlock1"],
    ]);
  });

  it("matches constrained requests on requested count × size", async () => {
    const composed = await call(emulator, "POST", "/redfish/v1/Systems", {
      body: {
        Name: "c",
        Processors: { Members: [{ "@Redfish.RequestedCount": 2, TotalCores: 16 }] },
        Memory: { Members: [{ "@Redfish.RequestedCount": 8, CapacityMiB: 32768 }] },
      },
    });
    expect(composed.status).toBe(201);
    expect(emulator.composedSystems()[0]?.resourceBlocks).toEqual(["ComputeBlock3"]);
  });

  it("fails a DMTF composition with 500 and allocates nothing when assembly is switched to fail", async () => {
    emulator.switches.failAssembly = true;
    const { status } = await call(emulator, "POST", "/redfish/v1/Systems", {
      body: { Name: "a", Links: blocks("ComputeBlock1") },
    });
    expect(status).toBe(500);
    expect(emulator.composedSystems()).toEqual([]);
  });

  it("leaves a failed RSD assembly Failed until the node is deleted", async () => {
    emulator.switches.failAssembly = true;
    const allocated = await call(emulator, "POST", "/redfish/v1/Nodes/Actions/Allocate", {
      body: { Name: "n" },
    });
    const node = String(allocated.headers.get("location"));
    expect(emulator.composedSystems()[0]?.nodeState).toBe("Allocated");
    const assembled = await call(emulator, "POST", `${node}/Actions/ComposedNode.Assemble`, { body: {} });
    expect(assembled.status).toBe(500);
    expect((await call(emulator, "GET", node)).body.ComposedNodeState).toBe("Failed");
    expect(emulator.resourceBlocks().find((block) => block.id === "ComputeBlock1")?.composedInto).toBe(
      "composed-1",
    );
    expect((await call(emulator, "DELETE", node)).status).toBe(204);
    expect(emulator.resourceBlocks().every((block) => block.composedInto === undefined)).toBe(true);
  });

  it("does not power a node that is not assembled", async () => {
    const allocated = await call(emulator, "POST", "/redfish/v1/Nodes/Actions/Allocate", { body: {} });
    const node = String(allocated.headers.get("location"));
    const reset = await call(emulator, "POST", `${node}/Actions/ComposedNode.Reset`, {
      body: { ResetType: "On" },
    });
    expect(reset.status).toBe(409);
    const wrongType = await call(emulator, "POST", `${node}/Actions/ComposedNode.Reset`, {
      body: { ResetType: "Explode" },
    });
    expect(wrongType.status).toBe(400);
  });
});

describe("emulator inventory", () => {
  it("gives every NIC of the default inventory a distinct, stable MAC", async () => {
    const macsOf = async () => {
      const emulator = await startRedfishEmulator({ mode: "dmtf" });
      const macs: string[] = [];
      for (const id of ["ComputeBlock1", "ComputeBlock2", "ComputeBlock3", "ComputeBlock4"]) {
        emulator.reset();
        await call(emulator, "POST", "/redfish/v1/Systems", {
          body: {
            Name: id,
            Links: {
              ResourceBlocks: [{ "@odata.id": `/redfish/v1/CompositionService/ResourceBlocks/${id}` }],
            },
          },
        });
        macs.push(...(emulator.composedSystems()[0]?.macs ?? []));
      }
      await emulator.close();
      return macs;
    };
    const first = await macsOf();
    expect(first).toHaveLength(2 + 3 + 4 + 2);
    expect(new Set(first).size).toBe(first.length);
    expect(await macsOf()).toEqual(first);
    expect(first[0]).toBe("02:5a:e0:00:01:00");
  });

  it("refuses an inventory where two NICs share a MAC", async () => {
    const inventory = defaultInventory();
    const [one, two] = inventory.computeBlocks;
    if (!one || !two) throw new Error("default inventory changed");
    one.nics[0] = { mac: "aa:bb:cc:dd:ee:ff" };
    two.nics[1] = { mac: "AA-BB-CC-DD-EE-FF" };
    await expect(startRedfishEmulator({ inventory })).rejects.toThrow(
      "inventory: MAC AA:BB:CC:DD:EE:FF appears twice",
    );
  });

  it("offers four compute blocks with 2–4 NICs and a few drive blocks by default", () => {
    const inventory = defaultInventory();
    expect(inventory.computeBlocks).toHaveLength(4);
    for (const block of inventory.computeBlocks) {
      expect(block.nics.length).toBeGreaterThanOrEqual(2);
      expect(block.nics.length).toBeLessThanOrEqual(4);
    }
    expect(inventory.driveBlocks.length).toBeGreaterThanOrEqual(2);
  });
});

describe("emulator CLI", () => {
  it("starts on the requested port and mode, and stops on SIGTERM", async () => {
    const main = fileURLToPath(new URL("../../local/redfish-emulator/main.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", main, "--port", "0", "--mode", "rsd"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening on (http:\/\/\S+)/.exec(output);
          if (match?.[1]) resolve(match[1]);
        });
        child.once("exit", (code) => reject(new Error(`emulator exited with ${code}: ${output}`)));
      });
      const root = (await (await fetch(`${url}/redfish/v1/`)).json()) as Record<string, unknown>;
      expect(root.Nodes).toEqual({ "@odata.id": "/redfish/v1/Nodes" });
      expect(root.CompositionService).toBeUndefined();
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
