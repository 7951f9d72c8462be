import { lambdaOperationStarter } from "../aws/lambda-starter.ts";
import { config } from "../config.ts";
import { ConfigurationError } from "../errors.ts";
import { syncHardwareForOperation } from "../nodes/hardware-sync.ts";
import { rollBackEnrollment, unregisterForOperation } from "../nodes/operation-steps.ts";
import { DynamoOperationRepository } from "../operations/dynamo-repository.ts";
import type { LifecycleDeps } from "../operations/lifecycle.ts";
import { OperationService, type OperationStarter } from "../operations/service.ts";
import { eventPublisherFor } from "./events.ts";
import { ironicDriverFor } from "./ironic.ts";
import { defaultProvider } from "./lambda-credentials.ts";
import { documentClientFor, nodeHistoryFor, nodeRepositoryFor, nodeServiceFor, once } from "./store.ts";

/** Operations in the Valence table. */
export const operationRepositoryFor = /* @__PURE__ */ once(
  (settings) =>
    new DynamoOperationRepository(documentClientFor(settings), settings.VALENCE_TABLE_NAME, {
      defaultDeadlineMs: settings.VALENCE_OPERATION_DEADLINE_SECONDS * 1000,
    }),
);

let localStarter: OperationStarter | undefined;

/**
 * Where operations run when no workflow function is deployed: `npm start` and the tests hand in the durable SDK's
 * local runner (`local/operation-runner.ts`), which runs the very handler Lambda runs.
 */
export function useLocalOperationStarter(starter: OperationStarter | undefined): void {
  localStarter = starter;
}

/** The deployed workflow (an asynchronous Invoke of its alias), else the local runner. */
export const operationStarterFor = /* @__PURE__ */ once((settings): OperationStarter => {
  const functionArn = settings.VALENCE_WORKFLOW_FUNCTION;
  if (functionArn) return lambdaOperationStarter({ functionArn, credentials: defaultProvider() });
  return {
    start: (operationId) => {
      if (!localStarter)
        throw new ConfigurationError("no operation workflow: VALENCE_WORKFLOW_FUNCTION is not set");
      return localStarter.start(operationId);
    },
  };
});

/** Operations as the API starts, shows and cancels them. */
export const operationServiceFor = /* @__PURE__ */ once(
  (settings) =>
    new OperationService({
      operations: operationRepositoryFor(settings),
      nodes: nodeRepositoryFor(settings),
      finder: nodeServiceFor(settings),
      starter: operationStarterFor(settings),
    }),
);

/** What the lifecycle workflow runs against: the operations, the node's Ironic uuid, Ironic, the event sink. */
export const lifecycleDepsFor = /* @__PURE__ */ once(async (settings): Promise<LifecycleDeps> => {
  const ironic = await ironicDriverFor(settings);
  const nodes = nodeRepositoryFor(settings);
  const events = eventPublisherFor(settings);
  return {
    operations: operationRepositoryFor(settings),
    ironicNodeOf: async (nodeUuid) => (await nodes.get(nodeUuid))?.ironic_node_uuid,
    ironic,
    events,
    release: (operation) => operationServiceFor(settings).release(operation.node_uuid, operation.id),
    rollBackRegistration: (operation, reason) =>
      rollBackEnrollment(operation, reason, { nodes, ironic, history: nodeHistoryFor(settings), events }),
    unregisterNode: (operation) =>
      unregisterForOperation(operation, { nodes, ironic, history: nodeHistoryFor(settings), events }),
    syncHardware: (operation) =>
      syncHardwareForOperation(operation, {
        nodes,
        ironic,
        history: nodeHistoryFor(settings),
        hardwareRules: settings.VALENCE_HARDWARE_RULES,
      }),
  };
});

export const operationRepository = () => operationRepositoryFor(config());
export const operationService = () => operationServiceFor(config());
export const lifecycleDeps = () => lifecycleDepsFor(config());
