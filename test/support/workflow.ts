import type { ProvisionTarget } from "../../lib/ironic/index.ts";
import type { WaitCheck, WorkflowContext } from "../../lib/operations/lifecycle.ts";
import { MemoryIronic } from "./memory-ironic.ts";

/**
 * An in-memory Ironic whose `provide` cleans: the node waits in `clean wait` (target `available`) until the test
 * finishes or fails cleaning; `abort` from `clean wait` ends in `clean failed`, as Ironic does.
 */
export class CleaningIronic extends MemoryIronic {
  override async setProvisionState(ident: string, target: ProvisionTarget): Promise<void> {
    const node = this.nodes.get(ident);
    if (node && target === "provide" && node.provision_state === "manageable") {
      this.calls.push({ method: "setProvisionState", args: [ident, target] });
      node.provision_state = "clean wait";
      node.target_provision_state = "available";
      node.last_error = null;
      node.provision_updated_at = new Date().toISOString();
      return;
    }
    if (node && target === "abort" && node.provision_state === "clean wait") {
      this.calls.push({ method: "setProvisionState", args: [ident, target] });
      node.provision_state = "clean failed";
      node.target_provision_state = null;
      node.last_error = "By request, the clean operation was aborted";
      node.provision_updated_at = new Date().toISOString();
      return;
    }
    return super.setProvisionState(ident, target);
  }

  finishCleaning(uuid: string, error?: string): void {
    const node = this.nodes.get(uuid);
    if (!node) throw new Error(`no node ${uuid}`);
    node.provision_state = error ? "clean failed" : "available";
    node.target_provision_state = null;
    node.last_error = error ?? null;
  }
}

/**
 * An in-process workflow engine: steps run at once, retried when they throw (as the SDK retries a step);
 * `replay` names steps whose first run is thrown away after its side effect, as when a Lambda dies before the
 * checkpoint. `onWait` runs before each check of a durable wait after the first.
 */
export class FakeWorkflowContext implements WorkflowContext {
  readonly ran: string[] = [];
  readonly waits: string[] = [];
  replay = new Set<string>();
  onWait: (check: number) => void | Promise<void> = () => {};

  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.ran.push(name);
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await fn();
        if (this.replay.delete(name)) throw new Error(`lost the checkpoint of ${name}`);
        return structuredClone(result);
      } catch (error) {
        if (attempt >= 3) throw error;
        this.ran.push(name);
      }
    }
  }

  async waitUntil<T>(name: string, check: () => Promise<WaitCheck<T>>): Promise<T> {
    this.waits.push(name);
    for (let attempt = 0; attempt < 100; attempt++) {
      if (attempt > 0) await this.onWait(attempt);
      const result = await check();
      if (result.done) return structuredClone(result.value);
    }
    throw new Error(`${name} never ended`);
  }
}
