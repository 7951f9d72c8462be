import { randomUUID } from "node:crypto";
import { NodeBusyError, NodeManagedByIronicError, NodeNameConflictError } from "../errors.ts";
import { logger } from "../log.ts";
import type { PodManagerSessions } from "../podmanagers/sessions.ts";
import type { ComposedSystem } from "../redfish/index.ts";
import { compositionRecord } from "./hardware-drift.ts";
import type { NodeHistory } from "./history.ts";
import type { Node } from "./model.ts";
import type { NodeRepository } from "./repository.ts";
import type { ComposeNodeInput, ManageNodeInput, NodeActionInput } from "./schemas.ts";
import type { NodeService } from "./service.ts";
import { warnSkipped } from "./skipped.ts";
import { withIntent, withoutIntent } from "./transitions.ts";

function toNewNode(system: ComposedSystem, podmId: string, name: string, description: string) {
  return {
    uuid: randomUUID(),
    name,
    description,
    podm_id: podmId,
    index: system.index,
    resource_uri: system.resourceUri,
    managed_by: "valence" as const,
    ironic_node_uuid: null,
    hardware: system.hardware,
    // The composition the hardware was read from: the reconciler's drift check compares listings with it.
    ...(system.composition ? { composition: compositionRecord(system.composition) } : {}),
  };
}

/**
 * Nodes on their pod manager: compose, bring an existing composed system under management, decompose, and
 * power/boot actions. Every path leaves either both sides written or neither.
 */
export class CompositionService {
  constructor(
    private readonly nodes: NodeRepository,
    private readonly finder: NodeService,
    private readonly sessions: PodManagerSessions,
    private readonly history?: NodeHistory,
  ) {}

  async compose(input: ComposeNodeInput, requestId: string): Promise<Node> {
    const podm = await this.sessions.get(input.podm_id);
    // Cheap early refusal; the conditional claim in the repository is what really guarantees uniqueness.
    if (await this.nodes.findByName(input.name)) throw new NodeNameConflictError(input.name);
    return this.sessions.with(podm, requestId, async (client) => {
      const system = await client.compose({
        name: input.name,
        ...(input.description === undefined ? {} : { description: input.description }),
        ...(input.properties?.memory ? { memoryMib: input.properties.memory.capacity_mib } : {}),
        ...(input.properties?.processor ? { totalCores: input.properties.processor.total_cores } : {}),
        ...(input.properties?.processor?.model ? { processorModel: input.properties.processor.model } : {}),
        ...(input.resource_blocks ? { resourceBlocks: input.resource_blocks } : {}),
      });
      try {
        return await this.nodes.create(toNewNode(system, podm.uuid, input.name, input.description ?? ""));
      } catch (error) {
        // A composed system nobody records is leaked hardware: give it back.
        await client.decompose(system.index).catch((undoError: unknown) =>
          logger.error("could not decompose after a failed record", {
            podm_id: podm.uuid,
            index: system.index,
            error: (undoError as Error).message,
          }),
        );
        throw error;
      }
    });
  }

  async manage(input: ManageNodeInput, requestId: string): Promise<Node> {
    const podm = await this.sessions.get(input.podm_id);
    // As in compose: a taken name is refused before the pod manager is asked anything.
    if (input.name && (await this.nodes.findByName(input.name))) throw new NodeNameConflictError(input.name);
    const system = await this.sessions.with(podm, requestId, (client) => client.getSystem(input.node_index));
    warnSkipped(podm.uuid, system);
    const name = input.name ?? system.index;
    return this.nodes.create(toNewNode(system, podm.uuid, name, ""));
  }

  async decompose(id: string, requestId: string): Promise<void> {
    const node = this.assertValenceOwned(await this.finder.find(id));
    const podm = await this.sessions.get(node.podm_id);
    // Mark it first so no register can start while the hardware is being given back.
    const marked = await this.nodes.update(
      node.uuid,
      { version: node.version, managed_by: "valence", noIntent: true },
      withIntent("deleting", requestId, new Date()),
    );
    try {
      await this.sessions.with(podm, requestId, (client) => client.decompose(node.index));
    } catch (error) {
      await this.nodes.update(node.uuid, { version: marked.version }, withoutIntent());
      throw error;
    }
    await this.nodes.delete(node.uuid, { version: marked.version });
    await this.history?.deleteAll(node.uuid);
  }

  async act(id: string, action: NodeActionInput, requestId: string): Promise<void> {
    const node = this.assertValenceOwned(await this.finder.find(id));
    const podm = await this.sessions.get(node.podm_id);
    await this.sessions.with(podm, requestId, async (client) => {
      if ("Reset" in action) await client.reset(node.index, action.Reset.Type);
      else await client.setBoot(node.index, { enabled: action.Boot.Enabled, target: action.Boot.Target });
    });
  }

  private assertValenceOwned(node: Node): Node {
    if (node.managed_by === "ironic") throw new NodeManagedByIronicError(node.name);
    if (node.intent) throw new NodeBusyError(node.name, node.intent.op);
    return node;
  }
}
