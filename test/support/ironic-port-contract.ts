import { expect, it } from "vitest";
import {
  IronicDuplicateNameError,
  IronicInvalidStateError,
  IronicMacAlreadyExistsError,
  IronicNodeNotFoundError,
  IronicPortNotFoundError,
  IronicRequestError,
} from "../../lib/ironic/index.ts";
import type { IronicNodesPort } from "../../lib/nodes/ironic-port.ts";
import { placementPatch } from "../../lib/podmanagers/placement.ts";

let counter = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;
const uniqueMac = () => {
  const hex = (++counter + process.pid * 256).toString(16).padStart(6, "0").slice(-6);
  return `52:54:01:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
};

/**
 * What the sagas rely on from Ironic, as tests: run against the in-memory adapter (unit) and the real Ironic
 * (integration), so the adapter keeps Ironic's semantics.
 */
export function ironicPortContract(port: () => IronicNodesPort) {
  const wait = { pollMs: 100, timeoutMs: 30_000 };

  it("keeps names unique (409 DuplicateName) and finds a node by uuid or name, 404 once gone", async () => {
    const ironic = port();
    const name = unique("contract");
    const node = await ironic.createNode({ driver: "fake-hardware", name, extra: { mark: "x" } });
    expect(node).toMatchObject({ name, provision_state: "enroll", extra: { mark: "x" } });
    await expect(ironic.createNode({ driver: "fake-hardware", name })).rejects.toBeInstanceOf(
      IronicDuplicateNameError,
    );
    expect((await ironic.getNode(name)).uuid).toBe(node.uuid);
    expect((await ironic.getNode(node.uuid)).name).toBe(name);
    await ironic.deleteNode(node.uuid);
    await expect(ironic.getNode(node.uuid)).rejects.toBeInstanceOf(IronicNodeNotFoundError);
    await expect(ironic.deleteNode(node.uuid)).rejects.toBeInstanceOf(IronicNodeNotFoundError);
  });

  it("answers its API version, the redfish hardware type's enabled interfaces and its conductors", async () => {
    const ironic = port();
    expect(await ironic.apiVersion()).toBe("1.82");
    const redfish = await ironic.getDriver("redfish");
    expect([...(redfish.enabled_boot_interfaces ?? [])].sort()).toEqual(["pxe", "redfish-virtual-media"]);
    expect([...(redfish.enabled_deploy_interfaces ?? [])].sort()).toEqual(["direct", "ramdisk"]);
    const conductors = await ironic.listConductors();
    expect(conductors).toHaveLength(1);
    expect(conductors[0]).toMatchObject({ conductor_group: "", alive: true });
    expect(conductors[0]?.drivers).toEqual(expect.arrayContaining(["redfish", "fake-hardware"]));
  });

  it("takes placement fields at create, an owner only by PATCH, and placementPatch's operations", async () => {
    const ironic = port();
    // Ironic takes an owner at create from a system-scoped admin only; noauth is not one.
    await expect(
      ironic.createNode({ driver: "redfish", name: unique("owner"), owner: "project-a" }),
    ).rejects.toBeInstanceOf(IronicRequestError);
    const node = await ironic.createNode({
      driver: "redfish",
      name: unique("placement"),
      lessee: "project-b",
      boot_interface: "pxe",
    });
    // Unset, the node follows the conductor's automated_clean.
    expect(node).toMatchObject({ lessee: "project-b", automated_clean: null, boot_interface: "pxe" });
    const podm = {
      owner: "project-a",
      lessee: "project-c",
      shard: "shard-1",
      automated_clean: true,
      boot_interface: "redfish-virtual-media",
      deploy_interface: "ramdisk",
    };
    const patch = placementPatch(podm, node);
    expect(patch).toHaveLength(6);
    const patched = await ironic.updateNode(node.uuid, patch);
    expect(patched).toMatchObject(podm);
    expect(placementPatch(podm, await ironic.getNode(node.uuid))).toEqual([]);
    await ironic.deleteNode(node.uuid);
  });

  it("replaces a node's traits, refuses an invalid name or more than 50, and answers them sorted", async () => {
    const ironic = port();
    const node = await ironic.createNode({ driver: "fake-hardware", name: unique("traits") });
    expect(await ironic.getTraits(node.uuid)).toEqual([]);
    await ironic.setTraits(node.uuid, ["CUSTOM_GPU", "STORAGE_DISK_SSD", "CUSTOM_A100"]);
    expect([...(await ironic.getTraits(node.uuid))].sort()).toEqual([
      "CUSTOM_A100",
      "CUSTOM_GPU",
      "STORAGE_DISK_SSD",
    ]);
    await ironic.setTraits(node.uuid, ["CUSTOM_NVME"]);
    expect(await ironic.getTraits(node.uuid)).toEqual(["CUSTOM_NVME"]);
    await expect(ironic.setTraits(node.uuid, ["custom_lower"])).rejects.toBeInstanceOf(IronicRequestError);
    const many = Array.from({ length: 51 }, (_, index) => `CUSTOM_T${index}`);
    await expect(ironic.setTraits(node.uuid, many)).rejects.toBeInstanceOf(IronicRequestError);
    expect(await ironic.getTraits(node.uuid)).toEqual(["CUSTOM_NVME"]);
    await ironic.deleteNode(node.uuid);
  });

  it("keeps MACs unique (409 MACAlreadyExists), lists ports by node and address, and deletes them with the node", async () => {
    const ironic = port();
    const node = await ironic.createNode({ driver: "fake-hardware", name: unique("ports") });
    const mac = uniqueMac();
    const created = await ironic.createPort({ node_uuid: node.uuid, address: mac, pxe_enabled: true });
    expect(created).toMatchObject({ address: mac, node_uuid: node.uuid, pxe_enabled: true });
    await expect(ironic.createPort({ node_uuid: node.uuid, address: mac })).rejects.toBeInstanceOf(
      IronicMacAlreadyExistsError,
    );
    // What a register that creates first relies on: the MAC is Ironic's to keep unique, on any node, in any case.
    const other = await ironic.createNode({ driver: "fake-hardware", name: unique("ports-other") });
    await expect(
      ironic.createPort({ node_uuid: other.uuid, address: mac.toUpperCase() }),
    ).rejects.toBeInstanceOf(IronicMacAlreadyExistsError);
    expect(await ironic.listPorts({ node_uuid: other.uuid })).toEqual([]);
    await ironic.deleteNode(other.uuid);
    expect((await ironic.getPortByAddress(mac))?.uuid).toBe(created.uuid);
    expect((await ironic.listPorts({ node_uuid: node.uuid })).map((p) => p.uuid)).toEqual([created.uuid]);
    await ironic.deleteNode(node.uuid);
    expect(await ironic.getPortByAddress(mac)).toBeUndefined();
    await expect(ironic.deletePort(created.uuid)).rejects.toBeInstanceOf(IronicPortNotFoundError);
  });

  it("moves enroll → manageable → available and refuses a verb the state does not allow", async () => {
    const ironic = port();
    const node = await ironic.createNode({ driver: "fake-hardware", name: unique("states") });
    await expect(ironic.setProvisionState(node.uuid, "provide")).rejects.toBeInstanceOf(
      IronicInvalidStateError,
    );
    await ironic.setProvisionState(node.uuid, "manage");
    expect(await ironic.waitForProvisionState(node.uuid, { target: "manageable", ...wait })).toMatchObject({
      provision_state: "manageable",
      target_provision_state: null,
    });
    // What a step run again meets: the verb it already sent is refused, the node is where it went.
    await expect(ironic.setProvisionState(node.uuid, "manage")).rejects.toBeInstanceOf(
      IronicInvalidStateError,
    );
    await ironic.setProvisionState(node.uuid, "provide");
    expect(await ironic.waitForProvisionState(node.uuid, { target: "available", ...wait })).toMatchObject({
      provision_state: "available",
    });
    await expect(ironic.setProvisionState(node.uuid, "provide")).rejects.toBeInstanceOf(
      IronicInvalidStateError,
    );
    await ironic.deleteNode(node.uuid);
  });

  it("applies JSON patches to extra and sets maintenance", async () => {
    const ironic = port();
    const node = await ironic.createNode({ driver: "fake-hardware", name: unique("patch") });
    const patched = await ironic.updateNode(node.uuid, [
      { op: "add", path: "/extra/valence_node_uuid", value: "n1" },
    ]);
    expect(patched.extra).toMatchObject({ valence_node_uuid: "n1" });
    await ironic.setMaintenance(node.uuid, "testing");
    expect(await ironic.getNode(node.uuid)).toMatchObject({
      maintenance: true,
      maintenance_reason: "testing",
    });
    await ironic.deleteNode(node.uuid);
  });
}
