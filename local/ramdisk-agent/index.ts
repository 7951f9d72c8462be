/**
 * Ramdisk agents for the emulated systems: whenever a client (Ironic) powers a composed system of the Redfish
 * emulator on with its boot override set to the network or virtual media, an emulated ironic-python-agent
 * "boots" on it; powering it off or booting it from disk stops that agent. This is what lets a real Ironic clean
 * the emulator's systems.
 */
import type { RedfishEmulator } from "../redfish-emulator/index.ts";
import { type CleaningBehaviour, RamdiskAgent } from "./agent.ts";

export type { AgentCommand, CleaningBehaviour } from "./agent.ts";
export { RamdiskAgent } from "./agent.ts";
export { cleaningIronicConfig } from "./cleaning.ts";

/** Boot targets from which a ramdisk comes up: PXE/iPXE, or a virtual-media ISO. */
const RAMDISK_TARGETS = new Set(["Pxe", "Cd", "UefiHttp"]);

export interface RamdiskAgentsOptions {
  ironicUrl: string;
  /** Between an agent's heartbeats once it found its node (it also heartbeats when a clean step ends). @default 1000 */
  heartbeatMs?: number;
  /** Between look-ups until Ironic waits for an agent, and before a refused heartbeat is tried again. @default 1000 */
  lookupMs?: number;
  log?: (event: string, detail: Record<string, unknown>) => void;
}

export interface RamdiskAgents {
  /** Switches tests and the local stack flip: how long each clean step takes, and whether it fails. */
  readonly cleaning: CleaningBehaviour;
  /** The agent running on a system now, by Redfish System id. */
  running(systemId: string): RamdiskAgent | undefined;
  /** Ironic nodes an agent has run a clean step for, to the end, since the agents were attached. */
  cleaned(): string[];
  /** Stops every agent and stops listening to the emulator. */
  close(): Promise<void>;
}

export function attachRamdiskAgents(emulator: RedfishEmulator, options: RamdiskAgentsOptions): RamdiskAgents {
  const cleaning: CleaningBehaviour = { stepMs: 1000 };
  const agents = new Map<string, RamdiskAgent>();
  const cleanedNodes = new Set<string>();
  const remember = (agent: RamdiskAgent) => {
    const done = agent.commands.some(
      (command) => command.command_name === "execute_clean_step" && command.command_status === "SUCCEEDED",
    );
    if (done && agent.node) cleanedNodes.add(agent.node);
  };
  let chain = Promise.resolve();

  const unsubscribe = emulator.onReset((system) => {
    // Resets arrive in order; each boot waits for the previous agent of that system to be gone.
    chain = chain.then(async () => {
      const previous = agents.get(system.systemId);
      if (previous) {
        agents.delete(system.systemId);
        await previous.stop();
        remember(previous);
      }
      if (system.powerState !== "On" || !RAMDISK_TARGETS.has(system.boot.target)) return;
      const agent = new RamdiskAgent({
        ironicUrl: options.ironicUrl,
        macs: system.macs,
        cleaning: () => cleaning,
        ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
        ...(options.lookupMs === undefined ? {} : { lookupMs: options.lookupMs }),
        ...(options.log ? { log: options.log } : {}),
      });
      agents.set(system.systemId, agent);
      await agent.start();
      options.log?.("ramdisk booted", { system: system.systemId, target: system.boot.target });
    });
    chain = chain.catch((error: unknown) =>
      options.log?.("ramdisk boot failed", { system: system.systemId, error: (error as Error).message }),
    );
  });

  return {
    cleaning,
    running: (systemId) => agents.get(systemId),
    cleaned: () => {
      for (const agent of agents.values()) remember(agent);
      return [...cleanedNodes];
    },
    async close() {
      unsubscribe();
      await chain;
      await Promise.all([...agents.values()].map((agent) => agent.stop()));
      agents.clear();
    },
  };
}
