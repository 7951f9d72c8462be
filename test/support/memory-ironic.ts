import type {
  IronicCallContext,
  ListNodesQuery,
  WaitForProvisionStateOptions,
} from "../../lib/ironic/driver.ts";
import {
  type IronicConductor,
  type IronicDriverInfo,
  IronicDuplicateNameError,
  IronicInvalidStateError,
  IronicMacAlreadyExistsError,
  type IronicNode,
  type IronicNodeField,
  IronicNodeNotFoundError,
  type IronicPort,
  IronicPortNotFoundError,
  IronicProvisionFailedError,
  IronicProvisionTimeoutError,
  IronicRequestError,
  type JsonPatchOperation,
  type NewIronicNode,
  type NewIronicPort,
  type NodeValidation,
  type ProvisionTarget,
} from "../../lib/ironic/index.ts";
import type { IronicNodesPort } from "../../lib/nodes/ironic-port.ts";

/** States a node may be deleted from without maintenance, as Ironic allows. */
const DELETABLE = new Set([
  "enroll",
  "manageable",
  "available",
  "adopt failed",
  "inspect failed",
  "clean failed",
]);

type Method = Exclude<keyof IronicNodesPort, "withContext">;

/** A fault on the nth call of a method: `before` fails the call, `after` lets it happen and loses its answer. */
export interface MemoryFault {
  method: Method;
  /** Counted from 1 over the calls of `method` (matching `when`, if set). @default 1 */
  nth?: number;
  when?: (...args: unknown[]) => boolean;
  at: "before" | "after";
  error?: Error;
}

/**
 * An in-memory Ironic with the semantics the sagas rely on: unique names (409 DuplicateName), unique MACs (409
 * MACAlreadyExists), nodes found by uuid or name (404 NodeNotFound), provision states `enroll` → `manageable` →
 * `available` (a `manage` fails verification when `failVerification` is set: back to `enroll` with
 * `last_error`), deletes refused outside the deletable states unless in maintenance, ports listed by node or
 * address and deleted with their node. Every call is logged in `calls`; `fail` injects faults.
 */
export class MemoryIronic implements IronicNodesPort {
  readonly nodes = new Map<string, IronicNode>();
  readonly ports = new Map<string, IronicPort>();
  /** Each node's traits, by node uuid. */
  readonly traits = new Map<string, string[]>();
  readonly calls: { method: Method; args: unknown[] }[] = [];
  /** Nodes whose `validate` fails the power and management interfaces, with Ironic's reason. */
  readonly failValidation = new Map<string, string>();
  /** Nodes whose `manage` fails BMC verification. */
  readonly failVerification = new Set<string>();
  /** The API version `apiVersion()` answers, as if negotiated. */
  version = "1.82";
  /**
   * Hardware types and the interfaces enabled for them, as the local Ironic (`local/ironic.ts`) enables them for
   * `redfish` (its `fake` interfaces go to `fake-hardware` only).
   */
  readonly drivers = new Map<string, { boot: string[]; deploy: string[] }>([
    ["redfish", { boot: ["pxe", "redfish-virtual-media"], deploy: ["direct", "ramdisk"] }],
  ]);
  private readonly faults: (MemoryFault & { seen: number })[] = [];

  withContext(_context: IronicCallContext): IronicNodesPort {
    return this;
  }

  fail(fault: MemoryFault): void {
    this.faults.push({ ...fault, seen: 0 });
  }

  /** The calls of one method, in order. */
  callsOf(method: Method): unknown[][] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }

  /** Not logged in `calls`: the HTTP driver negotiates once and answers from its cache after. */
  async apiVersion(): Promise<string> {
    return this.version;
  }

  /** The conductors Ironic has registered: one in the default group, as the local Ironic runs. */
  readonly conductors: IronicConductor[] = [
    { hostname: "localhost", conductor_group: "", alive: true, drivers: ["fake-hardware", "redfish"] },
  ];

  async listConductors(): Promise<IronicConductor[]> {
    return this.call("listConductors", [], () => structuredClone(this.conductors));
  }

  async getDriver(name: string): Promise<IronicDriverInfo> {
    return this.call("getDriver", [name], () => {
      const driver = this.drivers.get(name);
      if (!driver) throw new IronicRequestError(`Ironic: Could not find the following driver(s): ${name}.`);
      return {
        name,
        enabled_boot_interfaces: [...driver.boot],
        enabled_deploy_interfaces: [...driver.deploy],
      };
    });
  }

  async getNode(ident: string, _fields?: readonly IronicNodeField[]): Promise<IronicNode> {
    return this.call("getNode", [ident], () => structuredClone(this.find(ident)));
  }

  listNodes<F extends IronicNodeField = IronicNodeField>(
    _query?: ListNodesQuery<F>,
  ): AsyncIterable<Pick<IronicNode, F>> {
    this.calls.push({ method: "listNodes", args: [_query] });
    const nodes = [...this.nodes.values()].map((node) => structuredClone(node));
    return (async function* () {
      yield* nodes;
    })();
  }

  async createNode(body: NewIronicNode): Promise<IronicNode> {
    return this.call("createNode", [body], () => {
      // As Ironic answers a caller that is not a system-scoped admin (noauth included).
      if (body.owner) {
        throw new IronicRequestError(
          "Ironic rejected POST /v1/nodes (400): Cannot create a node as a project scoped admin with an owner other than your own project.",
          { status: 400 },
        );
      }
      if (body.name && [...this.nodes.values()].some((node) => node.name === body.name)) {
        throw new IronicDuplicateNameError(`Ironic: A node with name ${body.name} already exists.`, {
          status: 409,
        });
      }
      // Fields the adapter does not model (conductor_group, owner, ...) are kept as given, as Ironic keeps them.
      const {
        name: _name,
        driver: _driver,
        driver_info: _driverInfo,
        properties: _properties,
        extra: _extra,
        resource_class: _resourceClass,
        network_interface: _networkInterface,
        ...others
      } = body;
      const node: IronicNode = {
        conductor_group: "",
        // Unset: the node follows the conductor's `[conductor] automated_clean`, as Ironic answers it.
        automated_clean: null,
        ...others,
        uuid: crypto.randomUUID(),
        name: body.name ?? null,
        driver: body.driver,
        provision_state: "enroll",
        target_provision_state: null,
        power_state: null,
        target_power_state: null,
        maintenance: false,
        maintenance_reason: null,
        last_error: null,
        // Ironic masks secrets on read.
        driver_info: Object.fromEntries(
          Object.entries(body.driver_info ?? {}).map(([key, value]) => [
            key,
            key.endsWith("password") ? "******" : value,
          ]),
        ),
        properties: { ...body.properties },
        extra: { ...body.extra },
        instance_uuid: null,
        resource_class: body.resource_class ?? null,
        network_interface: body.network_interface ?? null,
        created_at: new Date().toISOString(),
        updated_at: null,
      };
      this.nodes.set(node.uuid, node);
      return structuredClone(node);
    });
  }

  async updateNode(ident: string, patch: readonly JsonPatchOperation[]): Promise<IronicNode> {
    return this.call("updateNode", [ident, patch], () => {
      const node = this.find(ident) as unknown as Record<string, unknown>;
      for (const operation of patch) {
        const path = operation.path.split("/").slice(1);
        const key = path.pop() as string;
        let target = node;
        for (const part of path) target = target[part] as Record<string, unknown>;
        if (operation.op === "remove") {
          if (path.length === 0) target[key] = null;
          else delete target[key];
        } else {
          target[key] = operation.value;
        }
      }
      return structuredClone(node as unknown as IronicNode);
    });
  }

  async validateNode(ident: string): Promise<NodeValidation> {
    return this.call("validateNode", [ident], () => {
      const node = this.find(ident);
      const reason = this.failValidation.get(node.uuid);
      const answer = reason === undefined ? { result: true, reason: null } : { result: false, reason };
      return { power: answer, management: answer, boot: { result: true, reason: null } };
    });
  }

  /** As Ironic: every trait replaced, at most 50, each `CUSTOM_[A-Z0-9_]+` or a standard-looking name. */
  async setTraits(ident: string, traits: readonly string[]): Promise<void> {
    return this.call("setTraits", [ident, traits], () => {
      const node = this.find(ident);
      if (traits.length > 50) {
        throw new IronicRequestError(
          `Ironic: Could not modify traits for node ${node.uuid}: too many traits`,
          {
            status: 400,
          },
        );
      }
      const bad = traits.find(
        (trait) => !/^(CUSTOM_[A-Z0-9_]+|[A-Z]+_[A-Z0-9_]+)$/.test(trait) || trait.length > 255,
      );
      if (bad) throw new IronicRequestError(`Ironic: Invalid trait ${bad}`, { status: 400 });
      this.traits.set(node.uuid, [...new Set(traits)].sort());
    });
  }

  async getTraits(ident: string): Promise<string[]> {
    return this.call("getTraits", [ident], () => [...(this.traits.get(this.find(ident).uuid) ?? [])]);
  }

  async deleteNode(ident: string): Promise<void> {
    return this.call("deleteNode", [ident], () => {
      const node = this.find(ident);
      if (!node.maintenance && !DELETABLE.has(node.provision_state)) {
        throw new IronicInvalidStateError(
          `Ironic: Can not delete node ${node.uuid} while it is in state "${node.provision_state}".`,
          { status: 409 },
        );
      }
      this.nodes.delete(node.uuid);
      this.traits.delete(node.uuid);
      for (const [uuid, port] of this.ports) if (port.node_uuid === node.uuid) this.ports.delete(uuid);
    });
  }

  async listPorts(
    filter: { node_uuid?: string; address?: string; limit?: number } = {},
  ): Promise<IronicPort[]> {
    return this.call("listPorts", [filter], () =>
      [...this.ports.values()]
        .filter((port) => filter.node_uuid === undefined || port.node_uuid === filter.node_uuid)
        .filter((port) => filter.address === undefined || port.address === filter.address.toLowerCase())
        .map((port) => structuredClone(port)),
    );
  }

  async getPortByAddress(address: string): Promise<IronicPort | undefined> {
    return this.call("getPortByAddress", [address], () => {
      const port = [...this.ports.values()].find((each) => each.address === address.toLowerCase());
      return port && structuredClone(port);
    });
  }

  async createPort(body: NewIronicPort): Promise<IronicPort> {
    return this.call("createPort", [body], () => {
      const address = body.address.toLowerCase();
      if (!this.nodes.has(body.node_uuid)) {
        throw new IronicNodeNotFoundError(`Ironic: Node ${body.node_uuid} could not be found.`, {
          status: 404,
        });
      }
      if ([...this.ports.values()].some((port) => port.address === address)) {
        throw new IronicMacAlreadyExistsError(`Ironic: A port with MAC address ${address} already exists.`, {
          status: 409,
        });
      }
      const port: IronicPort = {
        uuid: crypto.randomUUID(),
        address,
        node_uuid: body.node_uuid,
        pxe_enabled: body.pxe_enabled ?? true,
        extra: { ...body.extra },
        created_at: new Date().toISOString(),
        updated_at: null,
      };
      this.ports.set(port.uuid, port);
      return structuredClone(port);
    });
  }

  async deletePort(uuid: string): Promise<void> {
    return this.call("deletePort", [uuid], () => {
      if (!this.ports.delete(uuid)) {
        throw new IronicPortNotFoundError(`Ironic: Port ${uuid} could not be found.`, { status: 404 });
      }
    });
  }

  /** Transitions complete at once: `manage` verifies the BMC, `provide` has no cleaning here. */
  async setProvisionState(
    ident: string,
    target: ProvisionTarget,
    extra?: Record<string, unknown>,
  ): Promise<void> {
    return this.call("setProvisionState", extra ? [ident, target, extra] : [ident, target], () => {
      const node = this.find(ident);
      const from = node.provision_state;
      const refuse = () => {
        throw new IronicInvalidStateError(
          `Ironic: The requested action "${target}" can not be performed on node "${node.uuid}" while it is in state "${from}".`,
          { status: 400 },
        );
      };
      if (target === "manage") {
        if (from !== "enroll" && from !== "available" && !from.endsWith("failed")) refuse();
        if (this.failVerification.has(node.uuid)) {
          node.provision_state = "enroll";
          node.last_error = "Failed to get power state for node: wrong BMC credentials";
        } else {
          node.provision_state = "manageable";
          node.last_error = null;
        }
      } else if (target === "provide") {
        if (from !== "manageable") refuse();
        node.provision_state = "available";
      } else if (target === "inspect" || target === "clean") {
        // Both start and end in manageable; here they are done at once.
        if (from !== "manageable") refuse();
      } else {
        refuse();
      }
      node.target_provision_state = null;
      node.provision_updated_at = new Date().toISOString();
    });
  }

  async setMaintenance(ident: string, reason?: string): Promise<void> {
    return this.call("setMaintenance", [ident, reason], () => {
      const node = this.find(ident);
      node.maintenance = true;
      node.maintenance_reason = reason ?? null;
    });
  }

  async clearMaintenance(ident: string): Promise<void> {
    return this.call("clearMaintenance", [ident], () => {
      const node = this.find(ident);
      node.maintenance = false;
      node.maintenance_reason = null;
      node.fault = null;
    });
  }

  async waitForProvisionState(ident: string, options: WaitForProvisionStateOptions): Promise<IronicNode> {
    return this.call("waitForProvisionState", [ident, options], () => {
      const node = this.find(ident);
      if (node.provision_state === options.target && node.target_provision_state === null) {
        return structuredClone(node);
      }
      if (node.provision_state.endsWith("failed") || node.last_error) {
        throw new IronicProvisionFailedError(
          `node ${node.uuid} is ${node.provision_state}, not ${options.target}`,
          {
            uuid: node.uuid,
            provisionState: node.provision_state,
            lastError: node.last_error,
          },
        );
      }
      throw new IronicProvisionTimeoutError(
        `node ${node.uuid} did not reach ${options.target} in time; it is ${node.provision_state}`,
      );
    });
  }

  private find(ident: string): IronicNode {
    const node = this.nodes.get(ident) ?? [...this.nodes.values()].find((each) => each.name === ident);
    if (!node)
      throw new IronicNodeNotFoundError(`Ironic: Node ${ident} could not be found.`, { status: 404 });
    return node;
  }

  private async call<T>(method: Method, args: unknown[], effect: () => T): Promise<T> {
    this.calls.push({ method, args });
    const fault = this.faults.find((each) => {
      if (each.method !== method || (each.when && !each.when(...args))) return false;
      each.seen += 1;
      return each.seen === (each.nth ?? 1);
    });
    const error = () => fault?.error ?? new Error(`injected fault on ${method} (${fault?.at})`);
    if (fault?.at === "before") throw error();
    const result = effect();
    if (fault?.at === "after") throw error();
    return result;
  }
}
