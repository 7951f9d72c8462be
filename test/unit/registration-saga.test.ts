import { describe, expect, it } from "vitest";
import { IronicNodeStateError, IronicResourceTakenError, OperationFailedError } from "../../lib/errors.ts";
import type { Node } from "../../lib/nodes/model.ts";
import { rollBackEnrollment, unregisterForOperation } from "../../lib/nodes/operation-steps.ts";
import { DEPLOYMENT_MARK, NODE_MARK } from "../../lib/nodes/ownership.ts";
import {
  initialRegisterState,
  type RegisterEnv,
  type RegisterState,
  registerSteps,
  type UnregisterState,
  unregisterSteps,
} from "../../lib/nodes/registration-saga.ts";
import { RegistrationService } from "../../lib/nodes/registration-service.ts";
import { Saga, type SagaScope } from "../../lib/nodes/saga.ts";
import { RegisterNodeBody, type RegisterNodeInput, UnregisterNodeBody } from "../../lib/nodes/schemas.ts";
import { withIntent, withOperation } from "../../lib/nodes/transitions.ts";
import { runLifecycle } from "../../lib/operations/lifecycle.ts";
import { OperationService } from "../../lib/operations/service.ts";
import type { ComposedSystem } from "../../lib/redfish/index.ts";
import { newNode } from "../support/fixtures.ts";
import { MemoryIronic } from "../support/memory-ironic.ts";
import { MemoryOperationRepository } from "../support/memory-operations.ts";
import {
  finderOf,
  MEMORY_PODM,
  MemoryHistory,
  MemoryNodeRepository,
  memorySessions,
} from "../support/memory-registration.ts";
import { FakeWorkflowContext } from "../support/workflow.ts";

const DEPLOYMENT = "deployment-ours";
const BMC_PASSWORD = "bmc-Secret-93";
const MACS = ["52:54:00:aa:00:01", "52:54:00:aa:00:02", "52:54:00:aa:00:03"];
const CONTEXT = {
  requestId: "6f1c1d7e-0a4b-4c61-9d0e-2b7f3c9a1e55",
  principal: "tester",
  remainingMs: () => 600_000,
};

const options = (body: Record<string, unknown> = {}): RegisterNodeInput => RegisterNodeBody.parse(body);

async function setup() {
  const ironic = new MemoryIronic();
  const nodes = new MemoryNodeRepository();
  const history = new MemoryHistory();
  const node = await nodes.create(
    newNode({
      name: "node-a",
      podm_id: MEMORY_PODM.uuid,
      hardware: {
        cpus: 8,
        memory_mb: 16384,
        local_gb: 100,
        cpu_arch: "x86_64",
        nics: MACS.map((mac) => ({ mac, enabled: true })),
      },
    }),
  );
  const system: ComposedSystem = {
    index: node.index,
    resourceUri: node.resource_uri,
    hardware: node.hardware,
  };
  const { sessions, counters } = memorySessions(() => system);
  const operationRepository = new MemoryOperationRepository(() => new Date());
  const workflows: FakeWorkflowContext[] = [];
  const operations: OperationService = new OperationService({
    operations: operationRepository,
    nodes,
    finder: finderOf(nodes),
    // The workflow runs to its end within the start, in process: the register answers after it.
    starter: {
      start: async (operationId) => {
        const ctx = new FakeWorkflowContext();
        workflows.push(ctx);
        await runLifecycle({ operation_id: operationId }, ctx, {
          operations: operationRepository,
          ironicNodeOf: async (uuid) => (await nodes.get(uuid))?.ironic_node_uuid,
          ironic,
          release: (operation) => operations.release(operation.node_uuid, operation.id),
          rollBackRegistration: (operation, reason) =>
            rollBackEnrollment(operation, reason, { nodes, ironic, history }),
          unregisterNode: (operation) => unregisterForOperation(operation, { nodes, ironic, history }),
          sleep: async () => {},
        });
      },
    },
  });
  const service = new RegistrationService({
    nodes,
    finder: finderOf(nodes),
    sessions,
    ironic: async () => ironic,
    defaultResourceClass: "baremetal",
    deployment: { id: async () => DEPLOYMENT },
    history,
    operations,
  });
  const stored = async () => (await nodes.get(node.uuid)) as Node;
  const operation = async (id: string | undefined) => operationRepository.get(id as string);
  return {
    ironic,
    nodes,
    history,
    node,
    system,
    service,
    counters,
    stored,
    operation,
    workflows,
    operationRepository,
  };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** An Ironic node as a crashed register (or an operator) left it. */
async function preexisting(s: Setup, extra: Record<string, unknown>, driverInfo?: Record<string, unknown>) {
  return s.ironic.createNode({
    name: "node-a",
    driver: "redfish",
    driver_info: driverInfo ?? { redfish_address: MEMORY_PODM.url, redfish_system_id: s.node.resource_uri },
    extra,
  });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (error: Error) => error,
  );
}

describe("register saga over the in-memory Ironic", () => {
  it("records the caller's IAM principal as the history's actor, with the request", async () => {
    const s = await setup();
    const caller = "arn:aws:sts::123456789012:assumed-role/valence-ops/alice";

    await s.service.register("node-a", options(), { ...CONTEXT, principal: caller });

    expect(s.history.events).toEqual([
      expect.objectContaining({ action: "register", actor: caller, request_id: CONTEXT.requestId }),
    ]);
  });

  it("creates the node and one port per NIC and records it, its operation then manages and provides it", async () => {
    const s = await setup();
    const result = await s.service.register("node-a", options({ manage: true, provide: true }), CONTEXT);

    const [ironicNode, ...others] = s.ironic.nodes.values();
    expect(others).toEqual([]);
    expect(ironicNode).toMatchObject({
      name: "node-a",
      provision_state: "available",
      extra: { [NODE_MARK]: s.node.uuid, [DEPLOYMENT_MARK]: DEPLOYMENT },
    });
    const ports = [...s.ironic.ports.values()];
    expect(ports.map((port) => [port.address, port.pxe_enabled, port.node_uuid])).toEqual(
      MACS.map((mac, i) => [mac, i === 0, ironicNode?.uuid]),
    );
    // The register answered with the node as it recorded it, `enroll`, and the operation that carries on.
    expect(result.ironic.provision_state).toBe("enroll");
    expect(result.operation).toMatchObject({ kind: "register", node_uuid: s.node.uuid, state: "pending" });
    expect(result.node.operation).toMatchObject({ id: result.operation?.id, kind: "register" });
    expect(await s.operation(result.operation?.id)).toMatchObject({
      state: "succeeded",
      steps: [
        { name: "manage", state: "succeeded", provision_state: "manageable" },
        { name: "provide", state: "succeeded", provision_state: "available" },
      ],
    });
    // The ended operation freed the node.
    expect(await s.stored()).toMatchObject({
      managed_by: "ironic",
      ironic_node_uuid: ironicNode?.uuid,
      intent: null,
      operation: null,
    });
    expect(s.history.events).toEqual([
      expect.objectContaining({
        action: "register",
        outcome: "succeeded",
        detail: "provision state enroll, 3 port(s) created",
      }),
    ]);
    expect(
      s.ironic.calls.map((call) => call.method).filter((m) => m !== "getNode" && m !== "getPortByAddress"),
    ).toEqual([
      "createNode",
      "createPort",
      "createPort",
      "createPort",
      // The traits the shipped rules give (a memory band, at least) go on once the ports are there.
      "setTraits",
      "setProvisionState",
      "setProvisionState",
    ]);
    expect(s.ironic.callsOf("setProvisionState").map((args) => args[1])).toEqual(["manage", "provide"]);
    expect(s.counters).toEqual({ reads: 1, closed: 1 });
  });

  it("creates without looking up its name or MACs first: Ironic's 409s guard against duplicates", async () => {
    const s = await setup();
    s.ironic.calls.length = 0;

    await s.service.register("node-a", options(), CONTEXT);

    expect(s.ironic.callsOf("getNode")).toEqual([]);
    expect(s.ironic.callsOf("getPortByAddress")).toEqual([]);
    expect(s.ironic.callsOf("listPorts")).toEqual([]);
    expect(s.ironic.nodes.size).toBe(1);
  });

  it("adopts the node driving this system that holds a MAC under another name, removing the one it created", async () => {
    const s = await setup();
    const same = await s.ironic.createNode({
      name: "renamed-by-an-operator",
      driver: "redfish",
      driver_info: { redfish_address: MEMORY_PODM.url, redfish_system_id: s.node.resource_uri },
    });
    await s.ironic.createPort({ node_uuid: same.uuid, address: MACS[1] as string });

    const result = await s.service.register("node-a", options(), CONTEXT);

    expect([...s.ironic.nodes.keys()]).toEqual([same.uuid]);
    expect(result.node.ironic_node_uuid).toBe(same.uuid);
    expect(s.ironic.nodes.get(same.uuid)?.extra).toMatchObject({
      [NODE_MARK]: s.node.uuid,
      [DEPLOYMENT_MARK]: DEPLOYMENT,
    });
    expect([...s.ironic.ports.values()].every((port) => port.node_uuid === same.uuid)).toBe(true);
    expect([...s.ironic.ports.values()].map((port) => port.address).sort()).toEqual(MACS);
    expect(s.history.events).toEqual([expect.objectContaining({ action: "adopt", outcome: "succeeded" })]);
  });

  it("rolls back the ports it added to the node it switched to, and deletes no node it did not create", async () => {
    const s = await setup();
    const same = await s.ironic.createNode({
      name: "renamed-by-an-operator",
      driver: "redfish",
      driver_info: { redfish_address: MEMORY_PODM.url, redfish_system_id: s.node.resource_uri },
    });
    await s.ironic.createPort({ node_uuid: same.uuid, address: MACS[0] as string });
    s.nodes.failUpdate = { at: "before", when: (changes) => changes.managed_by === "ironic" };

    const error = await failure(s.service.register("node-a", options(), CONTEXT));

    expect(error.message).toContain("failed while recording the registration");
    expect([...s.ironic.nodes.keys()]).toEqual([same.uuid]);
    expect([...s.ironic.ports.values()].map((port) => port.address)).toEqual([MACS[0]]);
    expect(await s.stored()).toMatchObject({ managed_by: "valence", intent: null });
  });

  it("without lifecycle steps registers `enroll` and starts no operation", async () => {
    const s = await setup();
    const result = await s.service.register("node-a", options(), CONTEXT);
    expect(result.operation).toBeUndefined();
    expect(result.ironic.provision_state).toBe("enroll");
    expect(s.workflows).toEqual([]);
    expect(s.ironic.callsOf("setProvisionState")).toEqual([]);
    expect(await s.stored()).toMatchObject({ managed_by: "ironic", operation: null });
  });

  it("rolls the registration back when its operation's manage fails verification", async () => {
    const s = await setup();
    const create = s.ironic.createNode.bind(s.ironic);
    s.ironic.createNode = async (body) => {
      const node = await create(body);
      s.ironic.failVerification.add(node.uuid);
      return node;
    };
    const result = await s.service.register("node-a", options({ manage: true, provide: true }), CONTEXT);
    const ironicUuid = result.node.ironic_node_uuid;

    expect(await s.operation(result.operation?.id)).toMatchObject({
      state: "failed",
      outcome: {
        code: "VerificationFailed",
        detail: expect.stringContaining(`rolled back: deleted Ironic node ${ironicUuid}`),
      },
      steps: [
        { name: "manage", state: "failed" },
        { name: "provide", state: "skipped" },
      ],
    });
    expect(s.ironic.nodes.size).toBe(0);
    expect(s.ironic.ports.size).toBe(0);
    expect(await s.stored()).toMatchObject({
      managed_by: "valence",
      ironic_node_uuid: null,
      intent: null,
      operation: null,
    });
    expect(s.history.events.map((event) => [event.action, event.outcome])).toEqual([
      ["register", "succeeded"],
      ["register", "failed"],
    ]);
  });

  it("leaves the node registered, as Ironic left it, when a step after verification fails", async () => {
    const s = await setup();
    s.ironic.fail({
      method: "setProvisionState",
      when: (_uuid, verb) => verb === "provide",
      at: "before",
      error: new Error("no provide"),
    });
    const result = await s.service.register("node-a", options({ provide: true }), CONTEXT);

    expect(await s.operation(result.operation?.id)).toMatchObject({
      state: "failed",
      outcome: { code: "IronicStepFailed", detail: "provide: no provide" },
    });
    expect([...s.ironic.nodes.values()].map((node) => node.provision_state)).toEqual(["manageable"]);
    expect(await s.stored()).toMatchObject({ managed_by: "ironic", operation: null });
  });

  it("unregisters a node Ironic still moves through an operation that waits for it to settle", async () => {
    const s = await setup();
    const { node } = await s.service.register("node-a", options(), CONTEXT);
    const ironicUuid = node.ironic_node_uuid as string;
    Object.assign(s.ironic.nodes.get(ironicUuid) as object, {
      provision_state: "verifying",
      target_provision_state: "manageable",
    });
    // Ironic ends its verification a few looks later.
    let looks = 0;
    const getNode = s.ironic.getNode.bind(s.ironic);
    s.ironic.getNode = (async (ident: string) => {
      if (ident === ironicUuid && ++looks === 4)
        Object.assign(s.ironic.nodes.get(ironicUuid) as object, {
          provision_state: "manageable",
          target_provision_state: null,
        });
      return getNode(ident);
    }) as typeof s.ironic.getNode;

    const result = await s.service.unregister("node-a", UnregisterNodeBody.parse({}), CONTEXT);

    expect(result.operation).toMatchObject({ kind: "unregister" });
    expect(await s.operation(result.operation?.id)).toMatchObject({
      state: "succeeded",
      steps: [
        { name: "settle", state: "succeeded", provision_state: "manageable" },
        { name: "unregister", state: "succeeded", detail: `deleted Ironic node ${ironicUuid}` },
      ],
    });
    // Nothing to abort in `verifying`: Ironic was waited for.
    expect(s.ironic.callsOf("setProvisionState")).toEqual([]);
    expect(s.ironic.nodes.size).toBe(0);
    expect(await s.stored()).toMatchObject({
      managed_by: "valence",
      ironic_node_uuid: null,
      operation: null,
    });
    expect(s.history.events.at(-1)).toMatchObject({ action: "unregister", outcome: "succeeded" });
  });

  it("refuses an unregister while an operation runs on the node, naming it, and not once it ended", async () => {
    const s = await setup();
    const result = await s.service.register("node-a", options(), CONTEXT);
    const running = await s.operationRepository.create({
      id: "0d6c7d0e-1f0a-4b7e-9c57-3a1e6a2b9f10",
      node_uuid: s.node.uuid,
      node_name: "node-a",
      kind: "provide",
      steps: ["provide"],
      request_id: "req-first",
      principal: "ops",
    });
    await s.nodes.update(
      s.node.uuid,
      { version: result.node.version },
      withOperation({ id: running.id, kind: "provide", started_at: running.created_at }),
    );

    const error = await failure(s.service.unregister("node-a", UnregisterNodeBody.parse({}), CONTEXT));
    expect(error).toMatchObject({ code: "OperationInProgress", operationId: running.id });
    expect(error.message).toContain(running.id);

    // Ended, but not yet cleared from the node: it no longer holds the node.
    await s.operationRepository.update(running.id, { version: running.version }, {
      state: "failed",
      outcome: { code: "IronicStepFailed", detail: "x" },
    } as never);
    const { node: unregistered } = await s.service.unregister(
      "node-a",
      UnregisterNodeBody.parse({}),
      CONTEXT,
    );
    expect(unregistered).toMatchObject({ managed_by: "valence", operation: null });
  });

  it("adopts the Ironic node a crashed register left, marking it and adding only the missing ports", async () => {
    const s = await setup();
    const left = await preexisting(s, { [NODE_MARK]: s.node.uuid });
    await s.ironic.createPort({ node_uuid: left.uuid, address: MACS[0] as string });
    s.ironic.calls.length = 0;

    await s.service.register("node-a", options(), CONTEXT);

    // Ironic refused the create (409 DuplicateName); only then was the holder looked at, and adopted.
    expect(s.ironic.callsOf("createNode")).toHaveLength(1);
    expect([...s.ironic.nodes.keys()]).toEqual([left.uuid]);
    expect(s.ironic.nodes.get(left.uuid)?.extra).toMatchObject({
      [NODE_MARK]: s.node.uuid,
      [DEPLOYMENT_MARK]: DEPLOYMENT,
      valence_podm_id: MEMORY_PODM.uuid,
    });
    expect([...s.ironic.ports.values()].map((port) => port.address).sort()).toEqual(MACS);
    expect(s.history.events).toEqual([
      expect.objectContaining({ action: "adopt", detail: "provision state enroll, 2 port(s) created" }),
    ]);
    expect((await s.stored()).ironic_node_uuid).toBe(left.uuid);
  });

  it("refuses another deployment's node under our name and changes nothing", async () => {
    const s = await setup();
    const foreign = await preexisting(s, { [NODE_MARK]: s.node.uuid, [DEPLOYMENT_MARK]: "someone-else" });

    const error = await failure(s.service.register("node-a", options(), CONTEXT));

    expect(error).toBeInstanceOf(IronicResourceTakenError);
    expect(error.message).toBe(
      `Ironic node ${foreign.uuid} (node-a) already holds the name node-a and belongs to another Valence deployment (someone-else)`,
    );
    expect([...s.ironic.nodes.keys()]).toEqual([foreign.uuid]);
    expect(s.ironic.ports.size).toBe(0);
    expect(await s.stored()).toMatchObject({ managed_by: "valence", intent: null });
    expect(s.history.events).toEqual([
      expect.objectContaining({
        action: "register",
        outcome: "failed",
        detail: `failed while looking for Ironic resources that already hold our name or MACs: ${error.message}`,
      }),
    ]);
  });

  it("refuses when a node driving other hardware holds one of our MACs", async () => {
    const s = await setup();
    const other = await s.ironic.createNode({
      name: "other",
      driver: "redfish",
      driver_info: { redfish_address: "http://elsewhere", redfish_system_id: "/redfish/v1/Systems/9" },
    });
    await s.ironic.createPort({ node_uuid: other.uuid, address: MACS[1] as string });
    s.ironic.calls.length = 0;

    const error = await failure(s.service.register("node-a", options(), CONTEXT));

    // Ironic refused the port (409 MACAlreadyExists): the holder drives other hardware, so the node this call
    // created goes again, and the caller gets the refusal itself, naming the holder, as if nothing was created.
    const created = s.ironic.callsOf("createNode").length;
    expect(created).toBe(1);
    expect(error).toBeInstanceOf(IronicResourceTakenError);
    expect((error as IronicResourceTakenError).code).toBe("IronicResourceTaken");
    expect(error.message).toBe(
      `Ironic node ${other.uuid} (other) already holds the MAC ${MACS[1]} and drives other hardware`,
    );
    expect([...s.ironic.nodes.keys()]).toEqual([other.uuid]);
    expect([...s.ironic.ports.values()].map((port) => port.node_uuid)).toEqual([other.uuid]);
    expect(await s.stored()).toMatchObject({ managed_by: "valence", intent: null });
  });

  const created = (s: Setup) => [...s.ironic.nodes.keys()][0];
  const failures: {
    name: string;
    body?: Record<string, unknown>;
    arrange(s: Setup): void;
    doing: string;
    reason: string;
    summary: (s: Setup, createdUuid: string | undefined) => string;
    code?: string;
  }[] = [
    {
      name: "the node create, refused",
      arrange: (s) => s.ironic.fail({ method: "createNode", at: "before", error: new Error("boom") }),
      doing: "creating the Ironic node",
      reason: "boom",
      summary: () => "nothing was created in Ironic",
    },
    {
      name: "the node create, its answer lost",
      arrange: (s) => s.ironic.fail({ method: "createNode", at: "after", error: new Error("reset") }),
      doing: "creating the Ironic node",
      reason: "reset",
      summary: (_s, uuid) => `rolled back: deleted Ironic node ${uuid} and its ports`,
    },
    ...[1, 2, 3].flatMap((nth) =>
      (["before", "after"] as const).map((at) => ({
        name: `port create ${nth} (${at})`,
        arrange: (s: Setup) =>
          s.ironic.fail({ method: "createPort", nth, at, error: new Error("port down") }),
        doing: `creating the Ironic port ${MACS[nth - 1]}`,
        reason: "port down",
        summary: (_s: Setup, uuid: string | undefined) =>
          `rolled back: deleted Ironic node ${uuid} and its ports`,
      })),
    ),
    {
      name: "the final write",
      arrange: (s) => {
        s.nodes.failUpdate = { at: "before", when: (changes) => changes.managed_by === "ironic" };
      },
      doing: "recording the registration",
      reason: "injected: the store is unavailable",
      summary: (_s, uuid) => `rolled back: deleted Ironic node ${uuid} and its ports`,
    },
  ];

  for (const fault of failures) {
    it(`rolls back a failure at ${fault.name}, naming the step, and leaves the node free`, async () => {
      const s = await setup();
      fault.arrange(s);
      let createdUuid: string | undefined;
      const create = s.ironic.createNode.bind(s.ironic);
      s.ironic.createNode = async (body) => {
        const before = new Set(s.ironic.nodes.keys());
        try {
          return await create(body);
        } finally {
          createdUuid ??= [...s.ironic.nodes.keys()].find((uuid) => !before.has(uuid));
        }
      };

      const error = await failure(s.service.register("node-a", options(fault.body), CONTEXT));

      expect(error).toBeInstanceOf(OperationFailedError);
      expect((error as OperationFailedError).code).toBe("RegistrationFailed");
      expect(error.message).toMatch(
        new RegExp(
          `^register of node node-a failed while ${escapeRegex(fault.doing)}: .*${escapeRegex(fault.reason)}.*; ${escapeRegex(fault.summary(s, createdUuid))}$`,
        ),
      );
      expect(created(s)).toBeUndefined();
      expect(s.ironic.ports.size).toBe(0);
      expect(await s.stored()).toMatchObject({ managed_by: "valence", intent: null, ironic_node_uuid: null });
      expect(s.history.events[0]).toMatchObject({
        action: "register",
        outcome: "failed",
        ironic_node_uuid: createdUuid ?? null,
      });
      expect(s.history.events[0]?.detail).toContain(`failed while ${fault.doing}: `);
      // The entry written alongside the final update is taken back when that update fails.
      expect(
        s.history.events.filter((event) => event.outcome === "succeeded" && event.action !== "rollback"),
      ).toEqual([]);
      expect(s.counters.closed).toBe(1);
    });
  }

  it("rolls back only the ports it added to an adopted node", async () => {
    const s = await setup();
    const left = await preexisting(s, { [NODE_MARK]: s.node.uuid, [DEPLOYMENT_MARK]: DEPLOYMENT });
    const kept = await s.ironic.createPort({ node_uuid: left.uuid, address: MACS[0] as string });
    s.ironic.fail({ method: "createPort", nth: 2, at: "before", error: new Error("port down") });

    const error = await failure(s.service.register("node-a", options(), CONTEXT));

    expect(error.message).toBe(
      `register of node node-a failed while creating the Ironic port ${MACS[2]}: port down; rolled back: deleted 1 Ironic port(s)`,
    );
    expect([...s.ironic.nodes.keys()]).toEqual([left.uuid]);
    expect([...s.ironic.ports.keys()]).toEqual([kept.uuid]);
    expect(s.history.events.map((event) => [event.action, event.outcome])).toEqual([
      ["register", "failed"],
      ["rollback", "succeeded"],
    ]);
  });

  it("keeps the intent for the reconciler when the rollback itself fails", async () => {
    const s = await setup();
    s.ironic.fail({ method: "createPort", at: "before", error: new Error("port down") });
    s.ironic.fail({ method: "deleteNode", at: "before", error: new Error("Ironic gone") });

    const error = await failure(s.service.register("node-a", options(), CONTEXT));

    const uuid = created(s);
    expect(error.message).toBe(
      `register of node node-a failed while creating the Ironic port ${MACS[0]}: port down; rollback incomplete (Ironic gone); the reconciler will remove Ironic node ${uuid}`,
    );
    expect((await s.stored()).intent).toMatchObject({ op: "registering" });
    expect(s.history.events.map((event) => [event.action, event.outcome])).toEqual([
      ["register", "failed"],
      ["rollback", "failed"],
    ]);
  });
});

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A scope that keeps the compensations, so a replay can drop the ones its lost run registered. */
function collectingScope() {
  const compensations: { name: string; target: string; undo(): Promise<void> }[] = [];
  const scope: SagaScope = { doing: () => undefined, compensate: (c) => void compensations.push(c) };
  return { scope, compensations };
}

async function registerEnv(s: Setup): Promise<RegisterEnv> {
  let tick = Date.parse("2026-01-01T00:00:00Z");
  return {
    connect: async () => s.ironic,
    undo: (ironic) => ironic,
    readSystem: async () => ({
      podm: MEMORY_PODM,
      system: s.system,
      credentials: { username: "admin", password: BMC_PASSWORD },
    }),
    deploymentId: async () => DEPLOYMENT,
    nodes: s.nodes,
    defaultResourceClass: "baremetal",
    // Every run of a step sees another time, as a replay later would.
    now: () => {
      tick += 1_000;
      return new Date(tick);
    },
  };
}

/**
 * Runs the register steps; `replayed` runs a second time from the state it started from, in a fresh set of
 * steps (another process, nothing kept in memory), as a durable runner does when the step's side effect
 * happened but its checkpoint was lost; the steps after it run in that fresh set too.
 */
async function runReplaying(s: Setup, body: Record<string, unknown>, replayed: string, failAfter?: string) {
  const marked = await s.nodes.update(
    s.node.uuid,
    { version: s.node.version, noIntent: true },
    withIntent("registering", CONTEXT.requestId, new Date()),
  );
  const env = await registerEnv(s);
  let steps = registerSteps(env);
  let state: RegisterState = initialRegisterState(s.node, options(body), marked);
  const { scope, compensations } = collectingScope();
  let ran = 0;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as (typeof steps)[number];
    if (step.when && !step.when(state)) continue;
    if (step.name === replayed && ran === 0) {
      const checkpoint = structuredClone(state);
      const registered = compensations.length;
      await step.run(state, scope);
      // The process dies before the checkpoint: another starts from the last one.
      state = checkpoint;
      compensations.splice(registered);
      steps = registerSteps(env);
      ran += 1;
      i -= 1;
      continue;
    }
    await step.run(state, scope);
    if (step.name === failAfter) return { state, compensations, ran, stopped: true };
  }
  return { state, compensations, ran, stopped: false };
}

describe("register steps run again after their side effect", () => {
  const everyStep = ["connect", "read-system", "create-node", "create-ports", "record"];
  for (const replayed of everyStep) {
    it(`${replayed}: ends with one Ironic node, one port per MAC, recorded`, async () => {
      const s = await setup();
      const { state, ran } = await runReplaying(s, {}, replayed);

      expect(ran).toBe(1);
      expect(s.ironic.nodes.size).toBe(1);
      const [ironicNode] = s.ironic.nodes.values();
      expect(ironicNode?.provision_state).toBe("enroll");
      expect([...s.ironic.ports.values()].map((port) => port.address).sort()).toEqual(MACS);
      expect(state.createdNode).toBe(ironicNode?.uuid);
      expect(new Set(state.createdPorts).size).toBe(MACS.length);
      expect(await s.stored()).toMatchObject({
        managed_by: "ironic",
        ironic_node_uuid: ironicNode?.uuid,
        intent: null,
      });
      // What a checkpoint would hold never carries the BMC password; a step run again reads it afresh.
      expect(JSON.stringify(state)).not.toContain(BMC_PASSWORD);
      expect(s.ironic.callsOf("createNode")[0]?.[0]).toMatchObject({
        driver_info: { redfish_password: BMC_PASSWORD },
      });
    });
  }

  it("adopt-node: marks once more to the same effect and creates the missing ports once", async () => {
    const s = await setup();
    const left = await preexisting(s, { [NODE_MARK]: s.node.uuid });
    await s.ironic.createPort({ node_uuid: left.uuid, address: MACS[0] as string });

    const { state } = await runReplaying(s, {}, "adopt-node");

    expect([...s.ironic.nodes.keys()]).toEqual([left.uuid]);
    expect(s.ironic.nodes.get(left.uuid)?.extra).toMatchObject({ [DEPLOYMENT_MARK]: DEPLOYMENT });
    expect(s.ironic.ports.size).toBe(3);
    expect(state.createdPorts).toHaveLength(2);
  });

  it("create-node run again meets Ironic's duplicate name and takes its own node", async () => {
    const s = await setup();
    await runReplaying(s, {}, "create-node");
    expect(s.ironic.callsOf("createNode")).toHaveLength(2);
    expect(s.ironic.nodes.size).toBe(1);
  });

  it("create-ports run again on an adopted node registers the ports it made for rollback", async () => {
    const s = await setup();
    await preexisting(s, { [NODE_MARK]: s.node.uuid, [DEPLOYMENT_MARK]: DEPLOYMENT });

    const { compensations, stopped } = await runReplaying(s, {}, "create-ports", "create-ports");
    expect(stopped).toBe(true);
    // The ports come before the traits: only they are to be removed on rollback so far.
    expect(compensations.map((c) => c.name)).toEqual(["delete-port", "delete-port", "delete-port"]);
    for (const compensation of [...compensations].reverse()) await compensation.undo();
    expect(s.ironic.ports.size).toBe(0);
    expect(s.ironic.nodes.size).toBe(1);
  });

  it("set-traits run again on an adopted node still restores the traits it had before the register", async () => {
    const s = await setup();
    const existing = await preexisting(s, { [NODE_MARK]: s.node.uuid, [DEPLOYMENT_MARK]: DEPLOYMENT });
    await s.ironic.setTraits(existing.uuid, ["CUSTOM_OLD"]);

    const { compensations, stopped } = await runReplaying(s, {}, "set-traits", "set-traits");
    expect(stopped).toBe(true);
    expect(await s.ironic.getTraits(existing.uuid)).toEqual(["CUSTOM_MEMORY_LT_64G"]);
    expect(compensations.map((c) => c.name)).toEqual([
      "delete-port",
      "delete-port",
      "delete-port",
      "restore-traits",
    ]);
    await compensations[3]?.undo();
    expect(await s.ironic.getTraits(existing.uuid)).toEqual(["CUSTOM_OLD"]);
  });

  it("a created node found again by the replayed create is still rolled back", async () => {
    const s = await setup();
    const { compensations } = await runReplaying(s, {}, "create-node", "create-ports");
    expect(compensations.map((c) => c.name)).toEqual(["delete-node"]);
    await compensations[0]?.undo();
    expect(s.ironic.nodes.size).toBe(0);
    expect(s.ironic.ports.size).toBe(0);
  });

  it("a port create refused for a MAC another node holds still fails", async () => {
    const s = await setup();
    const steps = registerSteps(await registerEnv(s));
    const state = initialRegisterState(s.node, options(), s.node);
    const { scope } = collectingScope();
    for (const step of steps.slice(0, 4)) if (!step.when || step.when(state)) await step.run(state, scope);
    const other = await s.ironic.createNode({ name: "other", driver: "redfish" });
    await s.ironic.createPort({ node_uuid: other.uuid, address: MACS[1] as string });
    const ports = steps.find((step) => step.name === "create-ports");
    await expect(ports?.run(state, scope)).rejects.toMatchObject({
      code: "IronicResourceTaken",
      message: `Ironic node ${other.uuid} (other) already holds the MAC ${MACS[1]} and drives other hardware`,
    });
  });
});

describe("unregister saga over the in-memory Ironic", () => {
  async function registered() {
    const s = await setup();
    await s.service.register("node-a", options({ manage: true, provide: true }), CONTEXT);
    s.history.events.length = 0;
    return s;
  }
  const unregisterOptions = (body: Record<string, unknown> = {}) => UnregisterNodeBody.parse(body);

  it("deletes the Ironic node with its ports and frees the node", async () => {
    const s = await registered();
    const { node } = await s.service.unregister("node-a", unregisterOptions(), CONTEXT);
    expect(node).toMatchObject({ managed_by: "valence", ironic_node_uuid: null, intent: null });
    expect(s.ironic.nodes.size).toBe(0);
    expect(s.ironic.ports.size).toBe(0);
    expect(s.history.events).toEqual([
      expect.objectContaining({ action: "unregister", outcome: "succeeded" }),
    ]);
  });

  it("refuses a node with an instance unless forced, then puts it in maintenance and deletes it", async () => {
    const s = await registered();
    const [ironicNode] = s.ironic.nodes.values();
    if (!ironicNode) throw new Error("no node");
    ironicNode.instance_uuid = "inst-1";
    ironicNode.provision_state = "active";

    const refused = await failure(s.service.unregister("node-a", unregisterOptions(), CONTEXT));
    expect(refused).toBeInstanceOf(IronicNodeStateError);
    expect(refused.message).toBe(
      `Ironic node ${ironicNode.uuid} is active with instance inst-1; unregister with {"force": true} to put it in maintenance and delete it`,
    );
    expect((await s.stored()).intent).toBeNull();

    await s.service.unregister("node-a", unregisterOptions({ force: true }), CONTEXT);
    expect(s.ironic.callsOf("setMaintenance")).toEqual([
      [ironicNode.uuid, `unregistered by Valence (request ${CONTEXT.requestId})`],
    ]);
    expect(s.ironic.callsOf("updateNode").at(-1)).toEqual([
      ironicNode.uuid,
      [{ op: "remove", path: "/instance_uuid" }],
    ]);
    expect(s.ironic.nodes.size).toBe(0);
  });

  it("every unregister step runs again to the same end", async () => {
    for (const replayed of ["find-ironic", "prepare-delete", "delete-node", "record"]) {
      const s = await registered();
      const stored = await s.stored();
      const marked = await s.nodes.update(
        stored.uuid,
        { version: stored.version, noIntent: true },
        withIntent("unregistering", CONTEXT.requestId, new Date(), stored.ironic_node_uuid),
      );
      const steps = unregisterSteps({
        connect: async () => s.ironic,
        nodes: s.nodes,
        maintenanceReason: "test",
      });
      let state: UnregisterState = {
        node: stored,
        force: false,
        ironicNodeUuid: stored.ironic_node_uuid as string,
        marked,
      };
      let current = steps;
      let replays = 0;
      for (let i = 0; i < current.length; i++) {
        const step = current[i] as (typeof steps)[number];
        if (step.when && !step.when(state)) continue;
        if (step.name === replayed && replays === 0) {
          const checkpoint = structuredClone(state);
          await step.run(state, collectingScope().scope);
          // Another process goes on from the last checkpoint.
          state = checkpoint;
          current = unregisterSteps({
            connect: async () => s.ironic,
            nodes: s.nodes,
            maintenanceReason: "test",
          });
          replays += 1;
          i -= 1;
          continue;
        }
        await step.run(state, collectingScope().scope);
      }
      expect(replays, replayed).toBe(1);
      expect(s.ironic.nodes.size, replayed).toBe(0);
      expect(await s.stored(), replayed).toMatchObject({ managed_by: "valence", intent: null });
    }
  });
});

describe("Saga", () => {
  it("runs the steps in order, skips those whose condition fails, and undoes in reverse", async () => {
    const log: string[] = [];
    const saga = new Saga<{ n: number }>(
      [
        {
          name: "a",
          async run(state, scope) {
            state.n += 1;
            scope.compensate({ name: "undo-a", target: "a", undo: async () => void log.push("undo a") });
          },
        },
        { name: "skipped", when: () => false, run: async () => void log.push("skipped ran") },
        {
          name: "b",
          async run(_state, scope) {
            scope.compensate({ name: "undo-b", target: "b", undo: async () => void log.push("undo b") });
            scope.doing("doing b");
            throw new Error("b failed");
          },
        },
        { name: "c", run: async () => void log.push("c ran") },
      ],
      "starting",
    );
    const state = { n: 0 };
    const outcome = await saga.run(state);
    expect(outcome).toMatchObject({ ok: false, step: "b", doing: "doing b" });
    expect(state.n).toBe(1);
    expect(await saga.rollback()).toMatchObject({ complete: true });
    expect(log).toEqual(["undo b", "undo a"]);
  });

  it("takes a step whose condition throws as that step failing", async () => {
    const saga = new Saga<object>(
      [
        {
          name: "broken",
          when: () => {
            throw new Error("no state");
          },
          run: async () => undefined,
        },
      ],
      "starting",
    );
    expect(await saga.run({})).toMatchObject({ ok: false, step: "broken", doing: "starting" });
  });

  it("stops the rollback at the first compensation that fails", async () => {
    const saga = new Saga<object>(
      [
        {
          name: "a",
          async run(_state, scope) {
            scope.compensate({ name: "x", target: "1", undo: async () => undefined });
            scope.compensate({
              name: "y",
              target: "2",
              undo: async () => {
                throw new Error("cannot");
              },
            });
          },
        },
      ],
      "starting",
    );
    expect(await saga.run({})).toEqual({ ok: true, steps: ["a"] });
    const rollback = await saga.rollback();
    expect(rollback.complete).toBe(false);
    expect(rollback.undone).toEqual([]);
    expect(rollback.failed?.compensation.target).toBe("2");
  });
});

describe("traits and resource class at register", () => {
  const GPU_SUMMARY = {
    processors: [
      { type: "CPU", instruction_set: "x86-64", count: 2 },
      { type: "GPU", manufacturer: "NVIDIA", model: "A100", count: 4 },
    ],
    drives: [{ media: "SSD", protocol: "NVMe", count: 1 }],
    nics: [{ speed_mbps: 100_000, count: 3 }],
    memory: [],
  };

  it("sets the GPU traits on the created node and records them with the resource class", async () => {
    const s = await setup();
    s.system.hardware = { ...s.system.hardware, summary: GPU_SUMMARY };
    const result = await s.service.register(
      "node-a",
      options({ traits: { add: ["CUSTOM_RACK_7"] } }),
      CONTEXT,
    );
    const ironicUuid = result.node.ironic_node_uuid as string;
    const expected = [
      "CUSTOM_GPU",
      "CUSTOM_GPU_COUNT_4",
      "CUSTOM_GPU_NVIDIA_A100",
      "CUSTOM_MEMORY_LT_64G",
      "CUSTOM_NIC_100G",
      "CUSTOM_NVME",
      "CUSTOM_RACK_7",
      "HW_ARCH_X86_64",
      "STORAGE_DISK_SSD",
    ];
    expect(await s.ironic.getTraits(ironicUuid)).toEqual(expected);
    expect(await s.stored()).toMatchObject({ traits: expected, resource_class: "baremetal" });
  });

  it("takes a matching rule's resource class over the default, and the body's over the rule's", async () => {
    const rules = {
      rules: [
        { when: { processor: { type: "GPU" } }, traits: ["CUSTOM_GPU"], resource_class: "baremetal-gpu" },
      ],
    };
    const s = await setup();
    s.system.hardware = { ...s.system.hardware, summary: GPU_SUMMARY };
    const service = new RegistrationService({
      nodes: s.nodes,
      finder: finderOf(s.nodes),
      sessions: memorySessions(() => s.system).sessions,
      ironic: async () => s.ironic,
      defaultResourceClass: "baremetal",
      hardwareRules: rules,
      deployment: { id: async () => DEPLOYMENT },
    });
    const result = await service.register("node-a", options(), CONTEXT);
    const created = s.ironic.nodes.get(result.node.ironic_node_uuid as string);
    expect(created?.resource_class).toBe("baremetal-gpu");
    expect(await s.ironic.getTraits(created?.uuid as string)).toEqual(["CUSTOM_GPU"]);
    expect(result.node.resource_class).toBe("baremetal-gpu");

    await service.unregister("node-a", UnregisterNodeBody.parse({}), CONTEXT);
    const again = await service.register("node-a", options({ resource_class: "from-body" }), CONTEXT);
    expect(s.ironic.nodes.get(again.node.ironic_node_uuid as string)?.resource_class).toBe("from-body");
  });

  it("replaces an adopted node's traits, and restores them when the register rolls back", async () => {
    const s = await setup();
    const existing = await preexisting(s, { [NODE_MARK]: s.node.uuid, [DEPLOYMENT_MARK]: DEPLOYMENT });
    await s.ironic.setTraits(existing.uuid, ["CUSTOM_OLD"]);
    const registered = await s.service.register("node-a", options(), CONTEXT);
    expect(registered.node.ironic_node_uuid).toBe(existing.uuid);
    expect(await s.ironic.getTraits(existing.uuid)).toEqual(["CUSTOM_MEMORY_LT_64G"]);

    await s.service.unregister("node-a", UnregisterNodeBody.parse({}), CONTEXT);
    const again = await preexisting(s, { [NODE_MARK]: s.node.uuid, [DEPLOYMENT_MARK]: DEPLOYMENT });
    await s.ironic.setTraits(again.uuid, ["CUSTOM_OLD"]);
    // A port create fails after the traits were set: the rollback puts the old ones back.
    s.ironic.fail({ method: "createPort", nth: 3, at: "before", error: new Error("port create failed") });
    await failure(s.service.register("node-a", options(), CONTEXT));
    expect(await s.ironic.getTraits(again.uuid)).toEqual(["CUSTOM_OLD"]);
  });

  it("on an Ironic without node traits (API < 1.37) sets none, and refuses the body's with a 400", async () => {
    const s = await setup();
    s.ironic.version = "1.36";
    const refused = await failure(s.service.register("node-a", options({ traits: ["CUSTOM_A"] }), CONTEXT));
    expect(refused.message).toBe(
      "body.traits: needs Ironic API 1.37 or later; the Ironic in use speaks 1.36",
    );
    expect(s.ironic.callsOf("createNode")).toEqual([]);

    const registered = await s.service.register("node-a", options(), CONTEXT);
    expect(s.ironic.callsOf("setTraits")).toEqual([]);
    expect(registered.node.traits).toBeNull();
  });

  it("refuses more than 50 traits with a 400 before anything is created", async () => {
    const s = await setup();
    const many = Array.from({ length: 50 }, (_, index) => `CUSTOM_T${index}`);
    const error = await failure(s.service.register("node-a", options({ traits: { add: many } }), CONTEXT));
    expect(error.message).toMatch(/at most 50/);
    expect(s.ironic.callsOf("createNode")).toEqual([]);
  });

  it("rolls back a node whose traits Ironic refused", async () => {
    const s = await setup();
    s.ironic.fail({ method: "setTraits", at: "before", error: new Error("Ironic refused the traits") });
    await failure(s.service.register("node-a", options(), CONTEXT));
    expect(s.ironic.nodes.size).toBe(0);
    expect(await s.stored()).toMatchObject({ managed_by: "valence", intent: null });
  });
});

describe("register dry run (plan)", () => {
  const WRITES = ["createNode", "updateNode", "deleteNode", "createPort", "deletePort", "setTraits"];

  it("answers the node fields, traits and ports, and changes nothing", async () => {
    const s = await setup();
    const before = await s.stored();
    const plan = await s.service.plan("node-a", options({ boot_mac: MACS[1] }), CONTEXT);
    expect(plan).toMatchObject({
      dry_run: true,
      action: "create",
      node: { uuid: s.node.uuid, name: "node-a" },
      ironic_node: {
        uuid: null,
        name: "node-a",
        driver: "redfish",
        driver_info: { redfish_password: "******", redfish_system_id: s.node.resource_uri },
        properties: { cpus: 8, memory_mb: 16384, local_gb: 100, cpu_arch: "x86_64" },
        resource_class: "baremetal",
        traits: ["CUSTOM_MEMORY_LT_64G"],
      },
      ports: {
        create: MACS.map((mac) => ({ address: mac, pxe_enabled: mac === MACS[1] })),
        keep: [],
        conflicting: [],
      },
      lifecycle: [],
    });
    expect(JSON.stringify(plan)).not.toContain(BMC_PASSWORD);
    expect(s.ironic.calls.filter((call) => WRITES.includes(call.method))).toEqual([]);
    expect(await s.stored()).toEqual(before);
    expect(s.history.events).toEqual([]);
  });

  it("shows the ports another Ironic node holds as conflicting, and the refusal", async () => {
    const s = await setup();
    const other = await s.ironic.createNode({ name: "other", driver: "redfish", driver_info: {}, extra: {} });
    await s.ironic.createPort({ node_uuid: other.uuid, address: MACS[2] as string });
    const plan = await s.service.plan("node-a", options(), CONTEXT);
    expect(plan.action).toBe("refuse");
    expect(plan.refused).toMatch(/drives other hardware/);
    expect(plan.ports.conflicting).toEqual([{ address: MACS[2], ironic_node_uuid: other.uuid }]);
    expect(plan.ports.create.map((port) => port.address)).toEqual([MACS[0], MACS[1]]);
  });

  it("keeps the ports an adoptable node already has", async () => {
    const s = await setup();
    const existing = await preexisting(s, { [NODE_MARK]: s.node.uuid, [DEPLOYMENT_MARK]: DEPLOYMENT });
    await s.ironic.createPort({ node_uuid: existing.uuid, address: MACS[0] as string });
    const plan = await s.service.plan("node-a", options(), CONTEXT);
    expect(plan).toMatchObject({
      action: "adopt",
      ironic_node: { uuid: existing.uuid },
      ports: { create: [{ address: MACS[1] }, { address: MACS[2] }], keep: [MACS[0]], conflicting: [] },
    });
  });
});
