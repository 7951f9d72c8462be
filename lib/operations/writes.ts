import { VersionConflictError } from "../errors.ts";
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
