import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDocumentClient } from "../../lib/db/client.ts";
import { DynamoDeploymentIdentity } from "../../lib/db/deployment.ts";
import { IronicResourceTakenError } from "../../lib/errors.ts";
import { createIronicDriver, type IronicDriver, type IronicNode } from "../../lib/ironic/index.ts";
import { logger } from "../../lib/log.ts";
import { DynamoNodeRepository } from "../../lib/nodes/dynamo-repository.ts";
import type { Node } from "../../lib/nodes/model.ts";
import { Reconciler } from "../../lib/nodes/reconciler.ts";
import { type OperationContext, RegistrationService } from "../../lib/nodes/registration-service.ts";
import { RegisterNodeBody } from "../../lib/nodes/schemas.ts";
import { NodeService } from "../../lib/nodes/service.ts";
import { DynamoPodManagerRepository } from "../../lib/podmanagers/dynamo-repository.ts";
import { PodManagerSessions } from "../../lib/podmanagers/sessions.ts";
import { createPodManagerClient } from "../../lib/redfish/index.ts";
import type { Credentials, SecretStore } from "../../lib/secrets/store.ts";
import { ensureTable, type LocalDynamo, startDynalite } from "../../local/dynalite.ts";
import { type IronicService, startIronic } from "../../local/ironic.ts";
import { poolInventory } from "../../local/pool.ts";
import { type RedfishEmulator, startRedfishEmulator } from "../../local/redfish-emulator/index.ts";
import { type FaultProxy, faults, startFaultProxy } from "../support/fault-proxy.ts";
import { LOCAL_ADDRESS_POLICY } from "../support/fixtures.ts";

const PASSWORD = "Shared-Ironic-Pw-31";

class MemorySecrets implements SecretStore {
  async put() {
    return "ref";
  }
  async get(): Promise<Credentials> {
    return { username: "admin", password: PASSWORD };
  }
  async delete() {}
}

const context = (): OperationContext => ({
  requestId: randomUUID(),
  principal: "test",
  remainingMs: () => 60_000,
});
const reconcileContext = { remainingMs: () => 600_000 };

/** One Valence deployment: its own table (so its own identity), services built on it. */
interface Deployment {
  id: string;
  nodes: DynamoNodeRepository;
  podms: DynamoPodManagerRepository;
  podmId: string;
  registration(ironic?: IronicDriver): RegistrationService;
  reconciler(): Reconciler;
  /** A store node for a system the emulator composed. */
  manage(
    name: string,
    system: { index: string; resourceUri: string; hardware: Node["hardware"] },
  ): Promise<Node>;
}

describe("two deployments sharing one Ironic (real Ironic, emulator, dynalite)", () => {
  let dynamo: LocalDynamo;
  let ironicService: IronicService;
  let emulator: RedfishEmulator;
  let ironic: IronicDriver;
  let a: Deployment;
  let b: Deployment;

  async function deployment(podmUrl: string): Promise<Deployment> {
    const tableName = `valence-${randomUUID().slice(0, 8)}`;
    await ensureTable(dynamo.endpoint, tableName);
    const db = createDocumentClient({ region: "us-east-1", endpoint: dynamo.endpoint });
    const nodes = new DynamoNodeRepository(db, tableName);
    const podms = new DynamoPodManagerRepository(db, tableName);
    const identity = new DynamoDeploymentIdentity(db, tableName);
    const podmId = randomUUID();
    await podms.create({
      uuid: podmId,
      name: "shared-podm",
      url: podmUrl,
      driver: "redfish",
      verify_ca: false,
      status: "online",
      username: "admin",
      credentials_ref: "ref",
    });
    const sessions = new PodManagerSessions(podms, new MemorySecrets(), (connection) =>
      createPodManagerClient({ ...connection, addressPolicy: LOCAL_ADDRESS_POLICY }),
    );
    return {
      id: await identity.id(),
      nodes,
      podms,
      podmId,
      registration: (driver = ironic) =>
        new RegistrationService({
          nodes,
          finder: new NodeService(nodes),
          sessions,
          ironic: async () => driver,
          defaultResourceClass: "baremetal",
          deployment: identity,
        }),
      reconciler: () =>
        new Reconciler({
          nodes,
          podManagers: podms,
          sessions,
          ironic: async () => ironic,
          deployment: identity,
          // Every intent counts as interrupted: the tests need not wait.
          staleIntentMs: 0,
        }),
      manage: (name, system) =>
        nodes.create({
          uuid: randomUUID(),
          name,
          description: "",
          podm_id: podmId,
          index: system.index,
          resource_uri: system.resourceUri,
          managed_by: "valence",
          ironic_node_uuid: null,
          hardware: system.hardware,
        }),
    };
  }

  async function compose(name: string) {
    const client = createPodManagerClient({
      url: emulator.url,
      username: "admin",
      password: PASSWORD,
      driver: "redfish",
      verifyCa: false,
      addressPolicy: LOCAL_ADDRESS_POLICY,
    });
    try {
      return await client.compose({ name, totalCores: 1 });
    } finally {
      await client.close();
    }
  }

  /** Ironic's calls succeed until the second port create, then fail: a register that dies half-way. */
  function dyingAtSecondPort(): IronicDriver {
    let ports = 0;
    const proxy: IronicDriver = new Proxy(ironic, {
      get(target, property, receiver) {
        if (property === "withContext") return () => proxy;
        const original = Reflect.get(target, property, receiver);
        if (typeof original !== "function") return original;
        return async (...args: unknown[]) => {
          if (property === "createPort" && ++ports === 2) throw new Error("process died");
          if (property === "deleteNode" || property === "setMaintenance") throw new Error("process died");
          return (original as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    return proxy;
  }

  const ironicNode = async (uuid: string): Promise<IronicNode | undefined> =>
    (await ironic.findNodes()).find((node) => node.uuid === uuid);

  beforeAll(async () => {
    [dynamo, ironicService, emulator] = await Promise.all([
      startDynalite(),
      startIronic(),
      startRedfishEmulator({ username: "admin", password: PASSWORD, inventory: poolInventory(6) }),
    ]);
    ironic = createIronicDriver({ url: ironicService.url, auth: { type: "none" } });
    a = await deployment(emulator.url);
    b = await deployment(emulator.url);
  });
  afterAll(async () => {
    await Promise.all([dynamo?.close(), ironicService?.stop(), emulator?.close()]);
  });

  it("keeps a stable identity per table, different between tables", async () => {
    expect(a.id).not.toBe(b.id);
    const again = new DynamoDeploymentIdentity(
      createDocumentClient({ region: "us-east-1", endpoint: dynamo.endpoint }),
      (a.nodes as unknown as { tableName: string }).tableName,
    );
    expect(await again.id()).toBe(a.id);
  });

  it("gives every process the same identity when several create it at once", async () => {
    const tableName = `valence-${randomUUID().slice(0, 8)}`;
    await ensureTable(dynamo.endpoint, tableName);
    const db = createDocumentClient({ region: "us-east-1", endpoint: dynamo.endpoint });
    const processes = Array.from({ length: 8 }, () => new DynamoDeploymentIdentity(db, tableName));

    const ids = await Promise.all(processes.map((identity) => identity.id()));

    expect(new Set(ids).size).toBe(1);
    expect(await new DynamoDeploymentIdentity(db, tableName).id()).toBe(ids[0]);
  });

  it("never deletes, adopts or updates the other deployment's Ironic nodes", async () => {
    // A registers one node, and a register of A's dies half-way (an incomplete Ironic node, a stale intent).
    const registeredSystem = await compose("a-registered");
    const aRegistered = await a.manage("a-registered", registeredSystem);
    const { node: registered } = await a
      .registration()
      .register(aRegistered.uuid, RegisterNodeBody.parse({}), context());
    const registeredUuid = registered.ironic_node_uuid as string;
    const halfwaySystem = await compose("a-halfway");
    const aHalfway = await a.manage("a-halfway", halfwaySystem);
    await expect(
      a.registration(dyingAtSecondPort()).register(aHalfway.uuid, RegisterNodeBody.parse({}), context()),
    ).rejects.toThrow();
    expect((await a.nodes.get(aHalfway.uuid))?.intent?.op).toBe("registering");
    const halfway = (await ironic.findNodes()).find((node) => node.extra.valence_node_uuid === aHalfway.uuid);
    expect(halfway).toBeDefined();
    const before = new Map(
      (await ironic.findNodes()).map((node) => [
        node.uuid,
        { extra: node.extra, maintenance: node.maintenance },
      ]),
    );

    // B: a fresh table on the same Ironic, with its own record of the system A registered.
    const bSame = await b.manage("b-same-system", registeredSystem);
    const summary = await b.reconciler().run(reconcileContext);

    for (const [uuid, was] of before) {
      const now = await ironicNode(uuid);
      expect(now, `Ironic node ${uuid}`).toBeDefined();
      expect({ extra: now?.extra, maintenance: now?.maintenance }).toEqual(was);
    }
    expect(summary).toMatchObject({ rolled_back: 0, adopted: 0, finished: 0, orphans: 0, errors: 0 });
    expect(halfway?.extra).toMatchObject({ valence_deployment: a.id });
    expect(await b.nodes.get(bSame.uuid)).toMatchObject({ managed_by: "valence", ironic_node_uuid: null });

    // B's register of the same hardware is refused rather than taking A's node over.
    const refused = await b
      .registration()
      .register(bSame.uuid, RegisterNodeBody.parse({}), context())
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(IronicResourceTakenError);
    // It creates first, so Ironic's MACAlreadyExists refused it: the node it created is gone again.
    expect((await ironic.findNodes()).filter((node) => node.name === "b-same-system")).toEqual([]);
    expect((refused as Error).message).toContain(registeredUuid);
    expect((refused as Error).message).toContain("another Valence deployment");
    expect((await ironicNode(registeredUuid))?.extra).toEqual(before.get(registeredUuid)?.extra);
    expect(await b.nodes.get(bSame.uuid)).toMatchObject({ managed_by: "valence", intent: null });

    // A's own pass still rolls back its own debris, and keeps its registered node.
    const own = await a.reconciler().run(reconcileContext);
    expect(own).toMatchObject({ rolled_back: 1, errors: 0 });
    expect(await ironicNode(halfway?.uuid as string)).toBeUndefined();
    expect(await a.nodes.get(aHalfway.uuid)).toMatchObject({ managed_by: "valence", intent: null });
    expect(await ironicNode(registeredUuid)).toBeDefined();
    expect(await a.nodes.get(aRegistered.uuid)).toMatchObject({
      managed_by: "ironic",
      ironic_node_uuid: registeredUuid,
    });
  });

  it("reports, never deletes, an Ironic node naming a Valence node it has no record of", async () => {
    const stray = await ironic.createNode({
      name: `stray-${randomUUID().slice(0, 8)}`,
      driver: "fake-hardware",
      extra: { valence_node_uuid: randomUUID() },
    });
    const markedStray = await ironic.createNode({
      name: `stray-${randomUUID().slice(0, 8)}`,
      driver: "fake-hardware",
      extra: { valence_node_uuid: randomUUID(), valence_deployment: b.id },
    });
    const warn = vi.spyOn(logger, "warn");
    try {
      const summary = await b.reconciler().run(reconcileContext);

      expect(await ironicNode(stray.uuid)).toBeDefined();
      expect(await ironicNode(markedStray.uuid)).toBeDefined();
      expect(summary).toMatchObject({ orphans: 2, rolled_back: 0, errors: 0 });
      const reported = warn.mock.calls.map(
        ([, fields]) => (fields as { ironic_node_uuid?: string })?.ironic_node_uuid,
      );
      expect(reported).toEqual(expect.arrayContaining([stray.uuid, markedStray.uuid]));
    } finally {
      warn.mockRestore();
      await ironic.deleteNode(stray.uuid).catch(() => undefined);
      await ironic.deleteNode(markedStray.uuid).catch(() => undefined);
    }
  });
});

describe("a pod manager that does not answer, in a reconcile pass", () => {
  let dynamo: LocalDynamo;
  let emulator: RedfishEmulator;
  let proxy: FaultProxy;
  let nodes: DynamoNodeRepository;
  let podms: DynamoPodManagerRepository;
  let reconciler: Reconciler;
  let podmId: string;

  /** An Ironic with no nodes: the pass is about the pod manager. */
  const emptyIronic = {
    withContext: () => emptyIronic,
    async *listNodes() {},
  } as unknown as IronicDriver;

  beforeAll(async () => {
    [dynamo, emulator] = await Promise.all([
      startDynalite(),
      startRedfishEmulator({ username: "admin", password: PASSWORD, inventory: poolInventory(2) }),
    ]);
    proxy = await startFaultProxy({ target: emulator.url });
    const tableName = `valence-${randomUUID().slice(0, 8)}`;
    await ensureTable(dynamo.endpoint, tableName);
    const db = createDocumentClient({ region: "us-east-1", endpoint: dynamo.endpoint });
    nodes = new DynamoNodeRepository(db, tableName);
    podms = new DynamoPodManagerRepository(db, tableName);
    podmId = randomUUID();
    await podms.create({
      uuid: podmId,
      name: "flaky-podm",
      url: proxy.url,
      driver: "redfish",
      verify_ca: false,
      status: "online",
      username: "admin",
      credentials_ref: "ref",
    });
    reconciler = new Reconciler({
      nodes,
      podManagers: podms,
      sessions: new PodManagerSessions(podms, new MemorySecrets(), (connection) =>
        createPodManagerClient({ ...connection, timeoutMs: 2_000, addressPolicy: LOCAL_ADDRESS_POLICY }),
      ),
      ironic: async () => emptyIronic,
      deployment: new DynamoDeploymentIdentity(db, tableName),
      staleIntentMs: 60_000,
    });
  });
  afterAll(async () => {
    await proxy?.close();
    await Promise.all([dynamo?.close(), emulator?.close()]);
  });

  it("without nodes: sets its status offline, then online again, and counts no error", async () => {
    const error = vi.spyOn(logger, "error");
    try {
      proxy.inject({ path: /.*/, fault: faults.reset(), times: Number.POSITIVE_INFINITY });
      const offline = await reconciler.run(reconcileContext);
      const again = await reconciler.run(reconcileContext);

      expect(offline).toMatchObject({ errors: 0, podms_offline: 1 });
      expect(again).toMatchObject({ errors: 0, podms_offline: 1 });
      expect((await podms.get(podmId))?.status).toBe("offline");
      expect(error).not.toHaveBeenCalled();

      proxy.clear();
      const back = await reconciler.run(reconcileContext);
      expect(back).toMatchObject({ errors: 0, podms_offline: 0 });
      expect((await podms.get(podmId))?.status).toBe("online");
    } finally {
      proxy.clear();
      error.mockRestore();
    }
  });

  it("with nodes: also logs a warning that their systems are not checked", async () => {
    await nodes.create({
      uuid: randomUUID(),
      name: "on-flaky-podm",
      description: "",
      podm_id: podmId,
      index: "1",
      resource_uri: "/redfish/v1/Systems/1",
      managed_by: "valence",
      ironic_node_uuid: null,
      hardware: { cpus: 1, memory_mb: 1, local_gb: 1, cpu_arch: "x86_64", nics: [] },
    });
    const warn = vi.spyOn(logger, "warn");
    try {
      proxy.inject({ path: /.*/, fault: faults.reset(), times: Number.POSITIVE_INFINITY });
      const summary = await reconciler.run(reconcileContext);

      expect(summary).toMatchObject({ errors: 0, podms_offline: 1 });
      expect((await podms.get(podmId))?.status).toBe("offline");
      expect(warn.mock.calls.map(([message]) => message)).toContain(
        "reconcile: pod manager offline; its nodes' systems are not checked",
      );
    } finally {
      proxy.clear();
      warn.mockRestore();
    }
  });
});
