import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIronicDriver, type IronicDriver, type IronicNode } from "../../lib/ironic/index.ts";
import { poolInventory } from "../../local/pool.ts";
import { DEMO_CREDENTIALS } from "../../local/stack.ts";
import { composeNode, expectErrorBody, startTestApi, type TestApi } from "../support/local-api.ts";
import { followOperation, registerAndSettle } from "../support/operations.ts";

interface NodeBody {
  uuid: string;
  name: string;
  managed_by: string;
  ironic_node_uuid: string | null;
  resource_uri: string;
  hardware: {
    cpus: number;
    memory_mb: number;
    local_gb: number;
    cpu_arch: string;
    nics: { mac: string; enabled: boolean }[];
  };
  ironic?: {
    provision_state: string;
    power_state: string | null;
    maintenance: boolean;
    last_error: string | null;
  };
}

/** Register and unregister through the local API, against a real Ironic and the Redfish emulator. */
describe("register and unregister (real Ironic, emulator, dynalite)", () => {
  let api: TestApi;
  let ironic: IronicDriver;
  let podmId: string;

  beforeAll(async () => {
    api = await startTestApi({ demo: true, ironic: "start", emulatorInventory: poolInventory(16) });
    ironic = createIronicDriver({ url: api.stack.ironicUrl as string, auth: { type: "none" } });
    podmId = (await api.call("GET", "/v1/pod_managers")).body[0].uuid;
  });
  afterAll(() => api?.stop());

  const compose = (name: string) => composeNode<NodeBody>(api, podmId, name);

  async function ironicNodes(): Promise<IronicNode[]> {
    return ironic.findNodes();
  }

  async function ironicPorts() {
    return ironic.listPorts();
  }

  it("registers with manage and provide: exact driver_info, properties and one port per enabled NIC", async () => {
    const before = (await api.call<NodeBody>("GET", "/v1/nodes/test-node")).body;
    expect(before.managed_by).toBe("valence");

    const { response, operation } = await registerAndSettle(api.call, "test-node", {
      manage: true,
      provide: true,
    });

    expect(response.status).toBe(202);
    expect(response.body.managed_by).toBe("ironic");
    expect(response.body.ironic?.provision_state).toBe("enroll");
    expect(operation).toMatchObject({ state: "succeeded", kind: "register" });
    const ironicNode = await ironic.getNode(response.body.ironic_node_uuid as string);
    expect(ironicNode.name).toBe("test-node");
    expect(ironicNode.driver).toBe("redfish");
    expect(ironicNode.provision_state).toBe("available");
    expect(ironicNode.driver_info).toMatchObject({
      redfish_address: api.stack.emulator?.url,
      redfish_system_id: before.resource_uri,
      redfish_username: DEMO_CREDENTIALS.username,
      redfish_password: "******",
      redfish_verify_ca: false,
    });
    expect(typeof ironicNode.driver_info.redfish_system_id).toBe("string");
    expect(ironicNode.properties).toMatchObject({
      cpus: before.hardware.cpus,
      memory_mb: before.hardware.memory_mb,
      local_gb: before.hardware.local_gb,
      cpu_arch: before.hardware.cpu_arch,
    });
    expect(ironicNode.resource_class).toBe("baremetal");
    expect(ironicNode.extra).toMatchObject({ valence_node_uuid: before.uuid, valence_podm_id: podmId });
    // Ironic itself verified the BMC through the emulator: it read the power state.
    expect(ironicNode.power_state).toMatch(/^power (on|off)$/);
    // And cleaned it on provide, as production Ironic does: the emulated ramdisk agent ran its clean step.
    expect(api.stack.ramdiskAgents?.cleaned()).toContain(ironicNode.uuid);

    const ports = await ironic.listPorts({ node_uuid: ironicNode.uuid });
    const enabled = before.hardware.nics.filter((nic) => nic.enabled).map((nic) => nic.mac);
    expect(ports.map((port) => port.address).sort()).toEqual([...enabled].sort());
    expect(ports.filter((port) => port.pxe_enabled).map((port) => port.address)).toEqual([enabled[0]]);

    const shown = await api.call<NodeBody>("GET", "/v1/nodes/test-node?refresh=true");
    expect(shown.body).toMatchObject({ managed_by: "ironic", ironic_node_uuid: ironicNode.uuid });
    expect(shown.body.ironic).toMatchObject({
      provision_state: "available",
      maintenance: false,
      last_error: null,
    });
  });

  it("refuses to delete, act on or register again a node Ironic manages", async () => {
    expect(expectErrorBody(await api.call("DELETE", "/v1/nodes/test-node"), 409).code).toBe(
      "NodeManagedByIronic",
    );
    const action = await api.call("POST", "/v1/nodes/test-node/action", { Reset: { Type: "ForceOff" } });
    expect(expectErrorBody(action, 409).detail).toContain("unregister it first");
    expect(expectErrorBody(await api.call("POST", "/v1/nodes/test-node/register"), 409).code).toBe(
      "NodeAlreadyRegistered",
    );
  });

  it("unregisters: the node and its ports are gone from Ironic, and it registers again", async () => {
    const registered = (await api.call<NodeBody>("GET", "/v1/nodes/test-node")).body;
    const response = await api.call<NodeBody>("POST", "/v1/nodes/test-node/unregister");

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ managed_by: "valence", ironic_node_uuid: null });
    expect((await ironicNodes()).map((node) => node.uuid)).not.toContain(registered.ironic_node_uuid);
    expect((await ironicPorts()).filter((port) => port.node_uuid === registered.ironic_node_uuid)).toEqual(
      [],
    );
    expect(expectErrorBody(await api.call("POST", "/v1/nodes/test-node/unregister"), 409).code).toBe(
      "NodeNotRegistered",
    );

    const again = await api.call<NodeBody>("POST", "/v1/nodes/test-node/register");
    expect(again.status).toBe(200);
    expect(again.body.ironic?.provision_state).toBe("enroll");
    expect((await api.call("POST", "/v1/nodes/test-node/unregister")).status).toBe(200);
  });

  it("lets exactly one of 20 concurrent registers of one node through, leaving no orphan", async () => {
    const node = await compose("racer");
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => api.call<NodeBody>("POST", `/v1/nodes/${node.uuid}/register`)),
    );

    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    const mine = (await ironicNodes()).filter((n) => n.extra.valence_node_uuid === node.uuid);
    expect(mine).toHaveLength(1);
    const ports = await ironicPorts();
    const enabled = node.hardware.nics.filter((nic) => nic.enabled).map((nic) => nic.mac);
    expect(ports.filter((port) => enabled.includes(port.address))).toHaveLength(enabled.length);
    expect(ports.every((port) => port.node_uuid !== undefined)).toBe(true);
    expect((await api.call("POST", `/v1/nodes/${node.uuid}/unregister`)).status).toBe(200);
  });

  it("refuses to unregister a node with an instance unless forced, then deletes it", async () => {
    const node = await compose("busy-node");
    const registered = await registerAndSettle(api.call, node.uuid, { manage: true, provide: true });
    expect(registered.operation?.state).toBe("succeeded");
    const uuid = registered.node.ironic_node_uuid as string;
    await ironic.updateNode(uuid, [
      { op: "add", path: "/instance_uuid", value: "5f1d6b8e-0c4e-4a4b-9f3e-1d2c3b4a5e6f" },
    ]);

    const refused = await api.call("POST", `/v1/nodes/${node.uuid}/unregister`);
    expect(expectErrorBody(refused, 409).detail).toContain("force");
    expect((await ironic.getNode(uuid)).instance_uuid).not.toBeNull();
    expect((await api.call<NodeBody>("GET", `/v1/nodes/${node.uuid}`)).body).toMatchObject({
      managed_by: "ironic",
      intent: null,
    });

    const forced = await api.call<NodeBody>("POST", `/v1/nodes/${node.uuid}/unregister`, { force: true });
    expect(forced.status).toBe(200);
    expect((await ironicNodes()).map((n) => n.uuid)).not.toContain(uuid);
  });

  it("treats an Ironic node deleted out of band as already unregistered", async () => {
    const node = await compose("vanishing");
    const registered = await api.call<NodeBody>("POST", `/v1/nodes/${node.uuid}/register`);
    await ironic.deleteNode(registered.body.ironic_node_uuid as string);

    const response = await api.call<NodeBody>("POST", `/v1/nodes/${node.uuid}/unregister`);
    expect(response.status).toBe(200);
    expect(response.body.managed_by).toBe("valence");
  });

  it("adopts the Ironic node a crashed register left behind instead of duplicating it", async () => {
    const node = await compose("half-done");
    // What a register that died after the node create leaves: our node in Ironic, no ports, store says valence.
    const leftover = await ironic.createNode({
      name: "half-done",
      driver: "redfish",
      driver_info: {
        redfish_address: api.stack.emulator?.url,
        redfish_system_id: node.resource_uri,
        redfish_username: "admin",
        redfish_password: DEMO_CREDENTIALS.password,
      },
      extra: { valence_node_uuid: node.uuid },
    });

    const response = await api.call<NodeBody>("POST", `/v1/nodes/${node.uuid}/register`);
    expect(response.status).toBe(200);
    expect(response.body.ironic_node_uuid).toBe(leftover.uuid);
    expect((await ironicNodes()).filter((n) => n.name === "half-done")).toHaveLength(1);
    const enabled = node.hardware.nics.filter((nic) => nic.enabled);
    expect(await ironic.listPorts({ node_uuid: leftover.uuid })).toHaveLength(enabled.length);
  });

  it("adopts the node driving this system under another name when Ironic refuses one of our MACs, deleting the node it created", async () => {
    const node = await compose("renamed");
    const same = await ironic.createNode({
      name: "renamed-by-an-operator",
      driver: "redfish",
      driver_info: {
        redfish_address: api.stack.emulator?.url,
        redfish_system_id: node.resource_uri,
        redfish_username: "admin",
        redfish_password: DEMO_CREDENTIALS.password,
      },
    });
    const enabled = node.hardware.nics.filter((nic) => nic.enabled);
    await ironic.createPort({ node_uuid: same.uuid, address: enabled[1]?.mac as string });

    const response = await api.call<NodeBody>("POST", `/v1/nodes/${node.uuid}/register`);
    expect(response.status).toBe(200);
    expect(response.body.ironic_node_uuid).toBe(same.uuid);
    // The node the register created first (under our name) went again: one Ironic node drives the system.
    expect((await ironicNodes()).filter((n) => n.name === "renamed")).toHaveLength(0);
    expect((await ironic.getNode(same.uuid)).extra).toMatchObject({ valence_node_uuid: node.uuid });
    expect(await ironic.listPorts({ node_uuid: same.uuid })).toHaveLength(enabled.length);
  });

  it("refuses with 409 when another Ironic node for other hardware holds our name, changing nothing", async () => {
    const node = await compose("name-clash");
    const foreign = await ironic.createNode({ name: "name-clash", driver: "fake-hardware" });

    const response = await api.call("POST", `/v1/nodes/${node.uuid}/register`);
    expect(expectErrorBody(response, 409).detail).toContain(foreign.uuid);
    expect((await ironic.getNode(foreign.uuid)).extra).toEqual({});
    expect(await ironic.listPorts({ node_uuid: foreign.uuid })).toEqual([]);
    expect((await api.call<NodeBody>("GET", `/v1/nodes/${node.uuid}`)).body).toMatchObject({
      managed_by: "valence",
      intent: null,
    });
    await ironic.deleteNode(foreign.uuid);
  });

  it("refuses with 409 when a foreign Ironic node holds one of our MACs", async () => {
    const node = await compose("mac-clash");
    const foreign = await ironic.createNode({ name: "someone-else", driver: "fake-hardware" });
    const mac = node.hardware.nics.find((nic) => nic.enabled)?.mac as string;
    await ironic.createPort({ node_uuid: foreign.uuid, address: mac });

    const response = await api.call("POST", `/v1/nodes/${node.uuid}/register`);
    expect(expectErrorBody(response, 409).detail).toContain(mac);
    expect((await ironicNodes()).filter((n) => n.name === "mac-clash")).toHaveLength(0);
    await ironic.deleteNode(foreign.uuid);
  });

  it("answers 400 for a bad register body, naming the field, and writes nothing", async () => {
    for (const [body, field] of [
      [{ manage: "yes" }, "body.manage"],
      [{ wait_timeout: 0 }, "body.wait_timeout"],
      [{ ports: "some" }, "body.ports"],
      [{ boot_mac: "zz" }, "body.boot_mac"],
      [{ driver_info: { redfish_password: "x" } }, "redfish_password"],
      [{ properties: { cpus: -1 } }, "body.properties.cpus"],
    ] as const) {
      const response = await api.call("POST", "/v1/nodes/test-node-2/register", body);
      expect(expectErrorBody(response, 400).detail).toContain(field);
    }
    expect((await api.call<NodeBody>("GET", "/v1/nodes/test-node-2")).body).toMatchObject({
      managed_by: "valence",
      intent: null,
    });
    expect((await ironicNodes()).filter((n) => n.name === "test-node-2")).toHaveLength(0);
  });

  it("refuses a register that turns off TLS verification the pod manager has, and allows one that adds it", async () => {
    const inIronic = (await api.call("GET", `/v1/nodes?podm_id=${podmId}&managed_by=ironic`)).body.length;
    const strict = await api.call("PATCH", `/v1/pod_managers/${podmId}`, { verify_ca: true });
    // With nodes of it registered (earlier tests), a re-sync carries the stricter check into their driver_info.
    expect(strict.status).toBe(inIronic > 0 ? 202 : 200);
    if (inIronic > 0) expect(strict.body.operation.kind).toBe("resync");
    await api.stack.operations.settled();
    try {
      const node = await compose("tls-lowered");

      const refused = await api.call("POST", `/v1/nodes/${node.name}/register`, {
        driver_info: { redfish_verify_ca: false },
      });

      expect(expectErrorBody(refused, 400).detail).toContain("body.driver_info.redfish_verify_ca");
      expect((await api.call<NodeBody>("GET", `/v1/nodes/${node.name}`)).body).toMatchObject({
        managed_by: "valence",
        intent: null,
      });
      expect((await ironicNodes()).filter((n) => n.name === node.name)).toHaveLength(0);
      const kept = await api.call<NodeBody>("POST", `/v1/nodes/${node.name}/register`, {});
      expect(kept.status).toBe(200);
      expect((await ironic.getNode(kept.body.ironic_node_uuid as string)).driver_info.redfish_verify_ca).toBe(
        true,
      );
      expect((await api.call("POST", `/v1/nodes/${node.name}/unregister`)).status).toBe(200);
    } finally {
      await api.call("PATCH", `/v1/pod_managers/${podmId}`, { verify_ca: false });
    }

    const node = await compose("tls-raised");
    const raised = await api.call<NodeBody>("POST", `/v1/nodes/${node.name}/register`, {
      driver_info: { redfish_verify_ca: true },
    });
    expect(raised.status).toBe(200);
    expect((await ironic.getNode(raised.body.ironic_node_uuid as string)).driver_info.redfish_verify_ca).toBe(
      true,
    );
    expect((await api.call("POST", `/v1/nodes/${node.name}/unregister`)).status).toBe(200);
  });

  it("keeps the BMC password out of every response, log line and DynamoDB item", async () => {
    const register = await api.call("POST", "/v1/nodes/test-node-2/register", { manage: true });
    const operation = await followOperation(api.call, register.body.operation.id);
    const responses = [
      register,
      await api.call("GET", `/v1/operations/${operation.id}`),
      await api.call("GET", "/v1/nodes/test-node-2/operations"),
      await api.call("GET", "/v1/nodes/test-node-2?refresh=true"),
      await api.call("POST", "/v1/nodes/test-node-2/unregister"),
      await api.call("GET", "/v1/pod_managers"),
    ];
    expect(responses.map((r) => r.status)).toEqual([202, 200, 200, 200, 200, 200]);
    const items = await api.scan();
    const encoded = Buffer.from(DEMO_CREDENTIALS.password).toString("base64");
    for (const text of [
      ...responses.map((r) => r.text),
      ...api.logs,
      ...items.map((i) => JSON.stringify(i)),
    ]) {
      expect(text).not.toContain(DEMO_CREDENTIALS.password);
      expect(text).not.toContain(encoded);
    }
  });
  it("unregister clears the Ironic state the reconciler cached on the node", async () => {
    const node = await compose("cached-state");
    expect((await registerAndSettle(api.call, node.uuid, { manage: true })).operation?.state).toBe(
      "succeeded",
    );
    expect((await api.call("POST", "/v1/reconcile")).status).toBe(200);
    const cached = await api.call<NodeBody & { ironic_state: unknown }>("GET", `/v1/nodes/${node.uuid}`);
    expect(cached.body.ironic_state).toMatchObject({ provision_state: "manageable" });

    const response = await api.call<NodeBody & { ironic_state: unknown }>(
      "POST",
      `/v1/nodes/${node.uuid}/unregister`,
    );

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      managed_by: "valence",
      ironic_node_uuid: null,
      ironic_state: null,
    });
    const stored = await api.call<NodeBody & { ironic_state: unknown }>("GET", `/v1/nodes/${node.uuid}`);
    expect(stored.body.ironic_state).toBeNull();
  });
});
