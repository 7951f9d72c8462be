import { describe, expect, it } from "vitest";
import { ValidationError } from "../../lib/errors.ts";
import { buildIronicNode, ironicVerifyCa } from "../../lib/nodes/ironic-node.ts";
import type { RegisterNodeInput } from "../../lib/nodes/schemas.ts";
import type { ComposedSystem } from "../../lib/redfish/index.ts";
import { newNode } from "../support/fixtures.ts";

describe("ironicVerifyCa", () => {
  it.each([
    [undefined, true, true],
    [undefined, false, false],
    [true, true, true],
    [true, false, true],
    [false, false, false],
  ])("register asks %s, pod manager verifies %s: Ironic verifies %s", (requested, podm, expected) => {
    expect(ironicVerifyCa(requested, podm)).toBe(expected);
  });

  it("refuses to turn verification off where the pod manager has it, naming the field", () => {
    expect(() => ironicVerifyCa(false, true)).toThrow(ValidationError);
    expect(() => ironicVerifyCa(false, true)).toThrow(/body\.driver_info\.redfish_verify_ca/);
  });
});

describe("buildIronicNode", () => {
  const system = {
    resourceUri: "/redfish/v1/Systems/1",
    hardware: { cpus: 2, memory_mb: 1024, local_gb: 10, cpu_arch: "x86_64", nics: [] },
  } as unknown as ComposedSystem;
  const build = (driverInfo: RegisterNodeInput["driver_info"], podmVerifyCa: boolean) =>
    buildIronicNode({
      node: { ...newNode(), created_at: "t", updated_at: "t", version: 1 },
      system,
      podmUrl: "https://podm.example:8443",
      podmVerifyCa,
      credentials: { username: "admin", password: "pw" },
      options: { driver_info: driverInfo } as RegisterNodeInput,
      defaultResourceClass: "baremetal",
      deploymentId: "deployment-1",
    });

  it("keeps the pod manager's TLS verification unless the register adds it", () => {
    expect(build(undefined, true).driver_info?.redfish_verify_ca).toBe(true);
    expect(build({ redfish_verify_ca: true }, false).driver_info?.redfish_verify_ca).toBe(true);
    expect(() => build({ redfish_verify_ca: false }, true)).toThrow(ValidationError);
  });
});
