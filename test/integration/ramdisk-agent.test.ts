import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createIronicDriver,
  type IronicDriver,
  IronicInvalidStateError,
  IronicNodeNotFoundError,
  IronicProvisionFailedError,
} from "../../lib/ironic/index.ts";
import { deleteIronicNode } from "../../lib/nodes/ironic-node.ts";
import { freePort, type IronicService, startIronic } from "../../local/ironic.ts";
import {
  attachRamdiskAgents,
  cleaningIronicConfig,
  type RamdiskAgents,
} from "../../local/ramdisk-agent/index.ts";
import { type RedfishEmulator, startRedfishEmulator } from "../../local/redfish-emulator/index.ts";
import { enrollEmulatedSystem } from "../support/emulated-node.ts";

/**
 * A real Ironic configured as production runs it (automated cleaning on) cleans systems of the Redfish emulator:
 * it sets the boot override and powers them on through Redfish, the emulated ironic-python-agent that "boots"
 * looks the node up, heartbeats and runs the clean step Ironic asks for, and Ironic finishes cleaning.
 */
describe("automated cleaning by a real Ironic, with the emulated ramdisk agent", () => {
  let dataDir: string;
  let ironic: IronicService;
  let emulator: RedfishEmulator;
  let agents: RamdiskAgents;
  let driver: IronicDriver;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "valence-cleaning-"));
    const port = await freePort("127.0.0.1");
    const ironicUrl = `http://127.0.0.1:${port}`;
    ironic = await startIronic({
      dataDir,
      port,
      config: await cleaningIronicConfig({ dataDir, ironicUrl }),
    });
    emulator = await startRedfishEmulator({ mode: "dmtf" });
    agents = attachRamdiskAgents(emulator, { ironicUrl, heartbeatMs: 300, lookupMs: 300 });
    driver = createIronicDriver({ url: ironic.url, auth: { type: "none" }, timeoutMs: 10_000 });
  });

  afterAll(async () => {
    await agents?.close();
    await emulator?.close();
    await ironic?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Polls until Ironic shows `state`, resting or not (`waitForProvisionState` waits for a resting state). */
  async function reaches(uuid: string, state: string, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const node = await driver.getNode(uuid);
      if (node.provision_state === state) return node;
      if (Date.now() > deadline)
        throw new Error(`node ${uuid} did not reach ${state}; it is ${node.provision_state}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** A composed system of the emulator, enrolled in Ironic with its ports and verified (`manageable`). */
  async function manageableNode(name: string) {
    const { node, systemUri } = await enrollEmulatedSystem(driver, emulator, name, 8);
    await driver.setProvisionState(node.uuid, "manage");
    await driver.waitForProvisionState(node.uuid, { target: "manageable", timeoutMs: 30_000, pollMs: 200 });
    const shown = emulator.composedSystems().find((candidate) => candidate.systemUri === systemUri);
    if (!shown) throw new Error(`the emulator does not show ${systemUri}`);
    return { node, systemId: shown.systemId };
  }

  it("cleans a node on provide: clean wait, the agent's clean step, then available and powered off", async () => {
    agents.cleaning.stepMs = 1_500;
    agents.cleaning.failWith = undefined;
    const { node, systemId } = await manageableNode("clean-ok");

    await driver.setProvisionState(node.uuid, "provide");
    const waited = await reaches(node.uuid, "clean wait");
    const agent = agents.running(systemId);
    const available = await driver.waitForProvisionState(node.uuid, {
      target: "available",
      timeoutMs: 60_000,
      pollMs: 250,
    });

    expect(waited.provision_state).toBe("clean wait");
    expect(available).toMatchObject({ provision_state: "available", last_error: null });
    expect(agent?.node).toBe(node.uuid);
    expect(agent?.commands.map((command) => [command.command_name, command.command_status])).toEqual([
      ["get_clean_steps", "SUCCEEDED"],
      ["execute_clean_step", "SUCCEEDED"],
    ]);
    // Ironic tears cleaning down by powering the node off, which stops the ramdisk.
    const system = emulator.composedSystems().find((candidate) => candidate.systemId === systemId);
    expect(system?.powerState).toBe("Off");
    expect(agents.running(systemId)).toBeUndefined();
  });

  it("ends in clean failed with the agent's error when the clean step fails", async () => {
    agents.cleaning.stepMs = 200;
    agents.cleaning.failWith = "disk /dev/sdb did not answer";
    const { node } = await manageableNode("clean-fails");

    await driver.setProvisionState(node.uuid, "provide");
    const failure = await driver
      .waitForProvisionState(node.uuid, { target: "available", timeoutMs: 60_000, pollMs: 250 })
      .catch((error: unknown) => error);
    const current = await driver.getNode(node.uuid);

    expect(failure).toBeInstanceOf(IronicProvisionFailedError);
    expect(current.provision_state).toBe("clean failed");
    expect(current.last_error).toContain("disk /dev/sdb did not answer");
  });

  it("aborts cleaning from clean wait when asked: Ironic then marks it clean failed", async () => {
    agents.cleaning.stepMs = 60_000;
    agents.cleaning.failWith = undefined;
    const { node } = await manageableNode("clean-abort");

    await driver.setProvisionState(node.uuid, "provide");
    await reaches(node.uuid, "clean wait");
    await driver.setProvisionState(node.uuid, "abort");
    const aborted = await reaches(node.uuid, "clean failed");

    expect(aborted.last_error).toContain("the clean operation was aborted");
  });

  it("lets Valence delete a node whose cleaning was aborted, though Ironic refuses it outside maintenance", async () => {
    agents.cleaning.stepMs = 60_000;
    agents.cleaning.failWith = undefined;
    const { node } = await manageableNode("clean-abort-delete");
    await driver.setProvisionState(node.uuid, "provide");
    await reaches(node.uuid, "clean wait");
    await driver.setProvisionState(node.uuid, "abort");
    const aborted = await reaches(node.uuid, "clean failed");
    const refused = await driver.deleteNode(node.uuid).catch((error: unknown) => error);

    await deleteIronicNode(driver, node.uuid);

    expect(aborted.maintenance).toBe(false);
    expect(refused).toBeInstanceOf(IronicInvalidStateError);
    await expect(driver.getNode(node.uuid)).rejects.toBeInstanceOf(IronicNodeNotFoundError);
  });
});
