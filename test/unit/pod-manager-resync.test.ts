import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { PodManagerLoginFailedError } from "../../lib/errors.ts";
import { IronicNodeLockedError } from "../../lib/ironic/index.ts";
import type { Node } from "../../lib/nodes/model.ts";
import { DEPLOYMENT_MARK, NODE_MARK } from "../../lib/nodes/ownership.ts";
import { withOperation } from "../../lib/nodes/transitions.ts";
import type { Operation } from "../../lib/operations/model.ts";
import { RESYNC_FAILURES, runOperation } from "../../lib/operations/resync.ts";
import { OperationService } from "../../lib/operations/service.ts";
import { resyncNodeFinished } from "../../lib/operations/transitions.ts";
import type { PodManager } from "../../lib/podmanagers/model.ts";
import { PodManagerResync, validationFailure } from "../../lib/podmanagers/resync.ts";
import { PodManagerService } from "../../lib/podmanagers/service.ts";
import { PodManagerSessions } from "../../lib/podmanagers/sessions.ts";
import { PodManagerAddressRefusedError, PodManagerAuthError } from "../../lib/redfish/index.ts";
import type { Credentials, SecretStore } from "../../lib/secrets/store.ts";
import { MemoryIronic } from "../support/memory-ironic.ts";
import { MemoryOperationRepository } from "../support/memory-operations.ts";
import { finderOf, MemoryNodeRepository } from "../support/memory-registration.ts";
import { FakeWorkflowContext } from "../support/workflow.ts";

const DEPLOYMENT = "deployment-a";
const OLD_URL = "http://podm-old.example";
const FIRST_CREDENTIALS = { username: "admin", password: "old-password" };
const caller = { requestId: "req-1", principal: "arn:aws:iam::1:user/ops" };

class MemorySecrets implements SecretStore {
  readonly values = new Map<string, Credentials>();
  async put(name: string, credentials: Credentials) {
    this.values.set(name, credentials);
    return name;
  }
  async get(ref: string) {
    const value = this.values.get(ref);
    if (!value) throw new Error(`no secret ${ref}`);
    return structuredClone(value);
  }
  async delete(ref: string) {
    this.values.delete(ref);
  }
}

/** A pod manager in memory, as the service and the re-sync read and write it. */
class OnePodManager {
  podm: PodManager = {
    uuid: randomUUID(),
    name: "podm-a",
    url: OLD_URL,
    driver: "redfish",
    verify_ca: false,
    status: "online",
    username: "admin",
    credentials_ref: "",
    created_at: "t",
    updated_at: "t",
    version: 1,
  };
  writes = 0;
  async create() {
    return this.podm;
  }
  async get(uuid: string) {
    return uuid === this.podm.uuid ? structuredClone(this.podm) : undefined;
  }
  async findByName() {
    return undefined;
  }
  async list() {
    return [this.podm];
  }
  async update(_uuid: string, version: number, changes: Partial<PodManager>) {
    if (version !== this.podm.version) throw new Error("conflict");
    const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    this.writes += 1;
    this.podm = { ...this.podm, ...defined, version: version + 1 };
    return structuredClone(this.podm);
  }
  async delete() {}
}

describe("re-syncing a pod manager's credentials into Ironic", () => {
  let ironic: MemoryIronic;
  let nodes: MemoryNodeRepository;
  let operations: MemoryOperationRepository;
  let secrets: MemorySecrets;
  let podManagers: OnePodManager;
  let ctx: FakeWorkflowContext;
  let started: string[];
  let logins: Array<{ url: string; credentials: Credentials }>;
  let refuseLogin: string | undefined;
  let resync: PodManagerResync;
  let service: PodManagerService;

  beforeEach(async () => {
    ironic = new MemoryIronic();
    nodes = new MemoryNodeRepository();
    operations = new MemoryOperationRepository();
    secrets = new MemorySecrets();
    podManagers = new OnePodManager();
    podManagers.podm.credentials_ref = await secrets.put(`podm/${podManagers.podm.uuid}`, {
      username: "admin",
      password: "old-password",
    });
    ctx = new FakeWorkflowContext();
    started = [];
    logins = [];
    refuseLogin = undefined;
    const operationService = new OperationService({
      operations,
      nodes,
      finder: finderOf(nodes),
      starter: { start: async (id) => void started.push(id) },
    });
    resync = new PodManagerResync({
      nodes,
      podManagers,
      secrets,
      ironic: async () => ironic,
      deployment: { id: async () => DEPLOYMENT },
      operations: operationService,
      sleep: async () => {},
    });
    service = new PodManagerService({
      repository: podManagers,
      secrets,
      countNodes: async () => 0,
      login: async (podm, credentials) => {
        logins.push({ url: podm.url, credentials });
        if (refuseLogin) throw new PodManagerLoginFailedError(refuseLogin);
      },
      resync,
    });
  });

  /** A node registered in Ironic by this deployment, driven at `url` (default the pod manager's). */
  async function registered(
    name: string,
    options: { url?: string; deployment?: string; systemId?: string; verifyCa?: boolean } = {},
  ): Promise<Node> {
    const uuid = randomUUID();
    const resourceUri = `/redfish/v1/Systems/${name}`;
    const ironicNode = await ironic.createNode({
      name,
      driver: "redfish",
      driver_info: {
        redfish_address: options.url ?? podManagers.podm.url,
        redfish_system_id: options.systemId ?? resourceUri,
        redfish_username: "admin",
        redfish_password: "old-password",
        redfish_verify_ca: options.verifyCa ?? podManagers.podm.verify_ca,
      },
      extra: { [NODE_MARK]: uuid, [DEPLOYMENT_MARK]: options.deployment ?? DEPLOYMENT },
    });
    return nodes.create({
      uuid,
      name,
      description: "",
      podm_id: podManagers.podm.uuid,
      index: name,
      resource_uri: resourceUri,
      managed_by: "ironic",
      ironic_node_uuid: ironicNode.uuid,
      hardware: { cpus: 1, memory_mb: 1, local_gb: 1, cpu_arch: "x86_64", nics: [] },
    });
  }

  const newPassword = (password: string) => ({
    authentication: [{ type: "basic" as const, auth_items: { username: "admin", password } }],
  });

  const runWorkflow = (operation: Operation) =>
    runOperation({ operation_id: operation.id }, ctx, {
      operations,
      ironicNodeOf: async () => undefined,
      ironic,
      resyncNode: (op, node) => resync.resyncNode(op, node),
    });

  it("tries new credentials with a login before writing anything; refused, nothing changes", async () => {
    const node = await registered("n1");
    const before = structuredClone(podManagers.podm);
    refuseLogin =
      "pod manager http://podm-old.example refused the credentials (401 on POST /redfish/v1/SessionService/Sessions)";

    const refused = service.update(podManagers.podm.uuid, newPassword("wrong"), caller);

    await expect(refused).rejects.toBeInstanceOf(PodManagerLoginFailedError);
    await expect(refused).rejects.toThrow(/401/);
    expect(logins).toEqual([{ url: OLD_URL, credentials: { username: "admin", password: "wrong" } }]);
    expect(podManagers.podm).toEqual(before);
    expect(podManagers.writes).toBe(0);
    expect(await secrets.get(before.credentials_ref)).toEqual({
      username: "admin",
      password: "old-password",
    });
    expect(operations.operations.size).toBe(0);
    expect(ironic.callsOf("updateNode")).toEqual([]);
    expect((await ironic.getNode(node.ironic_node_uuid as string)).driver_info.redfish_password).toBe(
      "******",
    );
  });

  it("logs in at the new address with the new credentials before moving there", async () => {
    await registered("n1");

    const { podManager, operation } = await service.update(
      podManagers.podm.uuid,
      { url: "http://podm-new.example", ...newPassword("new-password") },
      caller,
    );

    expect(logins).toEqual([
      { url: "http://podm-new.example", credentials: { username: "admin", password: "new-password" } },
    ]);
    expect(podManager).toMatchObject({ url: "http://podm-new.example", status: "online" });
    expect(operation?.arguments?.pod_manager_urls).toEqual([OLD_URL, "http://podm-new.example"]);
  });

  it("a rename needs no login and starts no re-sync", async () => {
    await registered("n1");

    const { podManager, operation } = await service.update(
      podManagers.podm.uuid,
      { name: "renamed" },
      caller,
    );

    expect(podManager.name).toBe("renamed");
    expect(operation).toBeUndefined();
    expect(logins).toEqual([]);
    expect(started).toEqual([]);
  });

  it("answers no operation when the pod manager has no node in Ironic", async () => {
    const { operation } = await service.update(podManagers.podm.uuid, newPassword("new-password"), caller);

    expect(operation).toBeUndefined();
    expect(await secrets.get(podManagers.podm.credentials_ref)).toMatchObject({ password: "new-password" });
  });

  it("carries a new password into every registered node's driver_info, a node busy cleaning included", async () => {
    const a = await registered("node-a");
    const b = await registered("node-b");
    // node-b runs its own hour-long operation: the re-sync does not wait for it, nor take its slot.
    const cleaning = { id: randomUUID(), kind: "clean", started_at: new Date().toISOString() };
    await nodes.update(b.uuid, { version: b.version }, withOperation(cleaning));
    await nodes.create({
      ...a,
      uuid: randomUUID(),
      name: "not-registered",
      managed_by: "valence",
      ironic_node_uuid: null,
    });

    const { operation } = await service.update(podManagers.podm.uuid, newPassword("new-password"), caller);

    expect(operation).toMatchObject({
      kind: "resync",
      state: "pending",
      node_uuid: podManagers.podm.uuid,
      node_name: "podm-a",
      pod_manager_uuid: podManagers.podm.uuid,
      principal: caller.principal,
    });
    expect(operation?.steps.map((step) => step.name)).toEqual(["node-a", "node-b"]);
    expect(started).toEqual([operation?.id]);

    const result = await runWorkflow(operation as Operation);

    expect(result.state).toBe("succeeded");
    for (const node of [a, b]) {
      const ironicNode = ironic.nodes.get(node.ironic_node_uuid as string);
      expect(ironicNode?.driver_info).toMatchObject({
        redfish_address: OLD_URL,
        redfish_username: "admin",
        redfish_password: "new-password",
        redfish_verify_ca: false,
        redfish_system_id: node.resource_uri,
      });
    }
    const ended = await operations.get(operation?.id as string);
    expect(ended?.results?.map((each) => [each.name, each.state])).toEqual([
      ["node-a", "succeeded"],
      ["node-b", "succeeded"],
    ]);
    expect(ended?.results?.[0]?.detail).not.toContain("new-password");
    expect((await nodes.get(b.uuid))?.operation).toEqual(cleaning);
  });

  it("never drops a node's own TLS check, unless the pod manager's owner turned verification off", async () => {
    const strict = await registered("strict", { verifyCa: true });
    const verifyOf = async () =>
      (await ironic.getNode(strict.ironic_node_uuid as string)).driver_info.redfish_verify_ca;

    const { operation } = await service.update(podManagers.podm.uuid, newPassword("new-password"), caller);
    await runWorkflow(operation as Operation);
    expect(await verifyOf()).toBe(true);
    expect(ironic.nodes.get(strict.ironic_node_uuid as string)?.driver_info.redfish_password).toBe(
      "new-password",
    );

    await service.update(podManagers.podm.uuid, { verify_ca: true }, caller);
    const off = await service.update(
      podManagers.podm.uuid,
      { verify_ca: false, ...newPassword("new-password") },
      caller,
    );
    expect(off.operation?.arguments?.verify_ca_turned_off).toBe(true);
    await runWorkflow(off.operation as Operation);
    expect(await verifyOf()).toBe(false);
  });

  it("waits, durably, for a node Ironic is cleaning (it takes no driver_info change then), then patches it", async () => {
    const cleaning = await registered("cleaning");
    const ironicNode = ironic.nodes.get(cleaning.ironic_node_uuid as string);
    Object.assign(ironicNode ?? {}, { provision_state: "clean wait", target_provision_state: "available" });
    let seenWaiting: Operation | undefined;
    const operation = (await resync.start(podManagers.podm, caller)) as Operation;
    ctx.onWait = async (check) => {
      seenWaiting ??= await operations.get(operation.id);
      // Cleaning ends on the third look.
      if (check === 2)
        Object.assign(ironicNode ?? {}, { provision_state: "available", target_provision_state: null });
    };

    const result = await runWorkflow(operation);

    expect(result.state).toBe("succeeded");
    expect(ctx.waits).toEqual(["node cleaning: wait"]);
    expect(seenWaiting?.steps[0]).toMatchObject({
      state: "running",
      provision_state: "clean wait",
      target_provision_state: "available",
      detail: expect.stringContaining("waiting for Ironic to end its transition (clean wait → available)"),
    });
    expect(seenWaiting?.results?.[0]?.state).toBe("pending");
    expect(ironic.callsOf("updateNode")).toHaveLength(1);
    expect(ironicNode?.driver_info.redfish_password).toBe("old-password");
  });

  it("says which nodes did not take it and why, and leaves nodes that are not Valence's or point elsewhere", async () => {
    await registered("good");
    const invalid = await registered("invalid");
    const locked = await registered("locked");
    const foreign = await registered("foreign", { deployment: "deployment-b" });
    const elsewhere = await registered("elsewhere", { url: "http://other-podm.example" });
    ironic.failValidation.set(invalid.ironic_node_uuid as string, "Missing redfish_system_id");
    // Locked through every attempt but the last one (each fault fires once, in turn).
    for (let attempt = 1; attempt <= 3; attempt++)
      ironic.fail({
        method: "updateNode",
        when: (ident) => ident === locked.ironic_node_uuid,
        at: "before",
        error: new IronicNodeLockedError("Node is locked by host conductor-1"),
      });

    const operation = await resync.start(podManagers.podm, caller);
    const result = await runWorkflow(operation as Operation);

    expect(result.state).toBe("failed");
    expect(result.outcome?.code).toBe(RESYNC_FAILURES.incomplete);
    expect(result.outcome?.detail).toContain(
      "invalid: driver_info updated; Ironic's validation failed (power: Missing redfish_system_id",
    );
    const ended = await operations.get(operation?.id as string);
    expect(ironic.callsOf("updateNode").filter(([ident]) => ident === locked.ironic_node_uuid)).toHaveLength(
      4,
    );
    expect(Object.fromEntries(ended?.results?.map((each) => [each.name, each.state]) ?? [])).toEqual({
      elsewhere: "skipped",
      foreign: "skipped",
      good: "succeeded",
      invalid: "failed",
      locked: "succeeded",
    });
    for (const untouched of [foreign, elsewhere])
      expect(ironic.nodes.get(untouched.ironic_node_uuid as string)?.driver_info.redfish_password).toBe(
        "******",
      );
    expect(ended?.steps.find((step) => step.name === "foreign")?.detail).toContain(
      "another Valence deployment",
    );
  });

  it("gives up on a node Ironic keeps locked, and names it", async () => {
    const locked = await registered("locked");
    // Each fault fires once, in turn: locked on every attempt.
    for (let attempt = 1; attempt <= 4; attempt++)
      ironic.fail({ method: "updateNode", at: "before", error: new IronicNodeLockedError("Node is locked") });

    const operation = await resync.start(podManagers.podm, caller);
    const result = await runWorkflow(operation as Operation);

    expect(result.outcome?.code).toBe(RESYNC_FAILURES.incomplete);
    expect(result.outcome?.detail).toMatch(/locked: Ironic kept the node locked through 4 attempts/);
    expect(ironic.nodes.get(locked.ironic_node_uuid as string)?.driver_info.redfish_password).toBe("******");
  });

  it("resumes after a crash at the first node not done, never redoing one", async () => {
    await registered("first");
    await registered("second");
    const operation = (await resync.start(podManagers.podm, caller)) as Operation;
    // The first node ended before the crash.
    const running = await operations.update(operation.id, { version: operation.version }, {
      state: "running",
    } as never);
    await operations.update(
      operation.id,
      { version: running.version },
      resyncNodeFinished(running, 0, { state: "succeeded", detail: "done before the crash" }, new Date()),
    );

    await runWorkflow(operation);

    expect(ironic.callsOf("updateNode").map(([ident]) => ident)).toEqual([
      (await nodes.findByName("second"))?.ironic_node_uuid,
    ]);
    const ended = await operations.get(operation.id);
    expect(ended?.state).toBe("succeeded");
    expect(ended?.results?.[0]?.detail).toBe("done before the crash");
  });

  it("stops between nodes once cancelled", async () => {
    await registered("first");
    await registered("second");
    const operation = (await resync.start(podManagers.podm, caller)) as Operation;
    const service = new OperationService({
      operations,
      nodes,
      finder: finderOf(nodes),
      starter: { start: async () => {} },
    });
    ironic.fail({
      method: "validateNode",
      at: "after",
      error: new Error("validation unreadable"),
      when: () => {
        void service.cancel(operation.id);
        return true;
      },
    });

    const result = await runWorkflow(operation);

    expect(result.state).toBe("cancelled");
    expect(ironic.callsOf("updateNode")).toHaveLength(1);
  });

  it("a new re-sync asks the one still running to stop: the newer values win", async () => {
    await registered("n1");
    const first = (await resync.start(podManagers.podm, caller)) as Operation;

    const second = await resync.start(podManagers.podm, caller);

    expect((await operations.get(first.id))?.state).toBe("cancelling");
    expect(second?.state).toBe("pending");
  });

  it("fails a re-sync no workflow carries on past its deadline, as the reconciler does with any operation", async () => {
    await registered("n1");
    let now = new Date("2026-03-01T00:00:00.000Z");
    const abandoned = new OperationService({
      operations,
      nodes,
      finder: finderOf(nodes),
      starter: { start: async () => {} },
      now: () => now,
    });
    const operation = await abandoned.beginForPodManager(
      podManagers.podm,
      {
        kind: "resync",
        steps: ["n1"],
        results: [{ node_uuid: "x", name: "n1", ironic_node_uuid: "y", state: "pending", detail: null }],
        deadlineSeconds: 60,
      },
      caller,
    );
    now = new Date("2026-03-01T01:00:00.000Z");

    expect(await abandoned.failAbandoned(60_000)).toBe(1);

    expect((await operations.get(operation.id))?.outcome?.code).toBe("OperationAbandoned");
  });

  it("turns the pod manager's refusal of a login into a 400 naming its answer; an address refusal stays", async () => {
    let failure: Error = new PodManagerAuthError(
      "http://podm",
      "POST /redfish/v1/SessionService/Sessions",
      401,
    );
    let closed = 0;
    const sessions = new PodManagerSessions(podManagers, secrets, () => ({
      probe: async () => {
        throw failure;
      },
      close: async () => {
        closed += 1;
      },
      listComposedSystems: async () => [],
      getSystem: async () => {
        throw new Error("unused");
      },
      compose: async () => {
        throw new Error("unused");
      },
      decompose: async () => {},
      reset: async () => {},
      setBoot: async () => {},
    }));

    const refused = sessions.login(podManagers.podm, { username: "admin", password: "wrong" });

    await expect(refused).rejects.toBeInstanceOf(PodManagerLoginFailedError);
    await expect(refused).rejects.toThrow(/refused the credentials \(401 on POST/);
    failure = new PodManagerAddressRefusedError("http://podm", "loopback");
    await expect(sessions.login(podManagers.podm, FIRST_CREDENTIALS)).rejects.toBeInstanceOf(
      PodManagerAddressRefusedError,
    );
    // Every login closes its session, refused or not.
    expect(closed).toBe(2);
  });

  it("judges Ironic's validation on the interfaces that talk to the BMC", () => {
    expect(
      validationFailure({ power: { result: true }, management: { result: true }, deploy: { result: false } }),
    ).toBeUndefined();
    expect(
      validationFailure({ power: { result: false, reason: "bad address" }, management: { result: true } }),
    ).toBe("Ironic's validation failed (power: bad address)");
    expect(validationFailure({ power: { result: true } })).toBe(
      "Ironic's validation failed (management: not reported)",
    );
  });
});
