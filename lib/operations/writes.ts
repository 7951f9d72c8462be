import { VersionConflictError } from "../errors.ts";
import { operationFinished, operationStarted } from "../events/build.ts";
import { type EventPublisher, publishQuietly } from "../events/publisher.ts";
import { isFinalState, type Operation } from "./model.ts";
import type { OperationRepository } from "./repository.ts";
import type { OperationTransition } from "./transitions.ts";

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
