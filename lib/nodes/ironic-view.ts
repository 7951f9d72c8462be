import { type IronicNode, IronicNodeNotFoundError } from "../ironic/index.ts";
import type { IronicNodesPort } from "./ironic-port.ts";
import type { Node } from "./model.ts";
import type { NodeService } from "./service.ts";

/** Live Ironic fields shown by `GET /v1/nodes/{id}?refresh=true`. */
export interface IronicView {
  provision_state: string;
  power_state: string | null;
  maintenance: boolean;
  last_error: string | null;
}

/** Who asks and how long the caller has left: what an Ironic read on a request's behalf needs. */
export interface ReadContext {
  requestId: string;
  remainingMs: () => number;
}

/** The Ironic node by uuid or name; undefined when Ironic has none. */
export async function findIronicNode(
  ironic: IronicNodesPort,
  ident: string,
): Promise<IronicNode | undefined> {
  try {
    return await ironic.getNode(ident);
  } catch (error) {
    if (error instanceof IronicNodeNotFoundError) return undefined;
    throw error;
  }
}

export function ironicViewOf(node: IronicNode): IronicView {
  return {
    provision_state: node.provision_state,
    power_state: node.power_state,
    maintenance: node.maintenance,
    last_error: node.last_error,
  };
}

/** The Ironic client for one request: its request id sent along, its deadline the caller's. */
export async function ironicFor(
  ironic: () => Promise<IronicNodesPort>,
  context: ReadContext,
): Promise<IronicNodesPort> {
  return (await ironic()).withContext({
    requestId: `req-${context.requestId.match(/^[0-9a-f-]{36}$/i) ? context.requestId : crypto.randomUUID()}`,
    deadline: () => context.remainingMs() - 2_000,
  });
}

/**
 * A node with Ironic's live state when it is registered. Apart from the registration service on purpose: the
 * function that shows a node reads Ironic, it never registers, so it does not carry the saga or the event
 * publisher (bundle size, cold start).
 */
export class NodeIronicView {
  constructor(private readonly deps: { finder: NodeService; ironic: () => Promise<IronicNodesPort> }) {}

  async show(id: string, context: ReadContext): Promise<{ node: Node; ironic?: IronicView | null }> {
    const node = await this.deps.finder.find(id);
    if (!node.ironic_node_uuid) return { node };
    const live = await findIronicNode(await ironicFor(this.deps.ironic, context), node.ironic_node_uuid);
    return { node, ironic: live ? ironicViewOf(live) : null };
  }
}
