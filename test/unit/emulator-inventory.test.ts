import { describe, expect, it } from "vitest";
import { defaultInventory } from "../../local/redfish-emulator/inventory.ts";

describe("the emulator's default inventory", () => {
  it("has three two-socket Xeon blocks with 2, 3 and 4 NICs and one onboard SSD each", () => {
    const blocks = defaultInventory().computeBlocks.slice(0, 3);

    expect(blocks.map((block) => block.id)).toEqual(["ComputeBlock1", "ComputeBlock2", "ComputeBlock3"]);
    expect(blocks.map((block) => block.processors.map((cpu) => cpu.cores))).toEqual([
      [8, 8],
      [8, 8],
      [16, 16],
    ]);
    expect(blocks.map((block) => block.processors.every((cpu) => cpu.model.includes("Xeon")))).toEqual([
      true,
      true,
      true,
    ]);
    expect(blocks.map((block) => block.memory.map((dimm) => dimm.capacityMiB))).toEqual([
      [16_384, 16_384, 16_384, 16_384],
      [16_384, 16_384, 16_384, 16_384],
      Array(8).fill(32_768),
    ]);
    expect(blocks.map((block) => block.nics.length)).toEqual([2, 3, 4]);
    expect(blocks.map((block) => block.drives?.map((drive) => drive.capacityBytes / 1e9))).toEqual([
      [240],
      [240],
      [480],
    ]);
  });
});

describe("reset types", () => {
  it("the emulator offers exactly the Redfish reset types Valence's node action accepts", async () => {
    const { RESET_TYPES: emulated } = await import("../../local/redfish-emulator/pod.ts");
    const { RESET_TYPES: accepted, NodeActionBody } = await import("../../lib/nodes/schemas.ts");

    expect(emulated).toEqual(accepted);
    expect(accepted).toContain("GracefulRestart");
    for (const type of emulated)
      expect(NodeActionBody.safeParse({ Reset: { Type: type } }).success).toBe(true);
  });
});

describe("emulator resources", () => {
  it("start with @odata.type, @odata.id, Id and Name, in Redfish's order", async () => {
    const { account, session } = await import("../../local/redfish-emulator/resources.ts");

    expect(Object.entries(account("7", "admin"))).toEqual([
      ["@odata.type", "#ManagerAccount.v1_9_0.ManagerAccount"],
      ["@odata.id", "/redfish/v1/AccountService/Accounts/7"],
      ["Id", "7"],
      ["Name", "User Account"],
      ["UserName", "admin"],
      ["Password", null],
      ["RoleId", "Administrator"],
      ["Enabled", true],
      ["Locked", false],
    ]);
    expect(session("s1", "admin")).toEqual({
      "@odata.type": "#Session.v1_3_0.Session",
      "@odata.id": "/redfish/v1/SessionService/Sessions/s1",
      Id: "s1",
      Name: "User Session",
      UserName: "admin",
    });
  });
});
