import { config } from "../config.ts";
import { RegistrationService } from "../nodes/registration-service.ts";
import { type EnrollmentDeps, EnrollmentService } from "../operations/enrollment.ts";
import { runLifecycle } from "../operations/lifecycle.ts";
import type { OperationRepository } from "../operations/repository.ts";
import { OperationService } from "../operations/service.ts";
import { eventPublisherFor } from "./events.ts";
import { lifecycleDepsFor, operationRepositoryFor, operationServiceFor } from "./operations.ts";
import { podManagerSessionsFor } from "./pod-managers.ts";
import { nodeRepositoryFor, nodeServiceFor, once, podManagerRepositoryFor } from "./store.ts";
import { unregistrationDeps } from "./unregistration.ts";

/** How long one node's register may take inside the workflow (the Lambda's remaining time on the API path). */
const REGISTER_BUDGET_MS = 120_000;

/**
 * A node's durable waits inside an enrollment: doubling to 10 s, not the single operation's 60 s, so a node whose
 * cleaning ends just after a check is not left waiting up to a minute (a rack's wall time is its slowest node's).
 * The checks of a rack's nodes share the enrollment's invocations.
 */
const NODE_WAIT = { firstDelayMs: 2_000, maxDelayMs: 10_000 };

/** `POST /v1/nodes/register`: checks the request and starts the enrollment's workflow. */
export const enrollmentServiceFor = /* @__PURE__ */ once(
  (settings) =>
    new EnrollmentService({
      operations: operationRepositoryFor(settings),
      finder: nodeServiceFor(settings),
      nodes: nodeRepositoryFor(settings),
      podManagers: podManagerRepositoryFor(settings),
      launch: (operation) => operationServiceFor(settings).launch(operation),
      defaultDeadlineSeconds: settings.VALENCE_OPERATION_DEADLINE_SECONDS,
    }),
);

/** The operations as a register inside enrollment `parentId` creates them: marked with the enrollment. */
function childOperations(operations: OperationRepository, parentId: string): OperationRepository {
  return {
    get: (id) => operations.get(id),
    listByNode: (uuid, query) => operations.listByNode(uuid, query),
    listActive: (query) => operations.listActive(query),
    update: (id, guard, transition) => operations.update(id, guard, transition),
    create: (operation) => operations.create({ ...operation, parent_id: parentId }),
  };
}

/**
 * What the enrollment workflow runs against: the single register (its operation recorded as the enrollment's
 * child and not started, since the enrollment's own execution runs it) and the lifecycle workflow.
 */
export const enrollmentDepsFor = /* @__PURE__ */ once(async (settings): Promise<EnrollmentDeps> => {
  const lifecycle = await lifecycleDepsFor(settings);
  const nodes = nodeRepositoryFor(settings);
  return {
    operations: operationRepositoryFor(settings),
    nodes,
    events: eventPublisherFor(settings),
    register: async (node, options, enrollment) => {
      const registration = new RegistrationService({
        ...unregistrationDeps(settings),
        sessions: podManagerSessionsFor(settings),
        hardwareRules: settings.VALENCE_HARDWARE_RULES,
        operations: new OperationService({
          operations: childOperations(operationRepositoryFor(settings), enrollment.id),
          nodes,
          finder: nodeServiceFor(settings),
          starter: { start: async () => undefined },
        }),
      });
      const began = Date.now();
      const { node: registered, operation } = await registration.register(node.node_uuid, options, {
        requestId: enrollment.request_id,
        principal: enrollment.principal,
        remainingMs: () => REGISTER_BUDGET_MS - (Date.now() - began),
      });
      return { operationId: operation?.id ?? null, ironicNodeUuid: registered.ironic_node_uuid };
    },
    runNodeOperation: (input, ctx) => runLifecycle(input, ctx, { ...lifecycle, durableWait: NODE_WAIT }),
  };
});

export const enrollmentService = () => enrollmentServiceFor(config());
export const enrollmentDeps = () => enrollmentDepsFor(config());
