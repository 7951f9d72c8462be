import { describe, expect, it } from "vitest";
import { interruptedRegisterAction, inUse, namedNodeOf, ownershipOf } from "../../lib/nodes/ownership.ts";

describe("ownership of an Ironic node", () => {
  it("tells ours, another deployment's and unmarked nodes apart", () => {
    expect(ownershipOf({ valence_deployment: "d-1" }, "d-1")).toBe("ours");
    expect(ownershipOf({ valence_deployment: "d-2" }, "d-1")).toBe("foreign");
    expect(ownershipOf({ valence_node_uuid: "n-1" }, "d-1")).toBe("unmarked");
    expect(ownershipOf({ valence_deployment: "" }, "d-1")).toBe("unmarked");
    expect(ownershipOf(undefined, "d-1")).toBe("unmarked");
  });

  it("reads the Valence node an Ironic node names", () => {
    expect(namedNodeOf({ valence_node_uuid: "n-1" })).toBe("n-1");
    expect(namedNodeOf({ valence_node_uuid: 7 })).toBeUndefined();
    expect(namedNodeOf({})).toBeUndefined();
  });

  it("counts a deployed node or one with an instance as in use", () => {
    expect(inUse({ provision_state: "active", instance_uuid: null })).toBe(true);
    expect(inUse({ provision_state: "available", instance_uuid: "i-1" })).toBe(true);
    expect(inUse({ provision_state: "enroll", instance_uuid: null })).toBe(false);
  });
});

describe("what the reconciler does with an interrupted register's Ironic node", () => {
  it("deletes only an incomplete, unused node marked by this deployment", () => {
    expect(interruptedRegisterAction({ ownership: "ours", complete: false, inUse: false })).toBe("delete");
  });

  it("keeps an incomplete node without this deployment's mark", () => {
    expect(interruptedRegisterAction({ ownership: "unmarked", complete: false, inUse: false })).toBe("keep");
  });

  it("finishes the register when Ironic has every port, or uses the node", () => {
    expect(interruptedRegisterAction({ ownership: "ours", complete: true, inUse: false })).toBe("finish");
    expect(interruptedRegisterAction({ ownership: "unmarked", complete: true, inUse: false })).toBe("finish");
    expect(interruptedRegisterAction({ ownership: "ours", complete: false, inUse: true })).toBe("finish");
  });
});
