import { OperationNotFoundError, OperationStateError, VersionConflictError } from "../errors.ts";
import { operationFinished, operationStarted } from "../events/build.ts";
import { type EventPublisher, publishQuietly } from "../events/publisher.ts";
import { isFinalState, type Operation } from "./model.ts";
import type { OperationRepository } from "./repository.ts";
import { cancelRequested, type OperationTransition } from "./transitions.ts";

/**
 * Writes `transition(operation)`, re-reading (`load`) and trying again when someone else (a cancel) wrote first. A
 * transition that no longer applies to the operation re-read (it ended meanwhile) is not written.
 */
export async function writeTransition(
  operations: Pick<OperationRepository, "update">,
  load: () => Promise<Operation>,
  operation: Operation,
  transition: (current: Operation) => OperationTransition | undefined,
  onWritten: () => void = () => {},
): Promise<Operation> {
  let current = operation;
  for (let attempt = 0; ; attempt++) {
    const changes = transition(current);
    if (!changes) return current;
    try {
      const written = await operations.update(current.id, { version: current.version }, changes);
      onWritten();
      return written;
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= 5) throw error;
      current = await load();
      if (isFinalState(current.state)) return current;
    }
  }
}

/** The operation as its events name it. */
export function eventOperation(operation: Operation) {
  return {
    id: operation.id,
    kind: operation.kind,
    node_uuid: operation.node_uuid,
    node_name: operation.node_name,
  };
}

/** What an ended operation's Operation Finished says of Ironic: its provision state and last error, when known. */
export interface EndDetails {
  provisionState?: string | null;
  lastError: string | null;
}

/** By default an operation ends with its own outcome's detail as the error, when it failed. */
const outcomeDetails = (ended: Operation): EndDetails => ({
  lastError: ended.state === "failed" ? (ended.outcome?.detail ?? null) : null,
});

/**
 * Writes a transition that ends an operation (`write` calls its `onWritten` when its write landed) and publishes
 * Operation Finished only when this very write ended it: not when the operation had ended already (a replay, a
 * race with a cancel).
 */
export async function writeEnd(
  write: (onWritten: () => void) => Promise<Operation>,
  events: EventPublisher | undefined,
  at: Date,
  details: (ended: Operation) => EndDetails = outcomeDetails,
): Promise<Operation> {
  let wrote = false;
  const ended = await write(() => {
    wrote = true;
  });
  if (wrote && isFinalState(ended.state)) {
    await publishQuietly(events, [
      operationFinished({
        operation: eventOperation(ended),
        outcome: ended.state as "succeeded" | "failed" | "cancelled",
        actor: ended.principal,
        requestId: ended.request_id,
        at,
        ...details(ended),
      }),
    ]);
  }
  return ended;
}

/**
 * `pending` → `running`, once: a pending operation is written started (`start`) and Operation Started published.
 * The operation as it then stands, or `undefined` when it had ended already (a replay after its end).
 */
export async function startOnce(
  operation: Operation,
  start: (operation: Operation) => Promise<Operation>,
  events: EventPublisher | undefined,
  now: () => Date,
): Promise<Operation | undefined> {
  if (isFinalState(operation.state)) return undefined;
  if (operation.state !== "pending") return operation;
  const running = await start(operation);
  await publishQuietly(events, [
    operationStarted({
      operation: eventOperation(running),
      actor: running.principal,
      requestId: running.request_id,
      at: now(),
    }),
  ]);
  return running;
}

/**
 * Asks operation `id` to stop (`cancelling`): the workflow aborts in Ironic where Ironic allows it, otherwise it
 * stops at the next step boundary. Cancelling twice is fine; cancelling an ended one throws `OperationStateError`.
 */
export async function requestCancel(
  operations: Pick<OperationRepository, "get" | "update">,
  id: string,
  now: Date,
): Promise<Operation> {
  for (let attempt = 0; ; attempt++) {
    const operation = await operations.get(id);
    if (!operation) throw new OperationNotFoundError(id);
    if (operation.state === "cancelling") return operation;
    if (isFinalState(operation.state))
      throw new OperationStateError(id, `it already ended ${operation.state}; there is nothing to cancel`);
    try {
      return await operations.update(id, { version: operation.version }, cancelRequested(operation, now));
    } catch (error) {
      // The workflow wrote meanwhile (progress): read again.
      if (!(error instanceof VersionConflictError) || attempt >= 5) throw error;
    }
  }
}

/**
 * An enrollment's nodes under way are operations of their own: when the enrollment is cancelled, each of them is
 * asked to stop too (those that ended meanwhile are left as they ended).
 */
export async function cancelNodesUnderWay(
  operations: Pick<OperationRepository, "get" | "update">,
  enrollment: Operation,
  now: Date,
): Promise<void> {
  const underWay = (enrollment.nodes ?? []).flatMap((node) =>
    node.operation_id && node.state === "running" ? [node.operation_id] : [],
  );
  await Promise.all(underWay.map((id) => cancelUnlessEnded(operations, id, now)));
}

/** `requestCancel`, taking an operation that already ended as nothing to do. */
export async function cancelUnlessEnded(
  operations: Pick<OperationRepository, "get" | "update">,
  id: string,
  now: Date,
): Promise<void> {
  try {
    await requestCancel(operations, id, now);
  } catch (error) {
    if (!(error instanceof OperationStateError)) throw error;
  }
}
