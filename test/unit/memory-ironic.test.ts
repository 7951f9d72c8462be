import { describe, expect, it } from "vitest";
import { IronicInvalidStateError, IronicProvisionFailedError } from "../../lib/ironic/index.ts";
import { ironicPortContract } from "../support/ironic-port-contract.ts";
import { MemoryIronic } from "../support/memory-ironic.ts";

describe("the in-memory Ironic keeps the contract the real one keeps", () => {
  ironicPortContract(() => new MemoryIronic());
});

describe("the in-memory Ironic's own switches", () => {
  it("fails verification back to enroll with last_error when told", async () => {
    const ironic = new MemoryIronic();
    const node = await ironic.createNode({ driver: "redfish", name: "bad-bmc" });
    ironic.failVerification.add(node.uuid);
    await ironic.setProvisionState(node.uuid, "manage");
    await expect(ironic.waitForProvisionState(node.uuid, { target: "manageable" })).rejects.toBeInstanceOf(
      IronicProvisionFailedError,
    );
    expect(await ironic.getNode(node.uuid)).toMatchObject({ provision_state: "enroll" });
  });

  it("refuses to delete a node in a protected state unless it is in maintenance", async () => {
    const ironic = new MemoryIronic();
    const node = await ironic.createNode({ driver: "redfish", name: "busy" });
    (ironic.nodes.get(node.uuid) as { provision_state: string }).provision_state = "active";
    await expect(ironic.deleteNode(node.uuid)).rejects.toBeInstanceOf(IronicInvalidStateError);
    await ironic.setMaintenance(node.uuid);
    await ironic.deleteNode(node.uuid);
    expect(ironic.nodes.size).toBe(0);
  });

  it("loses the answer of a call that happened when a fault says after", async () => {
    const ironic = new MemoryIronic();
    ironic.fail({ method: "createNode", at: "after", error: new Error("reset") });
    await expect(ironic.createNode({ driver: "redfish", name: "lost" })).rejects.toThrow("reset");
    expect((await ironic.getNode("lost")).name).toBe("lost");
  });
});
