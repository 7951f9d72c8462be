import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type CleaningBehaviour, RamdiskAgent } from "../../local/ramdisk-agent/index.ts";

const NODE = "7b0e4f0a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
const TOKEN = "agent-token-1";

/** Ironic's lookup and heartbeat endpoints, its heartbeats answered with `heartbeatStatus()`, keeping what reached them. */
async function ironicStandIn(heartbeatStatus: () => number) {
  const calls: { path: string; at: number; callback?: string }[] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://ironic");
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {};
      calls.push({ path: url.pathname, at: Date.now(), callback: body.callback_url });
      if (url.pathname === "/v1/lookup") {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ node: { uuid: NODE }, config: { agent_token: TOKEN } }));
        return;
      }
      response.writeHead(heartbeatStatus());
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    heartbeats: () => calls.filter((call) => call.path === `/v1/heartbeat/${NODE}`),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("the emulated ramdisk agent's heartbeats", () => {
  const closing: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });

  it("heartbeats right after its lookup and again when its clean step ends, not only on its interval", async () => {
    const ironic = await ironicStandIn(() => 202);
    closing.push(ironic.close);
    const cleaning: CleaningBehaviour = { stepMs: 100 };
    const agent = new RamdiskAgent({
      ironicUrl: ironic.url,
      macs: ["52:54:00:00:00:01"],
      cleaning: () => cleaning,
      heartbeatMs: 60_000,
      lookupMs: 50,
    });
    await agent.start();
    closing.push(() => agent.stop());
    await until(() => ironic.heartbeats().length === 1);
    const callback = ironic.heartbeats()[0]?.callback as string;

    // Ironic starts the clean step over the agent API, as its agent client does.
    const started = await fetch(`${callback}/v1/commands/?agent_token=${TOKEN}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "clean.execute_clean_step", params: { step: { step: "erase" } } }),
    });
    expect(((await started.json()) as { command_status: string }).command_status).toBe("RUNNING");
    const sent = Date.now();
    await until(() => ironic.heartbeats().length === 2);
    // The 60 s interval would have taken a minute: this one followed the step's end (100 ms).
    expect((ironic.heartbeats()[1]?.at as number) - sent).toBeLessThan(10_000);
    expect(agent.commands.at(-1)?.command_status).toBe("SUCCEEDED");
    expect(ironic.calls.filter((call) => call.path === "/v1/lookup")).toHaveLength(1);
  });

  it("tries a heartbeat refused with 409 (the node locked) again after its lookup interval, keeping its token", async () => {
    let refusals = 2;
    const ironic = await ironicStandIn(() => (refusals-- > 0 ? 409 : 202));
    closing.push(ironic.close);
    const agent = new RamdiskAgent({
      ironicUrl: ironic.url,
      macs: ["52:54:00:00:00:02"],
      cleaning: () => ({ stepMs: 100 }),
      heartbeatMs: 60_000,
      lookupMs: 50,
    });
    await agent.start();
    closing.push(() => agent.stop());
    await until(() => ironic.heartbeats().length === 3);
    expect(agent.node).toBe(NODE);
    expect(ironic.calls.filter((call) => call.path === "/v1/lookup")).toHaveLength(1);
    // Accepted at the third try: the next one waits for the interval.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ironic.heartbeats()).toHaveLength(3);
  });
});
