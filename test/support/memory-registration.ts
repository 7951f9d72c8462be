import { isDeepStrictEqual } from "node:util";
import { NodeNameConflictError, VersionConflictError } from "../../lib/errors.ts";
import type { HistoryEvent, NewHistoryEvent, NodeHistory } from "../../lib/nodes/history.ts";
import type { NewNode, Node } from "../../lib/nodes/model.ts";
import type { NodeRepository, UpdateGuard } from "../../lib/nodes/repository.ts";
import { NodeService } from "../../lib/nodes/service.ts";
import type { Transition } from "../../lib/nodes/transitions.ts";
import type { PodManager } from "../../lib/podmanagers/model.ts";
import type { PodManagerRepository } from "../../lib/podmanagers/repository.ts";
import { PodManagerSessions } from "../../lib/podmanagers/sessions.ts";
import type { ComposedSystem, PodManagerClient } from "../../lib/redfish/index.ts";
import type { SecretStore } from "../../lib/secrets/store.ts";

/** Nodes in memory with the repository's guards, `acceptLanded` included; `failUpdate` injects a failure. */
export class MemoryNodeRepository implements NodeRepository {
  readonly items = new Map<string, Node>();
  /** Fails the next updates that match: `before` writes nothing, `after` writes and loses the answer. */
  failUpdate: { at: "before" | "after"; when?: (changes: Transition) => boolean } | undefined;

  async create(node: NewNode): Promise<Node> {
    if ([...this.items.values()].some((each) => each.name === node.name))
      throw new NodeNameConflictError(node.name);
    const at = new Date().toISOString();
    const created: Node = {
      ...node,
      intent: null,
      registered_at: null,
      created_at: at,
      updated_at: at,
      version: 1,
    };
    this.items.set(node.uuid, created);
    return structuredClone(created);
  }
  async get(uuid: string) {
    const node = this.items.get(uuid);
    return node && structuredClone(node);
  }
  async findByName(name: string) {
    const node = [...this.items.values()].find((each) => each.name === name);
    return node && structuredClone(node);
  }
  async list() {
    return { items: [...this.items.values()].map((node) => structuredClone(node)) };
  }
  async update(uuid: string, guard: UpdateGuard, changes: Transition): Promise<Node> {
    const fault =
      this.failUpdate && (!this.failUpdate.when || this.failUpdate.when(changes))
        ? this.failUpdate
        : undefined;
    if (fault?.at === "before") throw new Error("injected: the store is unavailable");
    try {
      const current = this.items.get(uuid);
      if (!current || current.version !== guard.version) throw new VersionConflictError(uuid);
      if (guard.managed_by && current.managed_by !== guard.managed_by) throw new VersionConflictError(uuid);
      if (guard.noIntent && current.intent) throw new VersionConflictError(uuid);
      const next: Node = {
        ...current,
        ...changes,
        version: current.version + 1,
        updated_at: new Date().toISOString(),
      };
      this.items.set(uuid, next);
      if (fault?.at === "after") throw new Error("injected: the answer was lost");
      return structuredClone(next);
    } catch (error) {
      if (!guard.acceptLanded) throw error;
      const current = this.items.get(uuid);
      const landed =
        current?.version === guard.version + 1 &&
        Object.entries(changes).every(([key, value]) => isDeepStrictEqual(current[key as keyof Node], value));
      if (!landed || !current) throw error;
      return structuredClone(current);
    }
  }
  async delete(uuid: string) {
    this.items.delete(uuid);
  }
  async countByPodManager(podmId: string) {
    return [...this.items.values()].filter((node) => node.podm_id === podmId).length;
  }
}

export class MemoryHistory implements NodeHistory {
  readonly events: (NewHistoryEvent & { node_uuid: string; id: string })[] = [];
  async append(nodeUuid: string, event: NewHistoryEvent) {
    const id = String(this.events.length + 1);
    this.events.push({ ...event, node_uuid: nodeUuid, id });
    return id;
  }
  async remove(nodeUuid: string, id: string) {
    const at = this.events.findIndex((event) => event.node_uuid === nodeUuid && event.id === id);
    if (at >= 0) this.events.splice(at, 1);
  }
  async list() {
    return { items: [] as HistoryEvent[] };
  }
  async deleteAll() {}
}

export const MEMORY_PODM: PodManager = {
  uuid: "0b0e7a0c-5f54-4b54-8f53-3f0c8b7d9e01",
  name: "podm",
  url: "http://podm.example",
  driver: "redfish",
  verify_ca: true,
  status: "online",
  username: "admin",
  credentials_ref: "ref",
  created_at: "",
  updated_at: "",
  version: 1,
};

/** Pod-manager sessions over one fixed system; `reads` counts the system reads, `closed` the logouts. */
export function memorySessions(system: () => ComposedSystem) {
  const counters = { reads: 0, closed: 0 };
  const podManagers = { get: async () => MEMORY_PODM } as unknown as PodManagerRepository;
  const secrets: SecretStore = {
    put: async () => "ref",
    get: async () => ({ username: "admin", password: "s3cret-bmc" }),
    delete: async () => undefined,
  };
  const client = (): PodManagerClient => ({
    probe: async () => ({}),
    listComposedSystems: async () => [],
    getSystem: async () => {
      counters.reads += 1;
      return system();
    },
    compose: async () => system(),
    decompose: async () => undefined,
    reset: async () => undefined,
    setBoot: async () => undefined,
    close: async () => {
      counters.closed += 1;
    },
  });
  return { sessions: new PodManagerSessions(podManagers, secrets, client), counters };
}

export function finderOf(nodes: NodeRepository) {
  return new NodeService(nodes);
}
