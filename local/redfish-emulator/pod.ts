import { RESET_TYPES } from "../../lib/redfish/reset-types.ts";
import type { Block } from "./inventory.ts";

/** The emulator's state and rules, free of HTTP: what can be composed, and what reset and boot do. */

export type EmulatorMode = "dmtf" | "rsd" | "both";

/** A refusal with the HTTP status the Redfish API answers it with. */
export class PodError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type NodeState = "Allocated" | "Assembled" | "Failed";

export interface Composition {
  number: number;
  /** DMTF System id, `composed-<n>`; the System exists in every mode (Ironic talks to it). */
  systemId: string;
  /** RSD Node id, `<n>`; differs from the System's on purpose, as on a real PODM. */
  nodeId: string;
  name: string;
  description?: string;
  uuid: string;
  computeBlock: Block;
  driveBlocks: Block[];
  powerState: "On" | "Off";
  boot: { enabled: string; target: string; mode: string };
  nodeState: NodeState;
  origin: "dmtf" | "rsd";
}

/** Totals a request asks for; a compute block satisfies it if its own totals are at least these. */
export interface Demand {
  cores: number;
  memoryMiB: number;
  model?: string;
  instructionSet?: string;
}

export { RESET_TYPES };
export const BOOT_TARGETS = ["None", "Pxe", "Hdd", "Cd", "Usb", "BiosSetup"] as const;
export const BOOT_ENABLED = ["Once", "Continuous", "Disabled"] as const;
export const BOOT_MODES = ["Legacy", "UEFI"] as const;

/** The pod's state as JSON: compositions name their blocks by id. */
export interface PodState {
  counter: number;
  compositions: Array<
    Omit<Composition, "computeBlock" | "driveBlocks"> & { computeBlock: string; driveBlocks: string[] }
  >;
}

export class Pod {
  readonly compositions = new Map<number, Composition>();
  private counter = 0;
  private readonly resetListeners = new Set<(composition: Composition, type: string) => void>();

  constructor(readonly blocks: readonly Block[]) {}

  snapshot(): PodState {
    return {
      counter: this.counter,
      compositions: [...this.compositions.values()].map((composition) => ({
        ...composition,
        computeBlock: composition.computeBlock.id,
        driveBlocks: composition.driveBlocks.map((block) => block.id),
      })),
    };
  }

  /** Takes back a snapshot of a pod with the same inventory. */
  restore(state: PodState): void {
    const blockOf = (id: string) => {
      const block = this.block(id);
      if (!block) throw new Error(`saved pod state names resource block ${id}, which the inventory lacks`);
      return block;
    };
    this.clear();
    for (const saved of state.compositions) {
      this.compositions.set(saved.number, {
        ...saved,
        computeBlock: blockOf(saved.computeBlock),
        driveBlocks: saved.driveBlocks.map(blockOf),
      });
    }
    this.counter = state.counter;
  }

  /** Called after every accepted reset: what a real system would do next (boot) happens outside the pod. */
  onReset(listener: (composition: Composition, type: string) => void): () => void {
    this.resetListeners.add(listener);
    return () => this.resetListeners.delete(listener);
  }

  clear(): void {
    this.compositions.clear();
    this.counter = 0;
  }

  block(id: string): Block | undefined {
    return this.blocks.find((block) => block.id === id);
  }

  compositionOf(block: Block): Composition | undefined {
    for (const composition of this.compositions.values()) {
      if (composition.computeBlock === block || composition.driveBlocks.includes(block)) return composition;
    }
    return undefined;
  }

  bySystemId(id: string): Composition | undefined {
    return [...this.compositions.values()].find((composition) => composition.systemId === id);
  }

  byNodeId(id: string): Composition | undefined {
    return [...this.compositions.values()].find((composition) => composition.nodeId === id);
  }

  /** DMTF specific composition: exactly one free compute block, any number of free drive and offload blocks. */
  composeBlocks(name: string, description: string | undefined, blockIds: string[]): Composition {
    const blocks = blockIds.map((id) => {
      const block = this.block(id);
      if (!block) throw new PodError(400, `resource block ${id} does not exist`);
      return block;
    });
    const compute = blocks.filter((block) => block.kind === "compute");
    if (compute.length !== 1 || !compute[0]) {
      throw new PodError(400, `a composed system needs exactly one compute block, got ${compute.length}`);
    }
    for (const block of blocks) {
      const user = this.compositionOf(block);
      if (user) throw new PodError(409, `resource block ${block.id} is in use by ${user.systemId}`);
    }
    return this.create("dmtf", name, description, compute[0], [
      ...new Set(blocks.filter((block) => block.kind !== "compute")),
    ]);
  }

  /** Constrained composition (DMTF) and allocation (RSD): the first free compute block that satisfies the demand. */
  composeFor(
    origin: "dmtf" | "rsd",
    name: string,
    description: string | undefined,
    demand: Demand,
    driveGiB: number[] = [],
  ): Composition {
    const compute = this.blocks.find(
      (block) => block.kind === "compute" && !this.compositionOf(block) && satisfies(block, demand),
    );
    if (!compute) throw new PodError(409, `no free compute block satisfies ${describeDemand(demand)}`);
    const drives: Block[] = [];
    for (const gib of driveGiB) {
      const block = this.blocks.find(
        (candidate) =>
          candidate.kind === "storage" &&
          !drives.includes(candidate) &&
          !this.compositionOf(candidate) &&
          blockBytes(candidate) >= gib * 1024 ** 3,
      );
      if (!block) throw new PodError(409, `no free drive block offers ${gib} GiB`);
      drives.push(block);
    }
    return this.create(origin, name, description, compute, drives);
  }

  private create(
    origin: "dmtf" | "rsd",
    name: string,
    description: string | undefined,
    computeBlock: Block,
    driveBlocks: Block[],
  ): Composition {
    this.counter += 1;
    const number = this.counter;
    const composition: Composition = {
      number,
      systemId: `composed-${number}`,
      nodeId: String(number),
      name,
      description,
      uuid: `6f1c2a4e-0000-4000-8000-${number.toString(16).padStart(12, "0")}`,
      computeBlock,
      driveBlocks,
      powerState: "Off",
      boot: { enabled: "Disabled", target: "None", mode: "UEFI" },
      // A DMTF composition exists whole; an RSD one still has to be assembled.
      nodeState: origin === "dmtf" ? "Assembled" : "Allocated",
      origin,
    };
    this.compositions.set(number, composition);
    return composition;
  }

  /**
   * DMTF `#ComputerSystem.AddResourceBlock`: a free drive block joins the composed system (its compute block is
   * the one it was composed with).
   */
  addBlock(composition: Composition, blockId: string): void {
    const block = this.block(blockId);
    if (!block) throw new PodError(400, `resource block ${blockId} does not exist`);
    if (block.kind !== "storage") {
      throw new PodError(400, `resource block ${blockId} is a compute block; a system has exactly one`);
    }
    const user = this.compositionOf(block);
    if (user) throw new PodError(409, `resource block ${blockId} is in use by ${user.systemId}`);
    composition.driveBlocks = [...composition.driveBlocks, block];
  }

  /** DMTF `#ComputerSystem.RemoveResourceBlock`: one of the system's drive blocks leaves it, free again. */
  removeBlock(composition: Composition, blockId: string): void {
    if (composition.computeBlock.id === blockId) {
      throw new PodError(400, `resource block ${blockId} is the system's compute block; decompose instead`);
    }
    if (!composition.driveBlocks.some((block) => block.id === blockId)) {
      throw new PodError(400, `resource block ${blockId} is not part of ${composition.systemId}`);
    }
    composition.driveBlocks = composition.driveBlocks.filter((block) => block.id !== blockId);
  }

  decompose(composition: Composition): void {
    this.compositions.delete(composition.number);
  }

  /** Takes effect at once: the emulator has no boot to wait for. */
  reset(composition: Composition, type: string): void {
    if (!(RESET_TYPES as readonly string[]).includes(type)) {
      throw new PodError(400, `ResetType ${type} is not one of ${RESET_TYPES.join(", ")}`);
    }
    if (composition.nodeState !== "Assembled") {
      throw new PodError(409, `node ${composition.nodeId} is ${composition.nodeState}, not Assembled`);
    }
    if (type === "ForceOff" || type === "GracefulShutdown") composition.powerState = "Off";
    else if (type === "PushPowerButton")
      composition.powerState = composition.powerState === "On" ? "Off" : "On";
    else if (type !== "Nmi") composition.powerState = "On";
    for (const listener of this.resetListeners) listener(composition, type);
  }

  /**
   * Writes the override through and keeps it: the emulator never boots, so a `Once` override is not consumed,
   * which lets tests see what was written.
   */
  setBoot(composition: Composition, boot: Record<string, unknown>): void {
    const checks: Array<[string, readonly string[], keyof Composition["boot"]]> = [
      ["BootSourceOverrideEnabled", BOOT_ENABLED, "enabled"],
      ["BootSourceOverrideTarget", BOOT_TARGETS, "target"],
      ["BootSourceOverrideMode", BOOT_MODES, "mode"],
    ];
    const next = { ...composition.boot };
    for (const [property, allowed, key] of checks) {
      const value = boot[property];
      if (value === undefined) continue;
      if (typeof value !== "string" || !allowed.includes(value)) {
        throw new PodError(
          400,
          `Boot.${property} ${JSON.stringify(value)} is not one of ${allowed.join(", ")}`,
        );
      }
      next[key] = value;
    }
    composition.boot = next;
  }
}

function satisfies(block: Block, demand: Demand): boolean {
  const cores = block.processors.reduce((sum, cpu) => sum + cpu.spec.cores, 0);
  const memory = block.memory.reduce((sum, dimm) => sum + dimm.spec.capacityMiB, 0);
  const model = demand.model?.toLowerCase();
  return (
    cores >= demand.cores &&
    memory >= demand.memoryMiB &&
    (!model || block.processors.some((cpu) => cpu.spec.model.toLowerCase().includes(model))) &&
    (!demand.instructionSet ||
      block.processors.some((cpu) => (cpu.spec.instructionSet ?? "x86-64") === demand.instructionSet))
  );
}

function describeDemand(demand: Demand): string {
  const parts = [`${demand.cores} cores`, `${demand.memoryMiB} MiB`];
  if (demand.model) parts.push(`model ~ ${demand.model}`);
  if (demand.instructionSet) parts.push(demand.instructionSet);
  return parts.join(", ");
}

export function blockBytes(block: Block): number {
  return block.drives.reduce((sum, drive) => sum + drive.spec.capacityBytes, 0);
}
