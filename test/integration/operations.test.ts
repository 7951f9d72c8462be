import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import type { OperationView } from "../../lib/operations/model.ts";
import { operationRepositoryFor, useLocalOperationStarter } from "../../lib/runtime/operations.ts";
import { poolInventory } from "../../local/pool.ts";
import type { RamdiskAgents } from "../../local/ramdisk-agent/index.ts";
import { composeNode, expectErrorBody, startTestApi, type TestApi } from "../support/local-api.ts";
import { followOperation } from "../support/operations.ts";
import { runWorkflowChild } from "../support/register-child-process.ts";

/**
 * Operations through the API, against the real Ironic configured as production runs it (automated cleaning on,
 * a deploy ramdisk set) whose cleaning the emulated ramdisk agents really carry out. Every request of the suite
 * is held to API Gateway's 29 s (test/support/request-limits.setup.ts), so long work can only pass through the
 * 202 path.
 */
describe("operations: Ironic's long lifecycle behind 202 (real Ironic cleaning, emulator, dynalite)", () => {
  let api: TestApi;
  let ironic: IronicDriver;
  let agents: RamdiskAgents;
  let podmId: string;

  beforeAll(async () => {
    api = await startTestApi({ demo: true, ironic: "start", emulatorInventory: poolInventory(16) });
    ironic = createIronicDriver({ url: api.stack.ironicUrl as string, auth: { type: "none" } });
    agents = api.stack.ramdiskAgents as RamdiskAgents;
    podmId = (await api.call("GET", "/v1/pod_managers")).body[0].uuid;
  });
  afterAll(() => api?.stop());
  afterEach(() => {
    agents.cleaning.stepMs = 1_000;
    agents.cleaning.failWith = undefined;
    useLocalOperationStarter(api.stack.operations);
  });

  async function compose(name: string): Promise<string> {
    return (await composed(name)).uuid;
  }

  const composed = (name: string) => composeNode<{ uuid: string; index: string }>(api, podmId, name);

  async function operation(id: string): Promise<OperationView> {
    const response = await api.call<OperationView>("GET", `/v1/operations/${id}`);
    expect(response.status).toBe(200);
    return response.body;
  }

  const follow = (id: string, until?: (operation: OperationView) => boolean, timeoutMs?: number) =>
    followOperation(api.call, id, until, timeoutMs);

  const inCleanWait = (op: OperationView) =>
    op.steps.some((step) => step.name === "provide" && step.provision_state === "clean wait");

  it("registers with manage and provide through 45 s of cleaning: 202, Location, Retry-After, then available", async () => {
    const uuid = await compose("long-clean");
    agents.cleaning.stepMs = 45_000;
    const started = Date.now();

    const response = await api.call("POST", "/v1/nodes/long-clean/register", { manage: true, provide: true });

    expect(response.status).toBe(202);
    const op = response.body.operation as OperationView;
    expect(response.headers.get("location")).toBe(`${api.stack.apiUrl}/v1/operations/${op.id}`);
    expect(response.headers.get("retry-after")).toBe("5");
    expect(response.body).toMatchObject({
      uuid,
      managed_by: "ironic",
      ironic: { provision_state: "enroll" },
    });
    expect(op).toMatchObject({ kind: "register", node_uuid: uuid, request_id: expect.any(String) });
    expect(op.steps.map((step) => step.name)).toEqual(["manage", "provide"]);

    const cleaning = await follow(op.id, inCleanWait);
    expect(cleaning.state).toBe("running");
    const ended = await follow(op.id);
    expect(Date.now() - started).toBeGreaterThan(45_000);
    expect(ended).toMatchObject({
      state: "succeeded",
      outcome: { code: "Succeeded" },
      steps: [
        { name: "manage", state: "succeeded", provision_state: "manageable" },
        { name: "provide", state: "succeeded", provision_state: "available", last_error: null },
      ],
    });
    const node = (await api.call("GET", "/v1/nodes/long-clean?refresh=true")).body;
    expect(node).toMatchObject({
      managed_by: "ironic",
      operation: null,
      ironic: { provision_state: "available" },
    });
    expect(agents.cleaned()).toContain(node.ironic_node_uuid);
    const listed = await api.call<OperationView[]>("GET", "/v1/nodes/long-clean/operations");
    expect(listed.body.map((each) => [each.id, each.state])).toEqual([[op.id, "succeeded"]]);
  }, 150_000);

  it("ends exactly once after its workflow is killed mid-clean and started again, nothing done twice", async () => {
    const uuid = await compose("killed-clean");
    agents.cleaning.stepMs = 8_000;
    const config = api.stack.config;
    const env = {
      DYNAMODB_ENDPOINT: config.DYNAMODB_ENDPOINT as string,
      VALENCE_TABLE_NAME: config.VALENCE_TABLE_NAME,
      VALENCE_SECRET_STORE: "file",
      VALENCE_SECRETS_FILE: config.VALENCE_SECRETS_FILE as string,
      VALENCE_LOCAL: "true",
      IRONIC_URL: config.IRONIC_URL as string,
      IRONIC_AUTH_TYPE: "none",
      VALENCE_DATA_DIR: config.VALENCE_DATA_DIR,
    };
    // The workflow runs in a process of its own, as it does in its own Lambda.
    const children: ReturnType<typeof runWorkflowChild>[] = [];
    useLocalOperationStarter({ start: async (id) => void children.push(runWorkflowChild(env, id)) });

    const response = await api.call("POST", "/v1/nodes/killed-clean/register", {
      manage: true,
      provide: true,
    });
    expect(response.status).toBe(202);
    const id = response.body.operation.id as string;
    await follow(id, inCleanWait, 60_000);
    const [child] = children;
    child?.child.kill("SIGKILL");
    expect((await child?.exited)?.signal).toBe("SIGKILL");
    const ironicUuid = (await api.call("GET", "/v1/nodes/killed-clean")).body.ironic_node_uuid as string;
    // Ironic cleans on; nobody follows the operation now.
    for (let waited = 0; (await ironic.getNode(ironicUuid)).provision_state !== "available"; waited += 500) {
      if (waited > 90_000) throw new Error("Ironic never finished cleaning");
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect((await operation(id)).state).toBe("running");

    // What `npm start` does when it comes back: start every operation still in flight.
    useLocalOperationStarter(api.stack.operations);
    expect(
      await api.stack.operations.resume(operationRepositoryFor(api.stack.config)),
    ).toBeGreaterThanOrEqual(1);
    const ended = await follow(id);

    expect(ended).toMatchObject({
      state: "succeeded",
      steps: [
        { name: "manage", state: "succeeded" },
        { name: "provide", state: "succeeded", provision_state: "available" },
      ],
    });
    const named = (await ironic.findNodes()).filter((node) => node.name === "killed-clean");
    expect(named.map((node) => node.uuid)).toEqual([ironicUuid]);
    expect((await ironic.listPorts({ node_uuid: ironicUuid })).length).toBeGreaterThan(0);
    expect((await api.call("GET", `/v1/nodes/${uuid}`)).body).toMatchObject({ operation: null });
    // One Operation Finished for it, however many processes ran it.
    const finished = await finishedEvents(api, id);
    expect(finished).toBe(1);
  }, 150_000);

  it("leaves `clean failed` in Ironic and a failed operation with Ironic's last_error when cleaning fails", async () => {
    await compose("dirty");
    agents.cleaning.failWith = "disk would not wipe";

    const response = await api.call("POST", "/v1/nodes/dirty/register", { manage: true, provide: true });
    expect(response.status).toBe(202);
    const ended = await follow(response.body.operation.id);

    expect(ended.state).toBe("failed");
    expect(ended.outcome?.code).toBe("IronicStepFailed");
    expect(ended.outcome?.detail).toContain("disk would not wipe");
    expect(ended.steps[1]).toMatchObject({
      name: "provide",
      state: "failed",
      provision_state: "clean failed",
    });
    const node = (await api.call("GET", "/v1/nodes/dirty?refresh=true")).body;
    // Verified, so registered still: the operator retries provide or unregisters.
    expect(node).toMatchObject({
      managed_by: "ironic",
      operation: null,
      ironic: { provision_state: "clean failed" },
    });

    agents.cleaning.failWith = undefined;
    const manage = await api.call("POST", "/v1/nodes/dirty/manage");
    expect(manage.status).toBe(202);
    expect((await follow(manage.body.id)).state).toBe("succeeded");
    const retry = await api.call("POST", "/v1/nodes/dirty/provide");
    expect(retry.status).toBe(202);
    expect(await follow(retry.body.id)).toMatchObject({ kind: "provide", state: "succeeded" });
  }, 150_000);

  it("rolls the registration back when Ironic cannot verify the BMC during manage", async () => {
    const { uuid, index } = await composed("vanished-bmc");
    // The system goes away between the register and its operation's manage: Ironic's verification (a power
    // state read through the BMC) fails and leaves the node `enroll` with last_error.
    useLocalOperationStarter({
      start: async (id) => {
        api.stack.emulator?.decomposeOutOfBand(index);
        await api.stack.operations.start(id);
      },
    });
    const response = await api.call("POST", "/v1/nodes/vanished-bmc/register", { manage: true });
    expect(response.status).toBe(202);
    const ironicUuid = response.body.ironic_node_uuid as string;
    const ended = await follow(response.body.operation.id);

    expect(ended.state).toBe("failed");
    expect(ended.outcome?.code).toBe("VerificationFailed");
    expect(ended.outcome?.detail).toContain(`rolled back: deleted Ironic node ${ironicUuid}`);
    expect((await ironic.findNodes()).some((node) => node.uuid === ironicUuid)).toBe(false);
    expect((await api.call("GET", `/v1/nodes/${uuid}`)).body).toMatchObject({
      managed_by: "valence",
      ironic_node_uuid: null,
      operation: null,
    });
  }, 120_000);

  it("cancels during clean wait: Ironic aborts, the operation ends cancelled", async () => {
    await compose("cancelled-clean");
    agents.cleaning.stepMs = 120_000;
    const response = await api.call("POST", "/v1/nodes/cancelled-clean/register", {
      manage: true,
      provide: true,
    });
    const id = response.body.operation.id as string;
    await follow(id, inCleanWait, 60_000);

    const cancel = await api.call("POST", `/v1/operations/${id}/cancel`);
    expect(cancel.status).toBe(202);
    expect(cancel.body.state).toBe("cancelling");
    const ended = await follow(id);

    expect(ended.state).toBe("cancelled");
    const node = (await api.call("GET", "/v1/nodes/cancelled-clean?refresh=true")).body;
    expect(node.ironic.provision_state).toBe("clean failed");
    expect(node).toMatchObject({ managed_by: "ironic", operation: null });
    const again = await api.call("POST", `/v1/operations/${id}/cancel`);
    expectErrorBody(again, 409);
  }, 150_000);

  it("unregisters a node Ironic is cleaning through an operation: abort in clean wait, then delete", async () => {
    const uuid = await compose("leaving-clean");
    agents.cleaning.stepMs = 120_000;
    const registered = await api.call("POST", "/v1/nodes/leaving-clean/register");
    expect(registered.status).toBe(200);
    const ironicUuid = registered.body.ironic_node_uuid as string;
    // An operator cleans it with Ironic directly: Valence has no operation on it.
    await ironic.setProvisionState(ironicUuid, "manage");
    await ironic.waitForProvisionState(ironicUuid, { target: "manageable", timeoutMs: 30_000 });
    await ironic.setProvisionState(ironicUuid, "provide");
    for (let waited = 0; (await ironic.getNode(ironicUuid)).provision_state !== "clean wait"; waited += 250) {
      if (waited > 60_000) throw new Error("Ironic never reached clean wait");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    const response = await api.call("POST", "/v1/nodes/leaving-clean/unregister");

    expect(response.status).toBe(202);
    expect(response.headers.get("location")).toContain(`/v1/operations/${response.body.operation.id}`);
    expect(response.body.operation).toMatchObject({ kind: "unregister", node_uuid: uuid });
    const ended = await follow(response.body.operation.id);
    expect(ended).toMatchObject({
      state: "succeeded",
      steps: [
        { name: "settle", state: "succeeded", provision_state: "clean failed" },
        { name: "unregister", state: "succeeded" },
      ],
    });
    expect((await ironic.findNodes()).some((node) => node.uuid === ironicUuid)).toBe(false);
    expect((await api.call("GET", `/v1/nodes/${uuid}`)).body).toMatchObject({
      managed_by: "valence",
      ironic_node_uuid: null,
      operation: null,
    });
  }, 150_000);

  it("starts exactly one operation for 20 concurrent registers of one node; the others get 409 naming it", async () => {
    await compose("crowded");
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        api.call("POST", "/v1/nodes/crowded/register", { manage: true, provide: true }),
      ),
    );
    const accepted = answers.filter((answer) => answer.status === 202);
    expect(accepted).toHaveLength(1);
    const id = accepted[0]?.body.operation.id as string;
    for (const refused of answers.filter((answer) => answer.status !== 202)) {
      expect(refused.status).toBe(409);
      // Either still registering (its operation named), or registered already.
      expect(["OperationInProgress", "NodeAlreadyRegistered"]).toContain(refused.body.code);
      if (refused.body.code === "OperationInProgress") expect(refused.body.detail).toContain(id);
    }
    const listed = await api.call<OperationView[]>("GET", "/v1/nodes/crowded/operations");
    expect(listed.body.map((each) => each.id)).toEqual([id]);
    const second = await api.call("POST", "/v1/nodes/crowded/provide");
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: "OperationInProgress" });
    expect(second.body.detail).toContain(id);
    expect((await follow(id)).state).toBe("succeeded");
  }, 150_000);
});

/** Operation Finished events for one operation in the local event file. */
async function finishedEvents(api: TestApi, operationId: string): Promise<number> {
  const text = await readFile(join(api.stack.config.VALENCE_DATA_DIR, "events.jsonl"), "utf8").catch(
    () => "",
  );
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter(
      (event) => event["detail-type"] === "Operation Finished" && event.detail?.operation?.id === operationId,
    ).length;
}
