import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { LocalDurableTestRunner } from "@aws/durable-execution-sdk-js-testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, useConfig } from "../../lib/config.ts";
import type { ValenceEvent } from "../../lib/events/schemas.ts";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import { DynamoNodeRepository } from "../../lib/nodes/dynamo-repository.ts";
import { durableWorkflowContext } from "../../lib/operations/durable.ts";
import { DynamoOperationRepository } from "../../lib/operations/dynamo-repository.ts";
import {
  type LifecycleDeps,
  type LifecycleInput,
  type LifecycleResult,
  runLifecycle,
} from "../../lib/operations/lifecycle.ts";
import type { Operation } from "../../lib/operations/model.ts";
import { cancelRequested } from "../../lib/operations/transitions.ts";
import { freePort, type IronicService, startIronic } from "../../local/ironic.ts";
import {
  attachRamdiskAgents,
  cleaningIronicConfig,
  type RamdiskAgents,
} from "../../local/ramdisk-agent/index.ts";
import {
  defaultInventory,
  type RedfishEmulator,
  startRedfishEmulator,
} from "../../local/redfish-emulator/index.ts";
import { startTestTable, type TestTable } from "../support/dynamo.ts";
import { enrollEmulatedSystem } from "../support/emulated-node.ts";
import { newNode } from "../support/fixtures.ts";

/**
 * The lifecycle workflow run by the durable execution SDK's local runner (real-time waits, checkpoints in its
 * worker) against a real Ironic that cleans as production does, the Redfish emulator with emulated ramdisk
 * agents, and the operations in dynalite.
 */
describe("the durable lifecycle workflow against a real Ironic with cleaning", () => {
  let dataDir: string;
  let ironic: IronicService;
  let emulator: RedfishEmulator;
  let agents: RamdiskAgents;
  let driver: IronicDriver;
  let table: TestTable;
  let operations: DynamoOperationRepository;
  /** Valence node uuid → Ironic node uuid. */
  const ironicNodes = new Map<string, string>();
  const events: ValenceEvent[] = [];
  /** The verbs sent to Ironic, by Ironic node. */
  const verbs = new Map<string, string[]>();
  /** Ironic nodes whose next read after `provide` fails, once (a fault inside the step, after its side effect). */
  const failReadAfterProvide = new Set<string>();
  /** Ironic nodes no read of which succeeds (Ironic unreachable for them). */
  const unreachable = new Set<string>();

  function deps(): LifecycleDeps {
    return {
      operations,
      ironicNodeOf: async (nodeUuid) => ironicNodes.get(nodeUuid),
      ironic: {
        getNode: (async (ident: string) => {
          if (unreachable.has(ident)) throw new Error("injected: Ironic unreachable");
          if (failReadAfterProvide.has(ident) && verbs.get(ident)?.includes("provide")) {
            failReadAfterProvide.delete(ident);
            throw new Error("injected: the invocation died after provide was sent");
          }
          return driver.getNode(ident);
        }) as IronicDriver["getNode"],
        clearMaintenance: (ident) => driver.clearMaintenance(ident),
        listPorts: (filter) => driver.listPorts(filter),
        setProvisionState: async (ident, target, extra) => {
          verbs.set(ident, [...(verbs.get(ident) ?? []), target]);
          return driver.setProvisionState(ident, target, extra);
        },
      },
      events: { publish: async (published) => void events.push(...published) },
    };
  }

  const handler = withDurableExecution<LifecycleInput, LifecycleResult>(async (event, context) =>
    runLifecycle(
      event,
      // Short retries: a step that keeps failing gives up within seconds here.
      durableWorkflowContext(context, {
        retryStrategy: (_error, attempt) => ({ shouldRetry: attempt < 3, delay: { seconds: 1 } }),
      }),
      deps(),
    ),
  );

  beforeAll(async () => {
    await LocalDurableTestRunner.setupTestEnvironment({ skipTime: false });
    dataDir = await mkdtemp(join(tmpdir(), "valence-lifecycle-"));
    const port = await freePort("127.0.0.1");
    const ironicUrl = `http://127.0.0.1:${port}`;
    ironic = await startIronic({ dataDir, port, config: await cleaningIronicConfig({ dataDir, ironicUrl }) });
    // Twice the default compute blocks (each with MACs of its own): one composed system per test.
    const inventory = defaultInventory();
    inventory.computeBlocks = [1, 2, 3, 4].flatMap((copy) =>
      inventory.computeBlocks.map((block) => ({ ...block, id: `${block.id}-${copy}` })),
    );
    emulator = await startRedfishEmulator({ mode: "dmtf", inventory });
    agents = attachRamdiskAgents(emulator, { ironicUrl, heartbeatMs: 300, lookupMs: 300 });
    driver = createIronicDriver({ url: ironic.url, auth: { type: "none" }, timeoutMs: 10_000 });
    table = await startTestTable();
    operations = new DynamoOperationRepository(table.db, table.tableName);
  }, 120_000);

  afterAll(async () => {
    await LocalDurableTestRunner.teardownTestEnvironment();
    await agents?.close();
    await emulator?.close();
    await ironic?.stop();
    await table?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** A composed system of the emulator enrolled in Ironic (`enroll`, with its ports), and its operation. */
  async function enrolledNodeWithOperation(name: string, steps = ["manage", "provide"]) {
    const { node } = await enrollEmulatedSystem(driver, emulator, name);
    const valenceNode = randomUUID();
    ironicNodes.set(valenceNode, node.uuid);
    const operation = await operations.create({
      id: randomUUID(),
      node_uuid: valenceNode,
      node_name: name,
      kind: "register",
      steps,
      request_id: `req-${name}`,
      principal: "arn:aws:iam::123456789012:user/ops",
      // A workflow that never sees the end fails well before the test's own timeout.
      deadline: new Date(Date.now() + 60_000).toISOString(),
    });
    return { ironicNode: node.uuid, operation };
  }

  async function run(operation: Operation) {
    const runner = new LocalDurableTestRunner<LifecycleResult>({ handlerFunction: handler });
    return runner.run({ payload: { operation_id: operation.id } });
  }

  const finishedEvents = (operation: Operation) =>
    events.filter(
      (event) =>
        event.detailType === "Operation Finished" &&
        (event.detail as { operation: { id: string } }).operation.id === operation.id,
    );

  it("manages and provides through clean wait to available, the operation succeeded with Ironic's states", async () => {
    agents.cleaning.stepMs = 6_000;
    agents.cleaning.failWith = undefined;
    const { ironicNode, operation } = await enrolledNodeWithOperation("lifecycle-ok");
    const seen: string[] = [];
    const watch = setInterval(() => {
      void driver.getNode(ironicNode).then((node) => seen.push(node.provision_state));
    }, 250);

    const execution = await run(operation).finally(() => clearInterval(watch));

    const stored = await operations.get(operation.id);
    expect(execution.getStatus()).toBe("SUCCEEDED");
    expect(execution.getResult()).toMatchObject({ state: "succeeded" });
    expect(stored?.state).toBe("succeeded");
    expect(stored?.steps.map((step) => [step.name, step.state, step.provision_state])).toEqual([
      ["manage", "succeeded", "manageable"],
      ["provide", "succeeded", "available"],
    ]);
    expect(seen).toContain("clean wait");
    expect(verbs.get(ironicNode)).toEqual(["manage", "provide"]);
    const node = await driver.getNode(ironicNode);
    expect(node.provision_state).toBe("available");
    // What a replayed send relies on to tell a verb already taken.
    expect(node.provision_updated_at).toEqual(expect.any(String));
    // The clean step outlasted in-process polling: the workflow suspended durably.
    expect(execution.getOperations().map((each) => each.getName())).toContain("provide: wait");
    expect(finishedEvents(operation)).toHaveLength(1);
  }, 120_000);

  it("fails the operation with Ironic's last_error on a cleaning failure, leaving the node clean failed", async () => {
    agents.cleaning.stepMs = 500;
    agents.cleaning.failWith = "disk /dev/sdb did not answer";
    const { ironicNode, operation } = await enrolledNodeWithOperation("lifecycle-clean-fails");

    const execution = await run(operation);

    const stored = await operations.get(operation.id);
    expect(execution.getStatus()).toBe("SUCCEEDED");
    expect(stored?.state).toBe("failed");
    expect(stored?.outcome?.code).toBe("IronicStepFailed");
    expect(stored?.outcome?.detail).toContain("disk /dev/sdb did not answer");
    expect(stored?.steps[1]).toMatchObject({ state: "failed", provision_state: "clean failed" });
    const node = await driver.getNode(ironicNode);
    expect(node.provision_state).toBe("clean failed");
    expect(node.last_error).toContain("disk /dev/sdb did not answer");
  }, 120_000);

  it("aborts cleaning in Ironic when cancelled during clean wait: the operation cancelled", async () => {
    agents.cleaning.stepMs = 60_000;
    agents.cleaning.failWith = undefined;
    const { ironicNode, operation } = await enrolledNodeWithOperation("lifecycle-cancel");
    const cancelInCleanWait = (async () => {
      for (let tries = 0; tries < 300; tries++) {
        if ((await driver.getNode(ironicNode)).provision_state === "clean wait") {
          const current = (await operations.get(operation.id)) as Operation;
          await operations.update(current.id, current, cancelRequested(current, new Date()));
          return true;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return false;
    })();

    const execution = await run(operation);

    expect(await cancelInCleanWait).toBe(true);
    const stored = await operations.get(operation.id);
    expect(execution.getStatus()).toBe("SUCCEEDED");
    expect(stored?.state).toBe("cancelled");
    expect(stored?.steps.map((step) => [step.name, step.state])).toEqual([
      ["manage", "succeeded"],
      ["provide", "cancelled"],
    ]);
    expect(verbs.get(ironicNode)).toEqual(["manage", "provide", "abort"]);
    const node = await driver.getNode(ironicNode);
    expect(node.provision_state).toBe("clean failed");
    expect(node.last_error).toContain("aborted");
  }, 120_000);

  it("retries a step that failed after its verb was sent: the verb sent once, the operation ended once", async () => {
    agents.cleaning.stepMs = 1_000;
    agents.cleaning.failWith = undefined;
    const { ironicNode, operation } = await enrolledNodeWithOperation("lifecycle-fault");
    failReadAfterProvide.add(ironicNode);

    const execution = await run(operation);

    const stored = await operations.get(operation.id);
    expect(failReadAfterProvide.has(ironicNode)).toBe(false);
    expect(execution.getStatus()).toBe("SUCCEEDED");
    expect(stored?.state).toBe("succeeded");
    expect(verbs.get(ironicNode)).toEqual(["manage", "provide"]);
    expect((await driver.getNode(ironicNode)).provision_state).toBe("available");
    expect(finishedEvents(operation)).toHaveLength(1);
    // The SDK ran the step again after the fault.
    const send = execution.getOperations().find((each) => each.getName() === "provide: send");
    expect(send?.getStepDetails()?.attempt ?? 0).toBeGreaterThan(1);
  }, 120_000);

  // Independent (a node and an operation each): run side by side.
  describe.concurrent("an invocation dying at every step boundary, after the step's side effect and before its checkpoint", () => {
    /** Steps of a manage + provide, each a boundary a Lambda may die at. */
    // Each step's checkpoint also starts the next step (the last one ends the operation): these are all of them.
    const BOUNDARIES = ["start", "manage: send", "manage: finish", "provide: send", "provide: finish"];
    for (const boundary of BOUNDARIES) {
      it(`${boundary}: the operation ends once, succeeded, every verb sent once`, async ({ expect }) => {
        agents.cleaning.stepMs = 1_000;
        agents.cleaning.failWith = undefined;
        const { ironicNode, operation } = await enrolledNodeWithOperation(
          `boundary-${BOUNDARIES.indexOf(boundary)}`,
        );
        let died = 0;
        // The real SDK and local runner; the step's work is done, then the invocation "dies" before the checkpoint
        // (the step throws, so the SDK runs it again).
        const dying = withDurableExecution<LifecycleInput, LifecycleResult>(async (event, context) => {
          const ctx = durableWorkflowContext(context, {
            retryStrategy: (_error, attempt) => ({ shouldRetry: attempt < 3, delay: { seconds: 1 } }),
          });
          return runLifecycle(
            event,
            {
              ...ctx,
              step: (name, fn) =>
                ctx.step(name, async () => {
                  const result = await fn();
                  if (name === boundary && died++ === 0) throw new Error(`died after ${name}`);
                  return result;
                }),
            },
            deps(),
          );
        });

        const execution = await new LocalDurableTestRunner<LifecycleResult>({ handlerFunction: dying }).run({
          payload: { operation_id: operation.id },
        });

        expect(died).toBeGreaterThan(0);
        expect(execution.getStatus()).toBe("SUCCEEDED");
        expect((await operations.get(operation.id))?.state).toBe("succeeded");
        expect(verbs.get(ironicNode)).toEqual(["manage", "provide"]);
        expect((await driver.getNode(ironicNode)).provision_state).toBe("available");
        expect((await driver.findNodes()).filter((node) => node.uuid === ironicNode)).toHaveLength(1);
        expect(finishedEvents(operation)).toHaveLength(1);
      }, 120_000);
    }
  });

  it("fails the operation, leaving the node as it is, when Ironic stays unreachable past the step's retries", async () => {
    // No composed system needed: Ironic is never reached for this node.
    const node = await driver.createNode({ name: "lifecycle-unreachable", driver: "redfish" });
    const ironicNode = node.uuid;
    const valenceNode = randomUUID();
    ironicNodes.set(valenceNode, ironicNode);
    const operation = await operations.create({
      id: randomUUID(),
      node_uuid: valenceNode,
      node_name: "lifecycle-unreachable",
      kind: "manage",
      steps: ["manage"],
      request_id: "req-lifecycle-unreachable",
      principal: "arn:aws:iam::123456789012:user/ops",
    });
    unreachable.add(ironicNode);

    const execution = await run(operation);

    const stored = await operations.get(operation.id);
    expect(execution.getStatus()).toBe("SUCCEEDED");
    expect(stored?.state).toBe("failed");
    expect(stored?.outcome).toMatchObject({ code: "IronicError" });
    expect(verbs.get(ironicNode)).toBeUndefined();
    expect((await driver.getNode(ironicNode)).provision_state).toBe("enroll");
    expect(finishedEvents(operation)).toHaveLength(1);
  }, 120_000);

  it("runs as the deployed handler, its deps built from the configuration: manages a registered node", async () => {
    agents.cleaning.failWith = undefined;
    const { ironicNode, operation } = await enrolledNodeWithOperation("lifecycle-handler", ["manage"]);
    await new DynamoNodeRepository(table.db, table.tableName).create(
      newNode({ uuid: operation.node_uuid, name: "lifecycle-handler", ironic_node_uuid: ironicNode }),
    );
    useConfig(
      parseConfig({
        VALENCE_TABLE_NAME: table.tableName,
        DYNAMODB_ENDPOINT: table.endpoint,
        IRONIC_URL: ironic.url,
        IRONIC_AUTH_TYPE: "none",
      }),
    );
    const { handler: deployed } = await import("../../functions/operation-workflow.ts");
    const runner = new LocalDurableTestRunner<LifecycleResult>({ handlerFunction: deployed });

    const execution = await runner.run({ payload: { operation_id: operation.id } });
    const malformed = await new LocalDurableTestRunner<LifecycleResult>({ handlerFunction: deployed }).run({
      payload: { operation: operation.id },
    });

    expect(execution.getStatus()).toBe("SUCCEEDED");
    expect(execution.getResult()).toMatchObject({ operation_id: operation.id, state: "succeeded" });
    expect((await operations.get(operation.id))?.steps[0]).toMatchObject({
      name: "manage",
      state: "succeeded",
      provision_state: "manageable",
    });
    expect((await driver.getNode(ironicNode)).provision_state).toBe("manageable");
    expect(malformed.getStatus()).toBe("FAILED");
  }, 120_000);
});
