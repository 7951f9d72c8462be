/**
 * A saga: named steps run in order over one explicit state object, each registering the compensation of what it
 * creates. On a failure the caller runs the compensations in reverse. Every step must be safe to run again after
 * its side effect happened (a durable runner replays a step whose checkpoint was lost), so a step finds what an
 * earlier run of it created instead of creating it twice.
 */

/** Undoes one thing a step created. */
export interface Compensation {
  /** What it undoes, e.g. `delete-node`. */
  readonly name: string;
  /** The resource it undoes (an Ironic node or port uuid). */
  readonly target: string;
  undo(): Promise<void>;
}

/** What a running step may tell the saga. */
export interface SagaScope {
  /** What the saga is doing now, in words: a failure reads "failed while <description>". */
  doing(description: string): void;
  /** Registers the undo of something just created. */
  compensate(compensation: Compensation): void;
}

export interface SagaStep<S> {
  readonly name: string;
  /** Runs only when this holds (e.g. `create-node` when nothing is to be adopted). */
  when?(state: S): boolean;
  run(state: S, scope: SagaScope): Promise<void>;
}

export type SagaOutcome =
  | { ok: true; steps: string[] }
  | {
      ok: false;
      /** The step that failed. */
      step: string;
      /** The last description a step gave before the failure. */
      doing: string;
      error: unknown;
    };

export interface RollbackOutcome {
  /** Every compensation ran (or there were none). */
  complete: boolean;
  undone: Compensation[];
  failed?: { compensation: Compensation; error: unknown };
}

export class Saga<S> {
  private readonly registered: Compensation[] = [];
  private description: string;

  constructor(
    private readonly steps: readonly SagaStep<S>[],
    initially: string,
  ) {
    this.description = initially;
  }

  /** What the saga registered to undo, in the order things were created. */
  get compensations(): readonly Compensation[] {
    return this.registered;
  }

  /** Runs the steps in order until one fails; nothing is undone here (see `rollback`). */
  async run(state: S): Promise<SagaOutcome> {
    const scope: SagaScope = {
      doing: (description) => {
        this.description = description;
      },
      compensate: (compensation) => {
        this.registered.push(compensation);
      },
    };
    const ran: string[] = [];
    for (const step of this.steps) {
      try {
        if (step.when && !step.when(state)) continue;
        await step.run(state, scope);
      } catch (error) {
        return { ok: false, step: step.name, doing: this.description, error };
      }
      ran.push(step.name);
    }
    return { ok: true, steps: ran };
  }

  /** Runs the compensations in reverse, stopping at the first that fails (the rest is the reconciler's). */
  async rollback(): Promise<RollbackOutcome> {
    const undone: Compensation[] = [];
    for (const compensation of [...this.registered].reverse()) {
      try {
        await compensation.undo();
      } catch (error) {
        return { complete: false, undone, failed: { compensation, error } };
      }
      undone.push(compensation);
    }
    return { complete: true, undone };
  }
}
