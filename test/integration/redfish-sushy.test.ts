import { execFile, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { createPodManagerClient, type PodManagerConnection } from "../../lib/redfish/index.ts";
import { type RedfishEmulator, startRedfishEmulator } from "../../local/redfish-emulator/index.ts";
import { LOCAL_ADDRESS_POLICY } from "../support/fixtures.ts";

/**
 * OpenStack's sushy — the Redfish library inside Ironic's redfish driver — against the emulator, as a child
 * process: if sushy can read, boot and power a composed system, Ironic can manage the nodes Valence registers.
 */

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("../support/sushy-check.py", import.meta.url));
const probe = spawnSync(PYTHON, ["-c", "import sushy"], { encoding: "utf8" });
const sushyMissing =
  probe.status === 0
    ? undefined
    : `${PYTHON} cannot import sushy (${probe.error?.message ?? probe.stderr.trim()})`;
if (sushyMissing)
  console.warn(`skipping the sushy tests: ${sushyMissing}; install python3-sushy to run them`);

interface SushyReport {
  system_id: string;
  power_state_before: string;
  macs: string[];
  nic_states: Record<string, string>;
  allowed_boot_targets: string[];
  power_state_after_off: string;
  power_state_after_on: string;
  boot_target: string;
  boot_enabled: string;
}

async function runSushy(emulator: RedfishEmulator, systemPath: string): Promise<SushyReport> {
  const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, emulator.url, "admin", "admin", systemPath], {
    timeout: 60_000,
  });
  return JSON.parse(stdout) as SushyReport;
}

describe.skipIf(sushyMissing !== undefined)("sushy (Ironic's Redfish client) against the emulator", () => {
  let emulator: RedfishEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  async function composed(mode: "dmtf" | "rsd", driver: PodManagerConnection["driver"]) {
    emulator = await startRedfishEmulator({ mode });
    const client = createPodManagerClient({
      url: emulator.url,
      username: "admin",
      password: "admin",
      driver,
      verifyCa: true,
      addressPolicy: LOCAL_ADDRESS_POLICY,
    });
    const system = await client.compose({ name: "ironic-node", totalCores: 16 });
    await client.close();
    emulator.clearRequests();
    return { emulator, system };
  }

  it("reads, boots and powers a DMTF composed system over a Redfish session", async () => {
    const { emulator, system } = await composed("dmtf", "redfish");
    const report = await runSushy(emulator, system.resourceUri);
    const [shown] = emulator.composedSystems();

    expect(report.system_id).toBe(shown?.systemId);
    expect(report.power_state_before).toBe("Off");
    expect(report.macs.map((mac) => mac.toLowerCase())).toEqual(shown?.macs);
    expect(Object.values(report.nic_states)).toEqual(["Enabled", "Enabled"]);
    expect(report.allowed_boot_targets).toEqual(expect.arrayContaining(["Pxe", "Hdd", "None"]));
    expect(report.power_state_after_off).toBe("Off");
    expect(report.power_state_after_on).toBe("On");

    expect(shown).toMatchObject({ powerState: "On", boot: { enabled: "Once", target: "Pxe" } });
    const writes = emulator.requests.filter((request) => request.method !== "GET");
    expect(
      writes.map((request) => `${request.method} ${request.path} ${request.status} ${request.auth}`),
    ).toEqual([
      "POST /redfish/v1/SessionService/Sessions 201 none",
      `PATCH ${system.resourceUri} 200 session`,
      `POST ${system.resourceUri}/Actions/ComputerSystem.Reset 204 session`,
      `POST ${system.resourceUri}/Actions/ComputerSystem.Reset 204 session`,
      expect.stringMatching(/^DELETE \/redfish\/v1\/SessionService\/Sessions\/\d+ 204 session$/),
    ]);
    expect(emulator.requests.every((request) => request.status < 500)).toBe(true);
  });

  it("falls back to Basic and sees a disabled NIC on an RSD node's ComputerSystem", async () => {
    const { emulator, system } = await composed("rsd", "rsd");
    const [shown] = emulator.composedSystems();
    const disabled = String(shown?.macs[1]);
    emulator.switches.sessionsEnabled = false;
    emulator.switches.disabledMacs.add(disabled);

    const report = await runSushy(emulator, system.resourceUri);

    expect(system.resourceUri).toBe(shown?.systemUri);
    expect(report.nic_states[disabled.toUpperCase()]).toBe("Disabled");
    expect(report.nic_states[String(shown?.macs[0]).toUpperCase()]).toBe("Enabled");
    expect(report.power_state_after_on).toBe("On");
    expect(emulator.composedSystems()[0]).toMatchObject({
      powerState: "On",
      boot: { enabled: "Once", target: "Pxe" },
    });
    const [login, ...rest] = emulator.requests.filter((request) => request.path !== "/redfish/v1/");
    expect(login).toMatchObject({ method: "POST", path: "/redfish/v1/SessionService/Sessions", status: 405 });
    expect(rest.length).toBeGreaterThan(5);
    expect(rest.every((request) => request.auth === "basic" && request.status < 400)).toBe(true);
  });
});
