import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import type { OperationView } from "../../lib/operations/model.ts";
import { poolInventory } from "../../local/pool.ts";
import type { RamdiskAgents } from "../../local/ramdisk-agent/index.ts";
import { composeNode, expectErrorBody, startTestApi, type TestApi } from "../support/local-api.ts";
import { followOperation } from "../support/operations.ts";

/**
 * Fleet enrollment through the API (`POST /v1/nodes/register`), its workflow run by the durable SDK's local
 * runner, against the real Ironic configured as production runs it (automated cleaning on), whose cleaning the
 * emulated ramdisk agents carry out (a short step, set here), the Redfish emulator and dynalite.
 */
describe("fleet enrollment: many nodes in one operation (real Ironic cleaning, emulator, dynalite)", () => {
  let api: TestApi;
  let ironic: IronicDriver;
  let agents: RamdiskAgents;
  let podmId: string;

  beforeAll(async () => {
    api = await startTestApi({ demo: true, ironic: "start", emulatorInventory: poolInventory(10) });
    ironic = createIronicDriver({ url: api.stack.ironicUrl as string, auth: { type: "none" } });
    agents = api.stack.ramdiskAgents as RamdiskAgents;
    agents.cleaning.stepMs = 500;
    podmId = (await api.call("GET", "/v1/pod_managers")).body[0].uuid;
  });
  afterAll(() => api?.stop());

  const compose = (name: string) =>
    composeNode<{ uuid: string; hardware: { nics: { mac: string; enabled: boolean }[] } }>(api, podmId, name);

  it("enrolls four nodes with manage and provide, one refused for a MAC a foreign Ironic node holds: each its own result", async () => {
    const names = ["fleet-1", "fleet-2", "fleet-3", "fleet-4"];
    const nodes = [];
    for (const name of names) nodes.push(await compose(name));
    const clashing = nodes[2] as Awaited<ReturnType<typeof compose>>;
    const mac = clashing.hardware.nics.find((nic) => nic.enabled)?.mac as string;
    const foreign = await ironic.createNode({ name: "someone-elses", driver: "fake-hardware" });
    await ironic.createPort({ node_uuid: foreign.uuid, address: mac });

    const response = await api.call("POST", "/v1/nodes/register", {
      nodes: ["fleet-1", nodes[1]?.uuid, "fleet-3", { node: "fleet-4", provide: false }],
      manage: true,
      provide: true,
      concurrency: 2,
    });

    expect(response.status).toBe(202);
    const accepted = response.body as OperationView;
    expect(response.headers.get("location")).toBe(`${api.stack.apiUrl}/v1/operations/${accepted.id}`);
    expect(accepted).toMatchObject({
      kind: "enroll",
      state: "pending",
      arguments: { concurrency: 2, register: { manage: true, provide: true } },
      progress: { total: 4, pending: 4 },
    });
    expect(accepted.steps.map((step) => step.name)).toEqual(names);

    const ended = await followOperation(api.call, accepted.id, undefined, 180_000);

    expect(ended).toMatchObject({
      state: "failed",
      outcome: { code: "EnrollmentIncomplete" },
      progress: { total: 4, succeeded: 3, failed: 1, pending: 0, running: 0 },
    });
    expect(ended.outcome?.detail).toContain("3 of 4 nodes enrolled");
    const [first, second, third, fourth] = ended.nodes ?? [];
    expect(third).toMatchObject({ name: "fleet-3", state: "failed", operation_id: null });
    // The single register's refusal, as its 409 names it.
    expect(third?.code).toBe("IronicResourceTaken");
    expect(third?.detail).toContain(mac);
    for (const node of [first, second, fourth])
      expect(node).toMatchObject({ state: "succeeded", code: "Succeeded", operation_id: expect.any(String) });

    // Each node's own operation, run inside the enrollment, shows its steps as a single register's does.
    const child = (await api.call<OperationView>("GET", `/v1/operations/${first?.operation_id}`)).body;
    expect(child).toMatchObject({
      kind: "register",
      parent_id: accepted.id,
      state: "succeeded",
      steps: [
        { name: "manage", state: "succeeded" },
        { name: "provide", state: "succeeded", provision_state: "available" },
      ],
    });
    const manageOnly = (await api.call<OperationView>("GET", `/v1/operations/${fourth?.operation_id}`)).body;
    expect(manageOnly.steps.map((step) => step.name)).toEqual(["manage"]);

    // Ironic as each node's result says: cleaned and available, manageable, and nothing made for the refused one.
    for (const node of [first, second]) {
      const ironicNode = await ironic.getNode(node?.ironic_node_uuid as string);
      expect(ironicNode.provision_state).toBe("available");
      expect(agents.cleaned()).toContain(ironicNode.uuid);
    }
    expect((await ironic.getNode(fourth?.ironic_node_uuid as string)).provision_state).toBe("manageable");
    expect((await ironic.findNodes()).filter((node) => node.name === "fleet-3")).toHaveLength(0);
    const refused = (await api.call("GET", "/v1/nodes/fleet-3")).body;
    expect(refused).toMatchObject({ managed_by: "valence", intent: null, ironic_node_uuid: null });
    await ironic.deleteNode(foreign.uuid);
  }, 240_000);

  it("answers 400 naming what is wrong, and starts nothing", async () => {
    await compose("fleet-valid");
    const before = (await api.scan()).length;
    for (const [body, expected] of [
      [{ nodes: [] }, "body.nodes"],
      [{ nodes: ["fleet-valid", "fleet-valid"] }, "listed twice"],
      [{ nodes: ["fleet-valid", "no-such-node"] }, "body.nodes[1]: no node no-such-node"],
      [
        { selector: { podm_id: "00000000-0000-4000-8000-000000000000", managed_by: "valence" } },
        "no pod manager",
      ],
      [{ nodes: ["fleet-valid"], concurrency: 1000 }, "concurrency"],
    ] as const) {
      const response = await api.call("POST", "/v1/nodes/register", body);
      expect(expectErrorBody(response, 400).detail).toContain(expected);
    }
    expect((await api.scan()).length).toBe(before);
  });

  it("a cancel stops the node under way (Ironic aborts its cleaning) and the node not started", async () => {
    for (const name of ["stop-1", "stop-2"]) await compose(name);
    // Cleaning that outlasts the test: only the cancel ends it.
    agents.cleaning.stepMs = 300_000;
    try {
      const response = await api.call<OperationView>("POST", "/v1/nodes/register", {
        nodes: ["stop-1", "stop-2"],
        manage: true,
        provide: true,
        concurrency: 1,
      });
      expect(response.status).toBe(202);
      const enrollment = response.body;
      const registered = await followOperation(
        api.call,
        enrollment.id,
        (operation) => Boolean(operation.nodes?.[0]?.operation_id),
        60_000,
      );
      const childId = registered.nodes?.[0]?.operation_id as string;
      await followOperation(
        api.call,
        childId,
        (operation) => operation.steps.some((step) => step.provision_state === "clean wait"),
        90_000,
      );

      const cancel = await api.call<OperationView>("POST", `/v1/operations/${enrollment.id}/cancel`);
      expect(cancel.status).toBe(202);
      const ended = await followOperation(api.call, enrollment.id, undefined, 120_000);

      expect(ended).toMatchObject({ state: "cancelled", outcome: { code: "Cancelled" } });
      expect(ended.nodes?.map(({ name, state }) => [name, state])).toEqual([
        ["stop-1", "cancelled"],
        ["stop-2", "cancelled"],
      ]);
      const child = (await api.call<OperationView>("GET", `/v1/operations/${childId}`)).body;
      expect(child).toMatchObject({ state: "cancelled", parent_id: enrollment.id });
      // Aborted in clean wait, as a cancel of that operation alone does.
      const ironicUuid = ended.nodes?.[0]?.ironic_node_uuid as string;
      expect((await ironic.getNode(ironicUuid)).provision_state).toBe("clean failed");
      expect(ended.nodes?.[1]?.operation_id).toBeNull();
    } finally {
      agents.cleaning.stepMs = 500;
    }
  }, 300_000);
});
