import { NodeNotFoundError } from "../errors.ts";
import type { Node } from "./model.ts";
import type { NodeListQuery, NodePage, NodeRepository } from "./repository.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads of nodes shared by every function that takes a node `{id}`. */
export class NodeService {
  constructor(private readonly repository: NodeRepository) {}

  /** A node by uuid or by name, as Valence's clients address them. */
  async find(id: string): Promise<Node> {
    const node = UUID.test(id) ? await this.repository.get(id.toLowerCase()) : undefined;
    const found = node ?? (await this.repository.findByName(id));
    if (!found) throw new NodeNotFoundError(id);
    return found;
  }

  list(query: NodeListQuery): Promise<NodePage> {
    return this.repository.list(query);
  }
}
