import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import type { OperationView } from "../../lib/operations/model.ts";
import { poolInventory } from "../../local/pool.ts";
import type { RamdiskAgents } from "../../local/ramdisk-agent/index.ts";
import { DEMO_CREDENTIALS } from "../../local/stack.ts";
import { composeNode, startTestApi, type TestApi } from "../support/local-api.ts";
import { followOperation } from "../support/operations.ts";

/**
 * A re-sync is not held up by a node's own operation, nor does it hold one up: Ironic takes no driver_info change
 * while it cleans (`clean wait` is no update-allowed state), so the re-sync waits durably for the node to rest,
 * its step showing where Ironic stands, and patches it then, while the node's `provide` goes on to `available`.
 * Real Ironic with automated cleaning, the emulator's ramdisk agents, dynalite.
 */
describe("a re-sync reaches a node in the middle of Ironic's cleaning", () => {
  let api: TestApi;
  let ironic: IronicDriver;
  let agents: RamdiskAgents;
  let podmId: string;

  beforeAll(async () => {
    api = await startTestApi({ demo: true, ironic: "start", emulatorInventory: poolInventory(4) });
    ironic = createIronicDriver({ url: api.stack.ironicUrl as string, auth: { type: "none" } });
    agents = api.stack.ramdiskAgents as RamdiskAgents;
    podmId = (await api.call("GET", "/v1/pod_managers")).body[0].uuid;
  });
  afterAll(() => api?.stop());

  it("waits for the cleaning node to rest, then patches its driver_info; its provide runs on undisturbed", async () => {
    await composeNode(api, podmId, "cleaning-resync");
    agents.cleaning.stepMs = 20_000;
    const registered = await api.call("POST", "/v1/nodes/cleaning-resync/register", {
      manage: true,
      provide: true,
    });
    expect(registered.status, registered.text).toBe(202);
    const provide = registered.body.operation.id as string;
    const ironicUuid = registered.body.ironic_node_uuid as string;
    await followOperation(
      api.call,
      provide,
      (op) => op.steps.some((step) => step.name === "provide" && step.provision_state === "clean wait"),
      60_000,
    );
    const before = await ironic.getNode(ironicUuid);

    const patched = await api.call("PATCH", `/v1/pod_managers/${podmId}`, {
      authentication: [{ type: "basic", auth_items: DEMO_CREDENTIALS }],
    });

    expect(patched.status, patched.text).toBe(202);
    const resyncId = patched.body.operation.id as string;
    // Ironic takes no driver_info change while it cleans: the re-sync waits, showing where Ironic stands, and
    // the node's own operation runs on undisturbed.
    const waiting = await followOperation(api.call, resyncId, (op) =>
      op.steps.some((step) => step.state === "running" && step.provision_state === "clean wait"),
    );
    expect(waiting.steps[0]?.detail).toContain("waiting for Ironic to end its transition");
    expect((await api.call("GET", "/v1/nodes/cleaning-resync")).body.operation?.id).toBe(provide);
    // (The Ironic node's updated_at is no witness: the ramdisk agent's heartbeats change it while it cleans.)
    expect(["clean wait", "cleaning"]).toContain((await ironic.getNode(ironicUuid)).provision_state);

    agents.cleaning.stepMs = 1_000;
    const provided: OperationView = await followOperation(api.call, provide, undefined, 120_000);
    expect(provided.state).toBe("succeeded");
    const resync = await followOperation(api.call, resyncId, undefined, 180_000);
    expect(resync.state, JSON.stringify(resync)).toBe("succeeded");
    expect(resync.results?.find((each) => each.name === "cleaning-resync")).toMatchObject({
      ironic_node_uuid: ironicUuid,
      state: "succeeded",
    });
    const after = await ironic.getNode(ironicUuid);
    expect(after.provision_state).toBe("available");
    expect(before.provision_state).toBe("clean wait");
  }, 240_000);
});
