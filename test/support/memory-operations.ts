import { OperationNotFoundError, VersionConflictError } from "../../lib/errors.ts";
import {
  DEFAULT_OPERATION_DEADLINE_MS,
  initialOperation,
  isActiveState,
  type NewOperation,
  type Operation,
} from "../../lib/operations/model.ts";
import type {
  OperationListQuery,
  OperationPage,
  OperationRepository,
  OperationUpdateGuard,
} from "../../lib/operations/repository.ts";
import type { OperationTransition } from "../../lib/operations/transitions.ts";

/**
 * Operations in memory, with the store's contract (a conditional update per transition, `version` bumped by the
 * store, `VersionConflictError` on a stale guard), for unit tests. `writes` logs every update written.
 */
export class MemoryOperationRepository implements OperationRepository {
  readonly operations = new Map<string, Operation>();
  readonly writes: { id: string; changes: OperationTransition }[] = [];

  constructor(private readonly now: () => Date = () => new Date()) {}

  async create(input: NewOperation): Promise<Operation> {
    if (this.operations.has(input.id)) throw new VersionConflictError(`operation ${input.id}`);
    const operation = initialOperation(input, this.now(), DEFAULT_OPERATION_DEADLINE_MS);
    this.operations.set(operation.id, operation);
    return structuredClone(operation);
  }

  async get(id: string): Promise<Operation | undefined> {
    const operation = this.operations.get(id);
    return operation && structuredClone(operation);
  }

  async listByNode(nodeUuid: string, query: OperationListQuery): Promise<OperationPage> {
    const items = [...this.operations.values()].filter((each) => each.node_uuid === nodeUuid).reverse();
    return { items: items.slice(0, query.limit).map((each) => structuredClone(each)) };
  }

  async listActive(query: OperationListQuery): Promise<OperationPage> {
    const items = [...this.operations.values()].filter((each) => isActiveState(each.state));
    return { items: items.slice(0, query.limit).map((each) => structuredClone(each)) };
  }

  async update(id: string, guard: OperationUpdateGuard, changes: OperationTransition): Promise<Operation> {
    const current = this.operations.get(id);
    if (!current) throw new OperationNotFoundError(id);
    if (current.version !== guard.version) throw new VersionConflictError(`operation ${id}`);
    const written: Operation = {
      ...current,
      ...structuredClone(changes),
      version: current.version + 1,
      updated_at: this.now().toISOString(),
    };
    this.operations.set(id, written);
    this.writes.push({ id, changes });
    return structuredClone(written);
  }
}
