import { describe, expect, it } from "vitest";
import { STATUS_BY_CODE } from "../../lib/http/statuses.ts";
import {
  IronicConductorGroupNotServedError,
  IronicFeatures,
  IronicFeatureUnsupportedError,
  IronicInterfaceNotEnabledError,
  NODE_FIELD_MIN_VERSION,
} from "../../lib/ironic/index.ts";
import { buildIronicNode, checkPlacement, resolvePlacement } from "../../lib/nodes/ironic-node.ts";
import { RegisterNodeBody } from "../../lib/nodes/schemas.ts";
import { toPodManagerView } from "../../lib/podmanagers/model.ts";
import {
  effectivePlacement,
  OVERRIDES_MARK,
  PLACEMENT_FIELDS,
  placementPatch,
} from "../../lib/podmanagers/placement.ts";
import { CreatePodManagerBody, UpdatePodManagerBody } from "../../lib/podmanagers/schemas.ts";
import type { ComposedSystem } from "../../lib/redfish/index.ts";
import { newNode } from "../support/fixtures.ts";
import { MemoryIronic } from "../support/memory-ironic.ts";

const podmBody = {
  name: "podm-a",
  url: "https://podm.example:8443",
  authentication: [{ type: "basic", auth_items: { username: "admin", password: "pw" } }],
};

describe("IronicFeatures (the minimum API version of each node field)", () => {
  it("has the versions of Ironic's API history for every placement field", () => {
    expect(NODE_FIELD_MIN_VERSION).toEqual({
      resource_class: "1.21",
      boot_interface: "1.31",
      deploy_interface: "1.31",
      conductor_group: "1.46",
      automated_clean: "1.47",
      owner: "1.50",
      lessee: "1.65",
      shard: "1.82",
    });
    expect(Object.keys(NODE_FIELD_MIN_VERSION).sort()).toEqual([...PLACEMENT_FIELDS].sort());
  });

  it("offers a field from its version on, comparing minor versions as numbers (1.9 < 1.46)", () => {
    expect(new IronicFeatures("1.45").supports("conductor_group")).toBe(false);
    expect(new IronicFeatures("1.46").supports("conductor_group")).toBe(true);
    expect(new IronicFeatures("1.100").supports("shard")).toBe(true);
    expect(new IronicFeatures("1.81").supports("shard")).toBe(false);
    expect(new IronicFeatures("1.64").missing(["owner", "lessee", "shard", "conductor_group"])).toEqual([
      "lessee",
      "shard",
    ]);
  });

  it("refuses with a 400 naming each field and the version it needs", () => {
    const features = new IronicFeatures("1.45");
    let error: unknown;
    try {
      features.require(["conductor_group", "owner", "resource_class"], (field) => `body.${field}`);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(IronicFeatureUnsupportedError);
    const refused = error as IronicFeatureUnsupportedError;
    expect(refused.code).toBe("IronicFeatureUnsupported");
    expect(STATUS_BY_CODE[refused.code]?.status).toBe(400);
    expect(refused.message).toContain("body.conductor_group: needs Ironic API 1.46 or later");
    expect(refused.message).toContain("body.owner: needs Ironic API 1.50 or later");
    expect(refused.message).toContain("speaks 1.45");
    expect(refused.message).not.toContain("resource_class");
  });
});

describe("placement validation (zod, Ironic's own rules)", () => {
  it("takes every field on a pod manager and keeps conductor_group lower-cased, as Ironic does", () => {
    const parsed = CreatePodManagerBody.parse({
      ...podmBody,
      conductor_group: "Rack-1.A_b",
      shard: "s1",
      owner: "project-a",
      lessee: "project-b",
      automated_clean: false,
      resource_class: "gpu.large",
      boot_interface: "redfish-virtual-media",
      deploy_interface: "ramdisk",
    });
    expect(parsed).toMatchObject({ conductor_group: "rack-1.a_b", automated_clean: false, shard: "s1" });
  });

  it.each([
    ["conductor_group", "rack 1"],
    ["conductor_group", "rack/1"],
    ["conductor_group", "a".repeat(256)],
    ["owner", ""],
    ["lessee", "x".repeat(256)],
    ["shard", ""],
    ["resource_class", "r".repeat(81)],
    ["boot_interface", ""],
    ["deploy_interface", "direct deploy"],
    ["automated_clean", "false"],
  ])("refuses %s = %j", (field, value) => {
    const result = CreatePodManagerBody.safeParse({ ...podmBody, [field]: value });
    expect(result.success).toBe(false);
    expect(RegisterNodeBody.safeParse({ [field]: value }).success).toBe(false);
  });

  it("clears a field with null on PATCH only", () => {
    expect(UpdatePodManagerBody.parse({ owner: null, conductor_group: null })).toEqual({
      owner: null,
      conductor_group: null,
    });
    expect(CreatePodManagerBody.safeParse({ ...podmBody, owner: null }).success).toBe(false);
    expect(RegisterNodeBody.safeParse({ owner: null }).success).toBe(false);
  });

  it("shows every placement field in the pod manager view, null when unset", () => {
    const view = toPodManagerView({
      uuid: "u",
      name: "n",
      url: "https://x",
      driver: "redfish",
      verify_ca: true,
      status: "online",
      username: "admin",
      credentials_ref: "ref",
      conductor_group: "rack1",
      automated_clean: false,
      created_at: "t",
      updated_at: "t",
      version: 1,
    });
    expect(view).toMatchObject({
      conductor_group: "rack1",
      automated_clean: false,
      shard: null,
      owner: null,
      lessee: null,
      resource_class: null,
      boot_interface: null,
      deploy_interface: null,
    });
  });
});

describe("effectivePlacement", () => {
  it("takes the register body's value, else the pod manager's, else none", () => {
    expect(
      effectivePlacement(
        { owner: "node-owner", automated_clean: false },
        { owner: "podm-owner", conductor_group: "rack1", automated_clean: true },
      ),
    ).toEqual({ owner: "node-owner", conductor_group: "rack1", automated_clean: false });
  });
});

describe("placementPatch", () => {
  const podm = { conductor_group: "rack1", owner: "project-a", automated_clean: false };

  it("replaces each field the pod manager sets that differs on the node, and nothing else", () => {
    const node = {
      conductor_group: "",
      owner: "project-a",
      automated_clean: null,
      lessee: "someone",
      extra: {},
    };
    expect(placementPatch(podm, node)).toEqual([
      { op: "replace", path: "/conductor_group", value: "rack1" },
      { op: "replace", path: "/automated_clean", value: false },
    ]);
  });

  it("is empty for a node that already has the pod manager's placement (conductor_group case-insensitive)", () => {
    expect(
      placementPatch(podm, { conductor_group: "RACK1", owner: "project-a", automated_clean: false }),
    ).toEqual([]);
    expect(placementPatch({}, { conductor_group: "x" })).toEqual([]);
  });

  it("leaves the fields the node's register set itself", () => {
    const node = {
      conductor_group: "rack9",
      owner: "other",
      extra: { [OVERRIDES_MARK]: ["conductor_group"] },
    };
    expect(placementPatch(podm, node)).toEqual([
      { op: "replace", path: "/owner", value: "project-a" },
      { op: "replace", path: "/automated_clean", value: false },
    ]);
  });

  it("leaves out the fields the Ironic API version in use cannot take", () => {
    expect(placementPatch(podm, { extra: {} }, new IronicFeatures("1.47"))).toEqual([
      { op: "replace", path: "/conductor_group", value: "rack1" },
      { op: "replace", path: "/automated_clean", value: false },
    ]);
  });
});

describe("checkPlacement and resolvePlacement (the in-memory Ironic)", () => {
  it("refuses an interface Ironic has not enabled for the hardware type, naming the enabled ones", async () => {
    const ironic = new MemoryIronic();
    const refused = checkPlacement(ironic, { boot_interface: "ipxe" });
    await expect(refused).rejects.toBeInstanceOf(IronicInterfaceNotEnabledError);
    await expect(refused).rejects.toThrow(
      'body.boot_interface: "ipxe" is not enabled in Ironic for hardware type redfish; enabled: pxe, redfish-virtual-media',
    );
    await expect(checkPlacement(ironic, { deploy_interface: "anaconda" })).rejects.toThrow(
      /enabled: direct, ramdisk/,
    );
    await expect(
      checkPlacement(ironic, { boot_interface: "redfish-virtual-media", deploy_interface: "ramdisk" }),
    ).resolves.toBeInstanceOf(IronicFeatures);
  });

  it("refuses a conductor group no conductor serves for redfish, naming the served ones (from API 1.49)", async () => {
    const ironic = new MemoryIronic();
    ironic.conductors.push(
      { hostname: "c2", conductor_group: "rack1", alive: false, drivers: ["redfish"] },
      { hostname: "c3", conductor_group: "rack2", alive: true, drivers: ["fake-hardware"] },
    );
    const refused = checkPlacement(ironic, { conductor_group: "rack2" });
    await expect(refused).rejects.toBeInstanceOf(IronicConductorGroupNotServedError);
    await expect(refused).rejects.toThrow(
      'body.conductor_group: no Ironic conductor serves conductor group "rack2" for hardware type redfish; served: "", "rack1"',
    );
    // A conductor that is down still serves its group: its absence is Ironic's failure, not the caller's choice.
    await expect(checkPlacement(ironic, { conductor_group: "rack1" })).resolves.toBeInstanceOf(
      IronicFeatures,
    );
    await expect(checkPlacement(ironic, { conductor_group: "" })).resolves.toBeInstanceOf(IronicFeatures);
    ironic.version = "1.48";
    await expect(checkPlacement(ironic, { conductor_group: "rack2" })).resolves.toBeInstanceOf(
      IronicFeatures,
    );
  });

  it("does not ask for the hardware type when no interface is asked for", async () => {
    const ironic = new MemoryIronic();
    await checkPlacement(ironic, { owner: "p" });
    expect(ironic.callsOf("getDriver")).toEqual([]);
    expect(ironic.callsOf("listConductors")).toEqual([]);
  });

  it("names the pod manager when the field comes from it, the body when the body set it", async () => {
    const ironic = new MemoryIronic();
    ironic.version = "1.45";
    const request = { podmName: "podm-a", defaultResourceClass: "baremetal" };
    await expect(
      resolvePlacement(ironic, { ...request, body: {}, podm: { conductor_group: "rack1" } }),
    ).rejects.toThrow("conductor_group (pod manager podm-a): needs Ironic API 1.46 or later");
    await expect(
      resolvePlacement(ironic, { ...request, body: { conductor_group: "r" }, podm: {} }),
    ).rejects.toThrow("body.conductor_group: needs Ironic API 1.46 or later");
  });

  it("falls back to the deployment's resource_class only where Ironic takes the field", async () => {
    const ironic = new MemoryIronic();
    const request = { podmName: "podm-a", defaultResourceClass: "baremetal", body: {}, podm: {} };
    expect(await resolvePlacement(ironic, request)).toEqual({ resource_class: "baremetal" });
    ironic.version = "1.20";
    expect(await resolvePlacement(ironic, request)).toEqual({});
    await expect(resolvePlacement(ironic, { ...request, body: { resource_class: "gpu" } })).rejects.toThrow(
      "body.resource_class: needs Ironic API 1.21",
    );
  });
});

describe("buildIronicNode with a placement", () => {
  const system = {
    resourceUri: "/redfish/v1/Systems/1",
    hardware: { cpus: 2, memory_mb: 1024, local_gb: 10, cpu_arch: "x86_64", nics: [] },
  } as unknown as ComposedSystem;

  it("creates the node with the placement and marks the fields the register body set", () => {
    const body = RegisterNodeBody.parse({ owner: "node-owner" });
    const created = buildIronicNode({
      node: { ...newNode(), created_at: "t", updated_at: "t", version: 1 },
      system,
      podmUrl: "https://podm.example:8443",
      podmVerifyCa: true,
      credentials: { username: "admin", password: "pw" },
      options: body,
      defaultResourceClass: "baremetal",
      deploymentId: "deployment-1",
      placement: { owner: "node-owner", conductor_group: "rack1", resource_class: "gpu" },
    });
    expect(created).toMatchObject({ owner: "node-owner", conductor_group: "rack1", resource_class: "gpu" });
    expect(created.extra?.[OVERRIDES_MARK]).toEqual(["owner"]);
  });
});
