import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import { OVERRIDES_MARK, placementPatch } from "../../lib/podmanagers/placement.ts";
import { poolInventory } from "../../local/pool.ts";
import { composeNode, expectErrorBody, startTestApi, type TestApi } from "../support/local-api.ts";
import { useIronic } from "../support/openstack.ts";

interface NodeBody {
  uuid: string;
  name: string;
  managed_by: string;
  ironic_node_uuid: string | null;
}

/** What the pod manager `demo-podm` is given: every placement field, as Ironic names them. */
const PODM_PLACEMENT = {
  conductor_group: "Rack-A.1",
  shard: "shard-1",
  owner: "project-a",
  lessee: "project-b",
  // Production's choice: Ironic cleans the pod's nodes on provide.
  automated_clean: true,
  resource_class: "gpu.large",
  boot_interface: "redfish-virtual-media",
  deploy_interface: "ramdisk",
};

/** Placement through the API, against a real Ironic (API 1.82) and the Redfish emulator. */
describe("Ironic placement per pod manager (real Ironic, emulator, dynalite)", () => {
  // Ironic creates a node only in a conductor group some conductor serves: its one conductor serves the pod's.
  const fixture = useIronic({ config: { conductor: { conductor_group: "rack-a.1" } } });
  let api: TestApi;
  let ironic: IronicDriver;
  let podmId: string;

  beforeAll(async () => {
    api = await startTestApi({ demo: true, ironic: fixture.url, emulatorInventory: poolInventory(8) });
    ironic = createIronicDriver({ url: api.stack.ironicUrl as string, auth: { type: "none" } });
    podmId = (await api.call("GET", "/v1/pod_managers")).body[0].uuid;
  });
  afterAll(() => api?.stop());

  it("stores the pod manager's placement and shows it, conductor_group lower-cased as Ironic keeps it", async () => {
    const patched = await api.call("PATCH", `/v1/pod_managers/${podmId}`, PODM_PLACEMENT);
    expect(patched.status).toBe(200);
    const expected = { ...PODM_PLACEMENT, conductor_group: "rack-a.1" };
    expect(patched.body).toMatchObject(expected);
    expect((await api.call("GET", `/v1/pod_managers/${podmId}`)).body).toMatchObject(expected);
  });

  it("creates the Ironic node with the pod manager's placement", async () => {
    const response = await api.call<NodeBody>("POST", "/v1/nodes/test-node/register");
    expect(response.status, response.text).toBe(200);

    const node = (await ironic.getNode(response.body.ironic_node_uuid as string)) as Record<string, unknown>;
    expect(node).toMatchObject({ ...PODM_PLACEMENT, conductor_group: "rack-a.1" });
    expect((node.extra as Record<string, unknown>)[OVERRIDES_MARK]).toBeUndefined();
    // Nothing left to re-apply: the node is as its pod manager says.
    expect(placementPatch({ ...PODM_PLACEMENT }, node)).toEqual([]);
  });

  it("lets the register body override each field for its node", async () => {
    const response = await api.call<NodeBody>("POST", "/v1/nodes/test-node-2/register", {
      conductor_group: "RACK-A.1",
      owner: "project-c",
      automated_clean: true,
      boot_interface: "pxe",
      deploy_interface: "direct",
      resource_class: "baremetal-small",
    });
    expect(response.status, response.text).toBe(200);

    const node = (await ironic.getNode(response.body.ironic_node_uuid as string)) as Record<string, unknown>;
    expect(node).toMatchObject({
      conductor_group: "rack-a.1",
      owner: "project-c",
      automated_clean: true,
      boot_interface: "pxe",
      deploy_interface: "direct",
      resource_class: "baremetal-small",
      // Not overridden: the pod manager's.
      shard: "shard-1",
      lessee: "project-b",
    });
    expect((node.extra as Record<string, unknown>)[OVERRIDES_MARK]).toEqual([
      "conductor_group",
      "owner",
      "automated_clean",
      "resource_class",
      "boot_interface",
      "deploy_interface",
    ]);
    // Re-applying the pod manager's placement leaves what the register set itself.
    expect(placementPatch({ ...PODM_PLACEMENT }, node)).toEqual([]);
  });

  it("refuses a conductor group no conductor serves, naming the served ones, before Ironic does", async () => {
    const patched = await api.call("PATCH", `/v1/pod_managers/${podmId}`, { conductor_group: "rack-z" });
    expect(expectErrorBody(patched, 400).code).toBe("IronicConductorGroupNotServed");
    expect(patched.body.detail).toBe(
      'body.conductor_group: no Ironic conductor serves conductor group "rack-z" for hardware type redfish; served: "rack-a.1"',
    );
    expect((await api.call("GET", `/v1/pod_managers/${podmId}`)).body.conductor_group).toBe("rack-a.1");

    // The register's own value wins over the pod manager's: Ironic's default group, which no conductor serves here.
    const node = await composeNode<NodeBody>(api, podmId, "placement-group");
    const response = await api.call("POST", `/v1/nodes/${node.name}/register`, { conductor_group: "" });
    expect(expectErrorBody(response, 400).code).toBe("IronicConductorGroupNotServed");
    expect(response.body.detail).toContain(
      'body.conductor_group: no Ironic conductor serves conductor group ""',
    );
  });

  it("refuses an interface Ironic has not enabled, naming the enabled ones, and creates nothing", async () => {
    const node = await composeNode<NodeBody>(api, podmId, "placement-ipxe");
    const before = (await ironic.findNodes({ fields: ["uuid"] })).length;

    const response = await api.call("POST", `/v1/nodes/${node.name}/register`, { boot_interface: "ipxe" });

    const error = expectErrorBody(response, 400);
    expect(error.code).toBe("IronicInterfaceNotEnabled");
    expect(error.detail).toBe(
      'body.boot_interface: "ipxe" is not enabled in Ironic for hardware type redfish; enabled: pxe, redfish-virtual-media',
    );
    expect((await ironic.findNodes({ fields: ["uuid"] })).length).toBe(before);
    expect((await api.call<NodeBody>("GET", `/v1/nodes/${node.name}`)).body.managed_by).toBe("valence");

    const patched = await api.call("PATCH", `/v1/pod_managers/${podmId}`, { deploy_interface: "anaconda" });
    expect(expectErrorBody(patched, 400).code).toBe("IronicInterfaceNotEnabled");
    expect(patched.body.detail).toContain("enabled: direct, ramdisk");
  });

  it("clears a pod manager's field with null: the next register gets Ironic's default", async () => {
    const patched = await api.call("PATCH", `/v1/pod_managers/${podmId}`, {
      owner: null,
      boot_interface: null,
      resource_class: null,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      owner: null,
      boot_interface: null,
      resource_class: null,
      shard: "shard-1",
    });
    const stored = (await api.scan()).find((item) => item.uuid === podmId && item.kind === "podm");
    expect(stored).toBeDefined();
    expect(stored).not.toHaveProperty("owner");
    expect(stored).toMatchObject({ shard: "shard-1" });

    const node = await composeNode<NodeBody>(api, podmId, "placement-cleared");
    const response = await api.call<NodeBody>("POST", `/v1/nodes/${node.name}/register`);
    expect(response.status, response.text).toBe(200);
    const created = (await ironic.getNode(response.body.ironic_node_uuid as string)) as Record<
      string,
      unknown
    >;
    expect(created).toMatchObject({ owner: null, resource_class: "baremetal", shard: "shard-1" });
    // Ironic's default boot interface for the hardware type, not the one cleared.
    expect(created.boot_interface).not.toBe("redfish-virtual-media");
  });
});

/** The same Ironic, negotiated down: fields its microversion lacks are refused, naming the version they need. */
describe("placement on an Ironic negotiated at API 1.45", () => {
  let api: TestApi;
  let ironic: IronicDriver;
  let podmId: string;

  beforeAll(async () => {
    api = await startTestApi({
      demo: true,
      ironic: "start",
      automatedClean: false,
      env: { IRONIC_MAX_API_VERSION: "1.45" },
    });
    ironic = createIronicDriver({ url: api.stack.ironicUrl as string, auth: { type: "none" } });
    podmId = (await api.call("GET", "/v1/pod_managers")).body[0].uuid;
  });
  afterAll(() => api?.stop());

  it("refuses a register asking for conductor_group with a 400 naming API 1.46, and creates nothing", async () => {
    const response = await api.call("POST", "/v1/nodes/test-node/register", {
      conductor_group: "rack1",
      owner: "project-a",
    });

    const error = expectErrorBody(response, 400);
    expect(error.code).toBe("IronicFeatureUnsupported");
    expect(error.detail).toBe(
      "body.conductor_group: needs Ironic API 1.46 or later; the Ironic in use speaks 1.45; " +
        "body.owner: needs Ironic API 1.50 or later; the Ironic in use speaks 1.45",
    );
    expect(await ironic.findNodes({ fields: ["uuid"] })).toEqual([]);
    expect((await api.call<NodeBody>("GET", "/v1/nodes/test-node")).body.managed_by).toBe("valence");
  });

  it("refuses the field on the pod manager too, and changes nothing", async () => {
    const response = await api.call("PATCH", `/v1/pod_managers/${podmId}`, { shard: "s1", lessee: "p" });
    const error = expectErrorBody(response, 400);
    expect(error.code).toBe("IronicFeatureUnsupported");
    expect(error.detail).toContain("body.lessee: needs Ironic API 1.65 or later");
    expect(error.detail).toContain("body.shard: needs Ironic API 1.82 or later");
    expect((await api.call("GET", `/v1/pod_managers/${podmId}`)).body).toMatchObject({
      shard: null,
      lessee: null,
    });
  });

  it("still registers with the fields 1.45 offers (interfaces, resource_class)", async () => {
    const response = await api.call<NodeBody>("POST", "/v1/nodes/test-node/register", {
      boot_interface: "redfish-virtual-media",
      resource_class: "gpu",
    });
    expect(response.status, response.text).toBe(200);
    const node = (await ironic.getNode(response.body.ironic_node_uuid as string)) as Record<string, unknown>;
    expect(node).toMatchObject({ boot_interface: "redfish-virtual-media", resource_class: "gpu" });
  });
});
