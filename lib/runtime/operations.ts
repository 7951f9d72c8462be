import { config } from "../config.ts";
import { DynamoOperationRepository } from "../operations/dynamo-repository.ts";
import type { LifecycleDeps } from "../operations/lifecycle.ts";
import { eventPublisherFor } from "./events.ts";
import { ironicDriverFor } from "./ironic.ts";
import { documentClientFor, nodeRepositoryFor, once } from "./store.ts";

/** Operations in the Valence table. */
export const operationRepositoryFor = /* @__PURE__ */ once(
  (settings) => new DynamoOperationRepository(documentClientFor(settings), settings.VALENCE_TABLE_NAME),
);

/** What the lifecycle workflow runs against: the operations, the node's Ironic uuid, Ironic, the event sink. */
export const lifecycleDepsFor = /* @__PURE__ */ once(
  async (settings): Promise<LifecycleDeps> => ({
    operations: operationRepositoryFor(settings),
    ironicNodeOf: async (nodeUuid) => (await nodeRepositoryFor(settings).get(nodeUuid))?.ironic_node_uuid,
    ironic: await ironicDriverFor(settings),
    events: eventPublisherFor(settings),
  }),
);

export const operationRepository = () => operationRepositoryFor(config());
export const lifecycleDeps = () => lifecycleDepsFor(config());
