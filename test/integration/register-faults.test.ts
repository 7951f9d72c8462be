import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDeploymentIdentity } from "../../lib/db/deployment.ts";
import { NodeBusyError, OperationFailedError } from "../../lib/errors.ts";
import { toErrorBody } from "../../lib/http/errors.ts";
import { IronicConfigError } from "../../lib/ironic/errors.ts";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import { DynamoNodeRepository } from "../../lib/nodes/dynamo-repository.ts";
import type { Node } from "../../lib/nodes/model.ts";
import { type OperationContext, RegistrationService } from "../../lib/nodes/registration-service.ts";
import { RegisterNodeBody } from "../../lib/nodes/schemas.ts";
import { NodeService } from "../../lib/nodes/service.ts";
import { DynamoOperationRepository } from "../../lib/operations/dynamo-repository.ts";
import { DynamoPodManagerRepository } from "../../lib/podmanagers/dynamo-repository.ts";
import { PodManagerSessions } from "../../lib/podmanagers/sessions.ts";
import { createPodManagerClient, type PodManagerConnection } from "../../lib/redfish/index.ts";
import type { Credentials, SecretStore } from "../../lib/secrets/store.ts";
import { type IronicService, startIronic } from "../../local/ironic.ts";
import { poolInventory } from "../../local/pool.ts";
import { type RedfishEmulator, startRedfishEmulator } from "../../local/redfish-emulator/index.ts";
import { startTestTable, type TestTable } from "../support/dynamo.ts";
import { LOCAL_ADDRESS_POLICY } from "../support/fixtures.ts";
import { freePort } from "../support/processes.ts";
import { inProcessOperations } from "../support/workflow.ts";

const localClient = (connection: PodManagerConnection) =>
  createPodManagerClient({ ...connection, addressPolicy: LOCAL_ADDRESS_POLICY });

const PASSWORD = "Bmc-Fault-Pw-7e21";

class MemorySecrets implements SecretStore {
  constructor(private readonly credentials: Credentials) {}
  async put() {
    return "ref";
  }
  async get() {
    return this.credentials;
  }
  async delete() {}
}

/**
 * Register faults at the service level, against a real Ironic, the emulator and dynalite: whatever fails, no
 * Ironic node or port is left behind and the node stays `valence`, with a clear error.
 */
describe("register faults", () => {
  let table: TestTable;
  let ironicService: IronicService;
  let emulator: RedfishEmulator;
  let nodes: DynamoNodeRepository;
  let sessions: PodManagerSessions;
  let ironic: IronicDriver;
  let podmId: string;

  const context = (): OperationContext => ({
    requestId: randomUUID(),
    principal: "test",
    remainingMs: () => 60_000,
  });
  const options = (body: Record<string, unknown> = {}) => RegisterNodeBody.parse(body);

  function service(driver: IronicDriver, overrideSessions?: PodManagerSessions) {
    return serviceWith(async () => driver, overrideSessions, driver);
  }

  /** The register service; with `workflowIronic`, a register's operation runs in process to its end. */
  function serviceWith(
    factory: () => Promise<IronicDriver>,
    overrideSessions?: PodManagerSessions,
    workflowIronic?: IronicDriver,
  ) {
    return new RegistrationService({
      nodes,
      finder: new NodeService(nodes),
      sessions: overrideSessions ?? sessions,
      ironic: factory,
      defaultResourceClass: "baremetal",
      deployment: new DynamoDeploymentIdentity(table.db, table.tableName),
      ...(workflowIronic
        ? {
            operations: inProcessOperations({
              operations: new DynamoOperationRepository(table.db, table.tableName),
              nodes,
              finder: new NodeService(nodes),
              ironic: workflowIronic,
            }),
          }
        : {}),
    });
  }

  beforeAll(async () => {
    [table, ironicService, emulator] = await Promise.all([
      startTestTable(),
      startIronic(),
      startRedfishEmulator({ username: "admin", password: PASSWORD, inventory: poolInventory(16) }),
    ]);
    nodes = new DynamoNodeRepository(table.db, table.tableName);
    const podms = new DynamoPodManagerRepository(table.db, table.tableName);
    podmId = randomUUID();
    await podms.create({
      uuid: podmId,
      name: "fault-podm",
      url: emulator.url,
      driver: "redfish",
      verify_ca: false,
      status: "online",
      username: "admin",
      credentials_ref: "ref",
    });
    sessions = new PodManagerSessions(
      podms,
      new MemorySecrets({ username: "admin", password: PASSWORD }),
      localClient,
    );
    ironic = createIronicDriver({ url: ironicService.url, auth: { type: "none" } });
  });
  afterAll(async () => {
    await Promise.all([table?.close(), ironicService?.stop(), emulator?.close()]);
  });

  async function composedNode(name: string): Promise<Node> {
    const client = createPodManagerClient({
      url: emulator.url,
      username: "admin",
      password: PASSWORD,
      driver: "redfish",
      verifyCa: false,
      addressPolicy: LOCAL_ADDRESS_POLICY,
    });
    const system = await client.compose({ name, totalCores: 1 });
    await client.close();
    return nodes.create({
      uuid: randomUUID(),
      name,
      description: "",
      podm_id: podmId,
      index: system.index,
      resource_uri: system.resourceUri,
      managed_by: "valence",
      ironic_node_uuid: null,
      hardware: system.hardware,
    });
  }

  async function expectNothingLeft(node: Node) {
    const leftovers = (await ironic.findNodes()).filter(
      (n) => n.extra.valence_node_uuid === node.uuid || n.name === node.name,
    );
    expect(leftovers).toEqual([]);
    const macs = node.hardware.nics.map((nic) => nic.mac);
    expect((await ironic.listPorts()).filter((port) => macs.includes(port.address))).toEqual([]);
    expect(await nodes.get(node.uuid)).toMatchObject({
      managed_by: "valence",
      ironic_node_uuid: null,
      intent: null,
    });
  }

  it("fails clearly when Ironic is down, leaving the node as it was", async () => {
    const node = await composedNode("ironic-down");
    const down = createIronicDriver({
      url: `http://127.0.0.1:${await freePort()}`,
      auth: { type: "none" },
      retry: { maxAttempts: 2 },
    });

    const error = await service(down)
      .register(node.uuid, options(), context())
      .catch((e: unknown) => e);

    expect(toErrorBody(error, "req-down")).toMatchObject({ status: 503 });
    expect((error as Error).message).toMatch(/ironic/i);
    await expectNothingLeft(node);
  });

  it("rolls back the node and its ports when a port create fails", async () => {
    const node = await composedNode("port-fails");
    let ports = 0;
    const failing: IronicDriver = new Proxy(ironic, {
      get(target, property, receiver) {
        if (property === "withContext") return () => failing;
        if (property === "createPort") {
          return async (...args: Parameters<IronicDriver["createPort"]>) => {
            ports += 1;
            if (ports === 3) throw new Error("injected: port create failed");
            return target.createPort(...args);
          };
        }
        return Reflect.get(target, property, receiver);
      },
    });

    const error = await service(failing)
      .register(node.uuid, options(), context())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OperationFailedError);
    expect((error as Error).message).toContain("creating the Ironic port");
    expect((error as Error).message).toContain("rolled back");
    expect(ports).toBe(3);
    await expectNothingLeft(node);
  });

  it("fails the operation, never the node's record, when the Ironic node vanishes before manage", async () => {
    const node = await composedNode("vanishes-midway");
    // Someone deletes the new Ironic node just before Valence asks Ironic to manage it: Ironic answers 404.
    const vanishing: IronicDriver = new Proxy(ironic, {
      get(target, property, receiver) {
        if (property === "withContext") return () => vanishing;
        if (property === "setProvisionState") {
          return async (...args: Parameters<IronicDriver["setProvisionState"]>) => {
            await target.deleteNode(args[0]);
            return target.setProvisionState(...args);
          };
        }
        return Reflect.get(target, property, receiver);
      },
    });

    const result = await service(vanishing).register(node.uuid, options({ manage: true }), context());

    const operation = await new DynamoOperationRepository(table.db, table.tableName).get(
      result.operation?.id as string,
    );
    expect(operation).toMatchObject({ state: "failed", outcome: { code: "IronicError" } });
    expect(operation?.outcome?.detail).toMatch(/could not be found/i);
    expect((await ironic.findNodes()).filter((each) => each.name === "vanishes-midway")).toEqual([]);
    // The node is free for the operator (or the reconciler) to settle.
    expect(await nodes.get(node.uuid)).toMatchObject({ operation: null, intent: null });
  });

  it("fails the operation OperationTimeout when its deadline passes before Ironic reaches manageable", async () => {
    const node = await composedNode("wait-runs-out");
    // Ironic never starts the transition, so the real wait on the real Ironic runs out.
    const stuck: IronicDriver = new Proxy(ironic, {
      get(target, property, receiver) {
        if (property === "withContext") return () => stuck;
        if (property === "setProvisionState") return async () => undefined;
        return Reflect.get(target, property, receiver);
      },
    });

    const result = await service(stuck).register(
      node.uuid,
      options({ manage: true, wait_timeout: 1 }),
      context(),
    );

    const operation = await new DynamoOperationRepository(table.db, table.tableName).get(
      result.operation?.id as string,
    );
    expect(operation).toMatchObject({ state: "failed", outcome: { code: "OperationTimeout" } });
    // Failed while it waited, or skipped when the deadline had passed before the step began (a slow machine).
    expect(["failed", "skipped"]).toContain(operation?.steps[0]?.state);
    // A wait that ran out is no failed verification: the registration stands, as Ironic left it.
    const ironicNode = await ironic.getNode(result.node.ironic_node_uuid as string);
    expect(ironicNode.provision_state).toBe("enroll");
    expect(await nodes.get(node.uuid)).toMatchObject({ managed_by: "ironic", operation: null });
    await ironic.deleteNode(ironicNode.uuid);
  });

  it("rolls back when Ironic cannot verify the BMC on manage (wrong password), reporting Ironic's reason", async () => {
    const node = await composedNode("bad-bmc-password");
    // The pod manager answers our reads, but the password Ironic gets is wrong.
    const wrongForIronic = new (class extends PodManagerSessions {
      override withLateClose<T>(
        podm: Parameters<PodManagerSessions["withLateClose"]>[0],
        requestId: string | undefined,
        work: Parameters<PodManagerSessions["withLateClose"]>[2],
      ) {
        return super.withLateClose(podm, requestId, (client, credentials) =>
          work(client, { ...credentials, password: "not-the-password" }),
        ) as Promise<{ result: T; closed: Promise<void> }>;
      }
    })(
      new DynamoPodManagerRepository(table.db, table.tableName),
      new MemorySecrets({ username: "admin", password: PASSWORD }),
      localClient,
    );

    const result = await service(ironic, wrongForIronic).register(
      node.uuid,
      options({ manage: true, wait_timeout: 60 }),
      context(),
    );

    const operation = await new DynamoOperationRepository(table.db, table.tableName).get(
      result.operation?.id as string,
    );
    expect(operation).toMatchObject({ state: "failed", outcome: { code: "VerificationFailed" } });
    // Ironic's own reason, and what was undone.
    expect(operation?.outcome?.detail).toContain("rolled back: deleted Ironic node");
    expect(operation?.steps[0]?.last_error).toBeTruthy();
    expect(JSON.stringify(operation)).not.toContain("not-the-password");
    await expectNothingLeft(node);
  });

  it("fails with a 502 naming the pod manager when it is unreachable, creating nothing", async () => {
    const node = await composedNode("podm-down");
    emulator.switches.latencyMs = 0;
    const unreachable = new PodManagerSessions(
      {
        get: async () => ({
          uuid: podmId,
          name: "gone",
          url: `http://127.0.0.1:${await freePort()}`,
          driver: "redfish",
          verify_ca: false,
          status: "online",
          username: "admin",
          credentials_ref: "ref",
          created_at: "",
          updated_at: "",
          version: 1,
        }),
      } as never,
      new MemorySecrets({ username: "admin", password: PASSWORD }),
      localClient,
    );

    const error = await service(ironic, unreachable)
      .register(node.uuid, options(), context())
      .catch((e: unknown) => e);

    expect(toErrorBody(error, "req-podm")).toMatchObject({ status: 502, code: "PodManagerUnreachable" });
    await expectNothingLeft(node);
  });

  it("registers only the boot NIC with ports=boot, and skips a disabled NIC", async () => {
    const node = await composedNode("boot-only");
    const [first, second] = node.hardware.nics;
    emulator.switches.disabledMacs.add(first?.mac as string);
    try {
      const { node: registered } = await service(ironic).register(
        node.uuid,
        options({ ports: "boot" }),
        context(),
      );
      const ports = await ironic.listPorts({ node_uuid: registered.ironic_node_uuid as string });
      expect(ports.map((p) => [p.address, p.pxe_enabled])).toEqual([[second?.mac, true]]);
      expect(registered.hardware.nics.find((nic) => nic.mac === first?.mac)?.enabled).toBe(false);
    } finally {
      emulator.switches.disabledMacs.clear();
    }
  });
  /** An Ironic driver whose construction fails once (a misconfiguration, a Keystone or Secrets Manager blip). */
  function failingOnce(): () => Promise<IronicDriver> {
    let calls = 0;
    return async () => {
      calls += 1;
      if (calls === 1) throw new IronicConfigError("endpoint: is required for auth_type none");
      return ironic;
    };
  }

  it("clears the register's intent when the Ironic driver cannot be built, so the next register is not busy", async () => {
    const node = await composedNode("driver-fails-register");
    const registration = serviceWith(failingOnce());

    const error = await registration.register(node.uuid, options(), context()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(IronicConfigError);
    expect(error).not.toBeInstanceOf(NodeBusyError);
    await expectNothingLeft(node);
    const { node: registered } = await registration.register(node.uuid, options(), context());
    expect(registered).toMatchObject({ managed_by: "ironic", intent: null });
    await registration.unregister(node.uuid, { force: false }, context());
  });

  it("clears the unregister's intent when the Ironic driver cannot be built, so the next unregister is not busy", async () => {
    const node = await composedNode("driver-fails-unregister");
    const { node: registered } = await service(ironic).register(node.uuid, options(), context());
    const ironicNodeUuid = registered.ironic_node_uuid as string;
    const unregistration = serviceWith(failingOnce());

    const error = await unregistration
      .unregister(node.uuid, { force: false }, context())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(IronicConfigError);
    expect(await nodes.get(node.uuid)).toMatchObject({ managed_by: "ironic", intent: null });
    expect((await ironic.getNode(ironicNodeUuid)).uuid).toBe(ironicNodeUuid);
    const { node: unregistered } = await unregistration.unregister(node.uuid, { force: false }, context());
    expect(unregistered).toMatchObject({ managed_by: "valence", ironic_node_uuid: null, intent: null });
    await expectNothingLeft(node);
  });
});
