import { describe, expect, it } from "vitest";
import {
  IronicNodeStateError,
  IronicResourceTakenError,
  NodeHasNoEnabledNicError,
  ValidationError,
} from "../../lib/errors.ts";
import type { IronicNode } from "../../lib/ironic/index.ts";
import { portPlan } from "../../lib/nodes/ironic-node.ts";
import { DEPLOYMENT_MARK, NODE_MARK } from "../../lib/nodes/ownership.ts";
import {
  adoptionMarks,
  claimExistingPort,
  decideExisting,
  decideUnregister,
  type ExistingResources,
  isOurCreation,
  portChanges,
  portOwnersToRead,
  portPlanProblem,
  registrationLanded,
} from "../../lib/nodes/registration-decisions.ts";
import { lifecycleStepsOf } from "../../lib/nodes/registration-service.ts";

const NODE = { uuid: "7d3c0e52-52f4-4c0a-9a57-1c2b3d4e5f60", name: "node-a", podm_id: "podm-1" };
const PODM_URL = "https://podm.example:8443";
const SYSTEM = "/redfish/v1/Systems/1";

function ironicNode(overrides: Partial<IronicNode> = {}): IronicNode {
  return {
    uuid: "11111111-1111-4111-8111-111111111111",
    name: "node-a",
    driver: "redfish",
    provision_state: "enroll",
    target_provision_state: null,
    power_state: null,
    target_power_state: null,
    maintenance: false,
    maintenance_reason: null,
    last_error: null,
    driver_info: {},
    properties: {},
    extra: {},
    instance_uuid: null,
    resource_class: null,
    network_interface: null,
    created_at: "",
    updated_at: null,
    ...overrides,
  };
}

function found(overrides: Partial<ExistingResources> = {}): ExistingResources {
  return {
    node: NODE,
    deploymentId: "dep-ours",
    podmUrl: PODM_URL,
    resourceUri: SYSTEM,
    byName: undefined,
    ports: [],
    owners: [],
    ...overrides,
  };
}

describe("decideExisting", () => {
  it("creates when Ironic holds neither our name nor our MACs", () => {
    expect(decideExisting(found({ ports: [undefined, undefined] }))).toEqual({ action: "create" });
  });

  it("adopts the node under our name that names our Valence node", () => {
    const mine = ironicNode({ extra: { [NODE_MARK]: NODE.uuid } });
    expect(decideExisting(found({ byName: mine }))).toEqual({ action: "adopt", node: mine });
  });

  it("adopts an unmarked node that drives the same system (trailing slash aside)", () => {
    const same = ironicNode({
      name: null,
      driver_info: { redfish_address: `${PODM_URL}/`, redfish_system_id: SYSTEM },
    });
    const decision = decideExisting(
      found({ ports: [{ node_uuid: same.uuid, address: "aa:bb:cc:dd:ee:01" }], owners: [same] }),
    );
    expect(decision).toEqual({ action: "adopt", node: same });
  });

  it("adopts once when the node under our name also holds our MACs", () => {
    const mine = ironicNode({ extra: { [NODE_MARK]: NODE.uuid, [DEPLOYMENT_MARK]: "dep-ours" } });
    const decision = decideExisting(
      found({
        byName: mine,
        ports: [{ node_uuid: mine.uuid, address: "aa:bb:cc:dd:ee:01" }],
        owners: [mine],
      }),
    );
    expect(decision).toEqual({ action: "adopt", node: mine });
  });

  it("refuses another deployment's node, even for our own hardware", () => {
    const theirs = ironicNode({
      extra: { [NODE_MARK]: NODE.uuid, [DEPLOYMENT_MARK]: "dep-theirs" },
      driver_info: { redfish_address: PODM_URL, redfish_system_id: SYSTEM },
    });
    const decision = decideExisting(found({ byName: theirs }));
    expect(decision.action).toBe("refuse");
    if (decision.action !== "refuse") return;
    expect(decision.error).toBeInstanceOf(IronicResourceTakenError);
    expect(decision.error.message).toBe(
      `Ironic node ${theirs.uuid} (node-a) already holds the name node-a and belongs to another Valence deployment (dep-theirs)`,
    );
  });

  it("refuses a node driving other hardware that holds our MACs, naming them", () => {
    const other = ironicNode({
      name: null,
      driver_info: { redfish_address: PODM_URL, redfish_system_id: "/x/2" },
    });
    const decision = decideExisting(
      found({
        ports: [
          { node_uuid: other.uuid, address: "aa:bb:cc:dd:ee:01" },
          undefined,
          { node_uuid: other.uuid, address: "aa:bb:cc:dd:ee:03" },
        ],
        owners: [other],
      }),
    );
    expect(decision).toMatchObject({
      action: "refuse",
      error: {
        message: `Ironic node ${other.uuid} already holds the MAC aa:bb:cc:dd:ee:01, aa:bb:cc:dd:ee:03 and drives other hardware`,
      },
    });
  });

  it("refuses two Ironic nodes for one system", () => {
    const first = ironicNode({ extra: { [NODE_MARK]: NODE.uuid } });
    const second = ironicNode({
      uuid: "22222222-2222-4222-8222-222222222222",
      name: null,
      driver_info: { redfish_address: PODM_URL, redfish_system_id: SYSTEM },
    });
    const decision = decideExisting(
      found({
        byName: first,
        ports: [{ node_uuid: second.uuid, address: "aa:bb:cc:dd:ee:01" }],
        owners: [second],
      }),
    );
    expect(decision).toMatchObject({
      action: "refuse",
      error: {
        message: `Ironic nodes ${first.uuid} and ${second.uuid} both drive this system; remove one in Ironic first`,
      },
    });
  });
});

describe("the other register decisions", () => {
  it("reads only the port owners not already read by name, once each", () => {
    const byName = { uuid: "a" };
    const ports = [{ node_uuid: "a" }, { node_uuid: "b" }, undefined, { node_uuid: "b" }, { node_uuid: "c" }];
    expect(portOwnersToRead(byName, ports)).toEqual(["b", "c"]);
    expect(portOwnersToRead(undefined, [])).toEqual([]);
  });

  it("refuses a system without an enabled NIC or a boot MAC that is not one", () => {
    const nics = [
      { mac: "AA:BB:CC:DD:EE:01", enabled: true },
      { mac: "aa:bb:cc:dd:ee:02", enabled: false },
    ];
    expect(portPlanProblem("n", portPlan(nics, { ports: "all" }))).toBeUndefined();
    expect(
      portPlanProblem("n", portPlan([nics[1] as (typeof nics)[number]], { ports: "all" })),
    ).toBeInstanceOf(NodeHasNoEnabledNicError);
    const wrongBoot = portPlanProblem("n", portPlan(nics, { ports: "all", boot_mac: "aa:bb:cc:dd:ee:02" }));
    expect(wrongBoot).toBeInstanceOf(ValidationError);
    expect(wrongBoot?.message).toBe("body.boot_mac: aa:bb:cc:dd:ee:02 is not an enabled NIC of node n");
  });

  it("marks an adopted node only when a mark is missing or another", () => {
    const marked = { extra: { [NODE_MARK]: NODE.uuid, [DEPLOYMENT_MARK]: "dep" } };
    expect(adoptionMarks(marked, NODE, "dep")).toBeUndefined();
    expect(adoptionMarks({ extra: { [NODE_MARK]: NODE.uuid } }, NODE, "dep")).toEqual([
      { op: "add", path: `/extra/${NODE_MARK}`, value: NODE.uuid },
      { op: "add", path: "/extra/valence_podm_id", value: "podm-1" },
      { op: "add", path: `/extra/${DEPLOYMENT_MARK}`, value: "dep" },
    ]);
  });

  it("recognises its own creation only by our node mark and our deployment", () => {
    expect(
      isOurCreation({ extra: { [NODE_MARK]: NODE.uuid, [DEPLOYMENT_MARK]: "dep" } }, NODE.uuid, "dep"),
    ).toBe(true);
    expect(isOurCreation({ extra: { [NODE_MARK]: NODE.uuid } }, NODE.uuid, "dep")).toBe(false);
    expect(
      isOurCreation({ extra: { [NODE_MARK]: "other", [DEPLOYMENT_MARK]: "dep" } }, NODE.uuid, "dep"),
    ).toBe(false);
    expect(isOurCreation(undefined, NODE.uuid, "dep")).toBe(false);
  });

  it("creates the ports the node lacks, PXE on the boot MAC, and keeps those it has", () => {
    const plan = { macs: ["m1", "m2", "m3"], bootMac: "m2" };
    expect(portChanges(plan, ["m1"])).toEqual({
      create: [
        { mac: "m2", pxe_enabled: true },
        { mac: "m3", pxe_enabled: false },
      ],
      keep: ["m1"],
    });
    expect(portChanges(plan, ["m1", "m2", "m3"]).create).toEqual([]);
  });

  it("claims a port whose MAC exists only when it is on our Ironic node", () => {
    expect(claimExistingPort({ node_uuid: "ours" }, "ours")).toBe("ours");
    expect(claimExistingPort({ node_uuid: "theirs" }, "ours")).toBe("conflict");
    expect(claimExistingPort(undefined, "ours")).toBe("conflict");
  });

  it("runs a register's lifecycle steps in Ironic's order, manage first", () => {
    expect(lifecycleStepsOf({ manage: false, inspect: false, provide: false })).toEqual([]);
    expect(lifecycleStepsOf({ manage: true, inspect: false, provide: false })).toEqual(["manage"]);
    expect(lifecycleStepsOf({ manage: false, inspect: false, provide: true })).toEqual(["manage", "provide"]);
    expect(lifecycleStepsOf({ manage: false, inspect: true, provide: true })).toEqual([
      "manage",
      "inspect",
      "provide",
    ]);
  });

  it("takes the final write as landed only at the next version, registered to our Ironic node", () => {
    const landed = { version: 4, managed_by: "ironic" as const, ironic_node_uuid: "u", intent: null };
    expect(registrationLanded(landed, 3, "u")).toBe(true);
    expect(registrationLanded({ ...landed, version: 5 }, 3, "u")).toBe(false);
    expect(registrationLanded({ ...landed, ironic_node_uuid: "v" }, 3, "u")).toBe(false);
    expect(registrationLanded({ ...landed, managed_by: "valence" }, 3, "u")).toBe(false);
  });
});

describe("decideUnregister", () => {
  const node = (overrides: Partial<IronicNode>) => ironicNode({ provision_state: "available", ...overrides });

  it("deletes a resting, unused node as is", () => {
    expect(decideUnregister(node({}), false)).toEqual({
      action: "delete",
      maintenance: false,
      removeInstance: false,
    });
  });

  it("refuses a node that is moving, forced or not", () => {
    for (const state of ["cleaning", "clean wait", "verifying"]) {
      const decision = decideUnregister(node({ provision_state: state }), true);
      expect(decision).toMatchObject({ action: "refuse" });
      if (decision.action === "refuse") {
        expect(decision.error).toBeInstanceOf(IronicNodeStateError);
        expect(decision.error.message).toContain(`is ${state}; wait for it to settle`);
      }
    }
  });

  it("refuses a node in use unless forced; forced: maintenance and the instance removed", () => {
    const used = node({ provision_state: "active", instance_uuid: "i-1" });
    expect(decideUnregister(used, false)).toMatchObject({ action: "refuse" });
    expect(decideUnregister(used, true)).toEqual({
      action: "delete",
      maintenance: true,
      removeInstance: true,
    });
  });

  it("deletes a node in use that is already in maintenance without force, touching nothing first", () => {
    const used = node({ provision_state: "active", maintenance: true });
    expect(decideUnregister(used, false)).toEqual({
      action: "delete",
      maintenance: false,
      removeInstance: false,
    });
  });
});
