/**
 * An emulated ironic-python-agent (IPA): what boots on a bare-metal node when Ironic cleans or deploys it. It
 * finds its node by MAC (`GET /v1/lookup`), heartbeats with its callback URL and the agent token Ironic handed
 * out, and answers Ironic's agent API (`POST /v1/commands/`, `GET /v1/commands/`) for cleaning, so a real Ironic
 * runs automated cleaning to the end. It only answers HTTP: no disk of the host is ever touched.
 *
 * The wire contract is Ironic's `ironic/drivers/modules/agent_client.py` (commands and their status objects) and
 * its `/v1/lookup` and `/v1/heartbeat` API.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The version IPA reports; Ironic enables features by it. */
const AGENT_VERSION = "9.0.0";
/** Lookup and heartbeat exist from 1.22; the agent token from 1.62. */
const IRONIC_API_VERSION = "1.68";

export interface CleaningBehaviour {
  /** How long each clean step runs before it reports done. @default 1000 */
  stepMs: number;
  /** A message: the clean step fails with it instead of succeeding. */
  failWith?: string | undefined;
}

export interface RamdiskAgentOptions {
  /** Ironic's API, `http://host:port` (lookup and heartbeat need no credentials). */
  ironicUrl: string;
  /** The node's MACs, as the booted ramdisk would see its NICs. */
  macs: readonly string[];
  /** Read on every clean step, so a test can change it while the agent runs. */
  cleaning: () => CleaningBehaviour;
  /**
   * Between heartbeats once the node is found. IPA heartbeats every 0.3–0.6 × Ironic's `[agent]
   * heartbeat_timeout` (300 s by default), and at once when an asynchronous command (a clean step) ends, which is
   * what moves cleaning on; this agent does the same, with this interval. @default 1000
   */
  heartbeatMs?: number;
  /** Between lookups until Ironic waits for an agent, and before another try of a heartbeat refused. @default 1000 */
  lookupMs?: number;
  /** Interface the agent API listens on. @default "127.0.0.1" */
  host?: string;
  log?: (event: string, detail: Record<string, unknown>) => void;
}

export type CommandStatus = "RUNNING" | "SUCCEEDED" | "FAILED";

/** A command as Ironic reads it back from `GET /v1/commands/`. */
export interface AgentCommand {
  id: string;
  command_name: string;
  command_params: Record<string, unknown>;
  command_status: CommandStatus;
  command_result: Record<string, unknown> | null;
  command_error: { type: string; code: number; message: string; details: string } | null;
}

/** The one step a generic hardware manager offers for automated cleaning by default. */
const ERASE_METADATA_STEP = {
  step: "erase_devices_metadata",
  priority: 99,
  interface: "deploy",
  reboot_requested: false,
  abortable: true,
};

/** One booted ramdisk on one node: from `start()` (power on into the ramdisk) to `stop()` (power off). */
export class RamdiskAgent {
  readonly commands: AgentCommand[] = [];
  private server?: Server;
  private nodeUuid?: string;
  private token?: string;
  private timer?: NodeJS.Timeout;
  /** A look-up or heartbeat is on its way; `again` asks for another as soon as it is back. */
  private beating = false;
  private again = false;
  /** The last heartbeat was refused (the node locked): the next try comes after `lookupMs`. */
  private refused = false;
  private stopped = false;
  private readonly running = new Set<NodeJS.Timeout>();

  constructor(private readonly options: RamdiskAgentOptions) {}

  /** The Ironic node this agent found by lookup, once it has. */
  get node(): string | undefined {
    return this.nodeUuid;
  }

  async start(): Promise<void> {
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        reply(response, 500, { faultstring: (error as Error).message });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, this.options.host ?? "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const step of this.running) clearTimeout(step);
    this.running.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private get callbackUrl(): string {
    const address = this.server?.address() as AddressInfo;
    return `http://${this.options.host ?? "127.0.0.1"}:${address.port}`;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.beat(), delayMs);
  }

  /** One look-up or heartbeat, then the next one scheduled: soon while looking up or refused, else the interval. */
  private async beat(): Promise<void> {
    if (this.beating) {
      this.again = true;
      return;
    }
    this.beating = true;
    try {
      await this.tick();
    } catch (error) {
      this.log("agent loop error", { error: (error as Error).message });
    } finally {
      this.beating = false;
    }
    if (this.again) {
      this.again = false;
      this.schedule(0);
      return;
    }
    const known = this.nodeUuid !== undefined && this.token !== undefined;
    this.schedule(
      known && !this.refused ? (this.options.heartbeatMs ?? 1000) : (this.options.lookupMs ?? 1000),
    );
  }

  /** As IPA does when an asynchronous command ends: heartbeat now, so Ironic reads the result at once. */
  private heartbeatNow(): void {
    if (this.beating) this.again = true;
    else this.schedule(0);
  }

  /** Until Ironic knows us: look the node up. Afterwards: heartbeat, which is when Ironic acts. */
  private async tick(): Promise<void> {
    if (!this.nodeUuid || !this.token) {
      const url = new URL("/v1/lookup", this.options.ironicUrl);
      url.searchParams.set("addresses", this.options.macs.join(","));
      const response = await fetch(url, {
        headers: { "X-OpenStack-Ironic-API-Version": IRONIC_API_VERSION },
      });
      // Ironic refuses lookups until the node waits for an agent (`clean wait`, `wait call-back`, ...).
      if (response.status !== 200) return;
      const body = (await response.json()) as { node?: { uuid?: string }; config?: { agent_token?: string } };
      if (!body.node?.uuid || !body.config?.agent_token) return;
      this.nodeUuid = body.node.uuid;
      this.token = body.config.agent_token;
      this.log("agent found its node", { node: this.nodeUuid });
    }
    const response = await fetch(new URL(`/v1/heartbeat/${this.nodeUuid}`, this.options.ironicUrl), {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-OpenStack-Ironic-API-Version": IRONIC_API_VERSION },
      body: JSON.stringify({
        callback_url: this.callbackUrl,
        agent_token: this.token,
        agent_version: AGENT_VERSION,
      }),
    });
    await response.arrayBuffer();
    this.refused = response.status === 409;
    if (response.status === 409) {
      // The node is locked (the conductor is busy with it): the same heartbeat again shortly.
      this.log("heartbeat refused", { node: this.nodeUuid, status: response.status });
    }
    if (response.status === 404) {
      // The node was deleted: look it up again when Ironic next waits for an agent.
      this.log("heartbeat refused", { node: this.nodeUuid, status: response.status });
      this.nodeUuid = undefined;
      this.token = undefined;
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://agent");
    if (url.pathname !== "/v1/commands" && url.pathname !== "/v1/commands/") {
      return reply(response, 404, { faultstring: `no such resource ${url.pathname}` });
    }
    if (request.method === "GET") return reply(response, 200, { commands: this.commands });
    if (request.method !== "POST") return reply(response, 405, { faultstring: "method not allowed" });
    if (!this.token || url.searchParams.get("agent_token") !== this.token) {
      return reply(response, 401, { faultstring: "invalid or missing agent_token" });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as {
      name?: string;
      params?: Record<string, unknown>;
    };
    if (this.commands.some((command) => command.command_status === "RUNNING")) {
      return reply(response, 409, { faultstring: "Agent is busy" });
    }
    const command = this.run(body.name ?? "", body.params ?? {});
    this.commands.push(command);
    return reply(response, 200, command);
  }

  private run(name: string, params: Record<string, unknown>): AgentCommand {
    const command: AgentCommand = {
      id: randomUUID(),
      command_name: name.split(".").at(-1) ?? name,
      command_params: params,
      command_status: "SUCCEEDED",
      command_result: null,
      command_error: null,
    };
    this.log("agent command", { node: this.nodeUuid, command: name });
    switch (name) {
      case "clean.get_clean_steps":
        command.command_result = {
          clean_steps: { GenericHardwareManager: [ERASE_METADATA_STEP] },
          hardware_manager_version: { generic_hardware_manager: "1.1" },
        };
        return command;
      case "clean.execute_clean_step": {
        const behaviour = this.options.cleaning();
        command.command_status = "RUNNING";
        const finish = setTimeout(() => {
          this.running.delete(finish);
          if (behaviour.failWith) {
            command.command_status = "FAILED";
            command.command_error = {
              type: "CleaningError",
              code: 500,
              message: "Clean step failed",
              details: behaviour.failWith,
            };
          } else {
            command.command_status = "SUCCEEDED";
            command.command_result = { clean_result: {}, clean_step: params.step ?? null };
          }
          this.heartbeatNow();
        }, behaviour.stepMs);
        this.running.add(finish);
        return command;
      }
      default:
        // Anything else IPA could do (collect logs, sync, power off) is not emulated: refused, as IPA refuses an
        // unknown command; Ironic treats these as best effort.
        command.command_status = "FAILED";
        command.command_error = {
          type: "InvalidCommandError",
          code: 400,
          message: "Invalid command",
          details: `the emulated agent does not implement ${name}`,
        };
        return command;
    }
  }

  private log(event: string, detail: Record<string, unknown>): void {
    this.options.log?.(event, detail);
  }
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  response.end(text);
}
