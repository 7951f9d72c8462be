import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import { poolInventory } from "../../local/pool.ts";
import { composeNode, startTestApi, type TestApi } from "../support/local-api.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolvePromise) => server.listen(0, "127.0.0.1", resolvePromise));
  const { port } = server.address() as { port: number };
  await new Promise((resolvePromise) => server.close(resolvePromise));
  return port;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface NodeBody {
  uuid: string;
  name: string;
  managed_by: string;
  ironic_node_uuid: string | null;
  hardware: { nics: { mac: string; enabled: boolean }[] };
}

/**
 * The CLI as operators run it: `node bin/valence ...` in its own process, against the local stack (real Ironic,
 * the Redfish emulator, dynalite) that this test process serves. Asynchronous, so the API keeps answering.
 */
function valence(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [join(root, "bin/valence"), ...args],
      { cwd: root, env: { ...process.env, ...env }, timeout: 240_000, maxBuffer: 10 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/** `valence ...` started in its own process, its stderr read as it comes, to be interrupted like a person would. */
function startValence(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [join(root, "bin/valence"), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<Run>((resolvePromise) =>
    child.on("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr })),
  );
  return {
    child,
    exited,
    /** Resolves once stderr matches `pattern`; rejects if the command ends first. */
    async stderrMatches(pattern: RegExp): Promise<void> {
      for (;;) {
        if (pattern.test(stderr)) return;
        const ended = await Promise.race([
          exited.then(() => true),
          new Promise<false>((resolvePromise) => setTimeout(() => resolvePromise(false), 100)),
        ]);
        if (ended && !pattern.test(stderr))
          throw new Error(`valence ${args.join(" ")} ended before printing ${pattern}: ${stderr}`);
      }
    },
  };
}

describe("the valence CLI as a subprocess (local stack, real Ironic)", () => {
  let api: TestApi;
  let ironic: IronicDriver;
  let env: Record<string, string>;
  let workDir: string;

  beforeAll(async () => {
    api = await startTestApi({
      demo: true,
      ironic: "start",
      emulatorInventory: poolInventory(16),
      // Ironic cleans on provide (automated cleaning, as in production), the emulated agent's clean step this long.
      cleanStepMs: 3_000,
    });
    ironic = createIronicDriver({ url: api.stack.ironicUrl as string, auth: { type: "none" } });
    env = { VALENCE_URL: api.stack.apiUrl };
    workDir = mkdtempSync(join(tmpdir(), "valence-cli-"));
  });
  afterAll(async () => {
    await api?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("runs the seed's flow: node-register test-node → node-show → node-unregister", async () => {
    const registered = await valence(["node-register", "test-node"], env);
    expect(registered.stderr).toBe("");
    expect(registered.code).toBe(0);
    expect(registered.stdout).toMatch(/│ managed_by\s+│ ironic\s+│/);
    const ironicUuid = /│ ironic_node_uuid\s+│ ([0-9a-f-]{36})\s+│/.exec(registered.stdout)?.[1] as string;
    expect((await ironic.getNode(ironicUuid)).name).toBe("test-node");

    const shown = await valence(["node-show", "test-node"], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/│ managed_by\s+│ ironic\s+│/);
    expect(shown.stdout).toContain(ironicUuid);

    const unregistered = await valence(["node-unregister", "test-node"], env);
    expect(unregistered.code).toBe(0);
    expect(unregistered.stdout).toMatch(/│ managed_by\s+│ valence\s+│/);
    expect((await ironic.findNodes()).map((node) => node.uuid)).not.toContain(ironicUuid);

    const json = await valence(["node-show", "test-node", "-f", "json"], env);
    expect(JSON.parse(json.stdout)).toMatchObject({
      name: "test-node",
      managed_by: "valence",
      ironic_node_uuid: null,
    });
  });

  it("registers 10 nodes from a file, 9 succeeding and one refused, and says so in its table and exit code", async () => {
    const names = Array.from({ length: 10 }, (_, i) => `bulk-${String(i + 1).padStart(2, "0")}`);
    const podmId = (await api.call("GET", "/v1/pod_managers")).body[0].uuid as string;
    const nodes: NodeBody[] = [];
    for (const name of names) {
      const response = await api.call<NodeBody>("POST", "/v1/nodes", {
        name,
        podm_id: podmId,
        properties: { processor: { total_cores: 1 } },
      });
      expect(response.status).toBe(201);
      nodes.push(response.body);
    }
    // bulk-07 cannot register: Ironic already holds one of its MACs for other hardware.
    const victim = nodes[6] as NodeBody;
    const foreign = await ironic.createNode({ name: "someone-elses", driver: "fake-hardware" });
    const mac = victim.hardware.nics.find((nic) => nic.enabled)?.mac as string;
    await ironic.createPort({ node_uuid: foreign.uuid, address: mac });
    const file = join(workDir, "nodes.yaml");
    writeFileSync(
      file,
      names
        .map((name) => (name === "bulk-02" ? `- node: ${name}\n  resource_class: gold` : `- ${name}`))
        .join("\n"),
    );

    const run = await valence(["node-register", "--file", file, "--concurrency", "4"], env);

    expect(run.code).toBe(3);
    for (const name of names) {
      expect(run.stdout).toMatch(
        new RegExp(`│ ${name}\\s+│ ${name === "bulk-07" ? "failed" : "registered"}\\s+│`),
      );
    }
    expect(run.stdout).toMatch(new RegExp(`│ bulk-07\\s+│ failed\\s+│.*Conflict: .*${mac}`));
    // Not a terminal: one plain progress line per node, on stderr.
    expect(run.stderr.match(/^\[\d+\/10\] bulk-\d\d: (registered|failed: .+)$/gm)).toHaveLength(10);
    expect(run.stderr).toContain("1 of 10 nodes failed to register");
    const inIronic = (await ironic.findNodes()).filter((node) => node.name?.startsWith("bulk-"));
    expect(inIronic.map((node) => node.name).sort()).toEqual(names.filter((name) => name !== "bulk-07"));
    expect(inIronic.find((node) => node.name === "bulk-02")?.resource_class).toBe("gold");
    expect(inIronic.find((node) => node.name === "bulk-01")?.resource_class).toBe("baremetal");
    await ironic.deleteNode(foreign.uuid);
  });

  it("prints JSON that parses: lists, and a bulk register of every node Valence still manages", async () => {
    const listed = await valence(["node-list", "--managed-by", "ironic", "-f", "json"], env);
    expect(listed.code).toBe(0);
    const registered = (JSON.parse(listed.stdout) as NodeBody[]).map((node) => node.name);
    expect(registered.filter((name) => name.startsWith("bulk-"))).toHaveLength(9);

    const all = await valence(["node-register", "--all", "--podm", "demo-podm", "-f", "json"], env);
    expect(all.code).toBe(0);
    const results = JSON.parse(all.stdout) as { node: string; ok: boolean; response: NodeBody }[];
    expect(results.map((result) => result.node).sort()).toEqual(["bulk-07", "test-node", "test-node-2"]);
    expect(results.every((result) => result.ok && result.response.managed_by === "ironic")).toBe(true);
  });

  it("exits 3 on a refusal, 4 when the API is unreachable, 2 on a usage error", async () => {
    const missing = await valence(["node-show", "no-such-node"], env);
    const port = await closedPort();
    const unreachable = await valence(["node-list"], { VALENCE_URL: `http://127.0.0.1:${port}` });
    const usage = await valence(["node-register", "--all"], env);

    expect(missing).toMatchObject({
      code: 3,
      stdout: "",
      stderr: "Not Found: node no-such-node not found\n",
    });
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toBe(`cannot reach Valence at http://127.0.0.1:${port}: ECONNREFUSED\n`);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--all needs --podm");
  });
  /** A node composed on the demo pod manager for one test, managed by Valence. */
  async function composed(name: string): Promise<NodeBody> {
    const podmId = (await api.call("GET", "/v1/pod_managers")).body[0].uuid as string;
    return composeNode<NodeBody>(api, podmId, name);
  }

  it("node-register --manage --provide waits, printing each step as it goes, and exits 0 with the node available and cleaned", async () => {
    await composed("op-wait");
    const run = await valence(["node-register", "op-wait", "--manage", "--provide"], env);

    expect(run.code, run.stderr).toBe(0);
    const id = /operation ([0-9a-f-]{36}) runs manage, provide/.exec(run.stderr)?.[1] as string;
    expect(id).toBeDefined();
    // One line per change, in order: verified, then Ironic cleaning, then available. Which of cleaning's states
    // (`cleaning`, `clean wait` while the ramdisk agent runs its step) a look lands on is the machine's timing;
    // that the agent cleaned the node is checked below.
    const lines = run.stderr.split("\n");
    const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
    const managed = at(/^op-wait: manage: succeeded \(Ironic: manageable\)$/);
    const cleaning = at(/^op-wait: provide: running \(Ironic: (cleaning|clean wait) → available\)$/);
    const available = at(/^op-wait: provide: succeeded \(Ironic: available\)$/);
    expect(managed, run.stderr).toBeGreaterThanOrEqual(0);
    expect(cleaning, run.stderr).toBeGreaterThan(managed);
    expect(available, run.stderr).toBeGreaterThan(cleaning);
    expect(run.stderr).toContain(`Operation ${id} succeeded: `);
    // The result: the node as it is now, then the operation.
    expect(run.stdout).toMatch(/│ managed_by\s+│ ironic\s+│/);
    expect(run.stdout).toMatch(/│ ironic\.provision_state\s+│ available\s+│/);
    expect(run.stdout).toMatch(/│ provide\s+│ succeeded\s+│ available/);
    const ironicUuid = /│ ironic_node_uuid\s+│ ([0-9a-f-]{36})\s+│/.exec(run.stdout)?.[1] as string;
    expect((await ironic.getNode(ironicUuid)).provision_state).toBe("available");
    expect(api.stack.ramdiskAgents?.cleaned()).toContain(ironicUuid);

    const listed = await valence(["operation-list", "op-wait", "-f", "json"], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ id, kind: "register", state: "succeeded" }]);
  });

  it("--no-wait exits 0 at once; operation-show --wait follows until Ctrl-C, which leaves it running; operation-cancel ends it cancelled", async () => {
    await composed("op-cancel");
    const agents = api.stack.ramdiskAgents as NonNullable<typeof api.stack.ramdiskAgents>;
    // Cleaning that outlasts the test: only the cancel ends it.
    agents.cleaning.stepMs = 300_000;
    try {
      const started = await valence(
        ["node-register", "op-cancel", "--manage", "--provide", "--no-wait", "-f", "json"],
        env,
      );
      expect(started.code, started.stderr).toBe(0);
      const body = JSON.parse(started.stdout) as {
        ironic_node_uuid: string;
        operation: { id: string; state: string };
      };
      const id = body.operation.id;
      expect(["pending", "running"]).toContain(body.operation.state);
      expect(started.stderr).toContain(`valence operation-show ${id} --wait`);

      const follower = startValence(["operation-show", id, "--wait"], env);
      await follower.stderrMatches(/^op-cancel: provide: running \(Ironic: clean wait → available\)$/m);
      follower.child.kill("SIGINT");
      const interrupted = await follower.exited;
      expect(interrupted.code, interrupted.stderr).toBe(130);
      expect(interrupted.stderr).toContain(`Interrupted. Operation ${id} goes on.`);
      expect(interrupted.stderr).toContain(`valence operation-show ${id} --wait`);
      expect((await api.call("GET", `/v1/operations/${id}`)).body.state).toBe("running");

      const cancelled = await valence(["operation-cancel", id], env);

      expect(cancelled.code, cancelled.stderr).toBe(0);
      expect(cancelled.stderr).toMatch(/^op-cancel: cancelling: /m);
      expect(cancelled.stderr).toContain(`Operation ${id} cancelled: `);
      expect(cancelled.stdout).toMatch(/│ state\s+│ cancelled\s+│/);
      const operation = (await api.call("GET", `/v1/operations/${id}`)).body;
      expect(operation).toMatchObject({ state: "cancelled" });
      // Aborted in Ironic's clean wait: Ironic says so, and keeps the node (the operator retries or unregisters).
      expect((await ironic.getNode(body.ironic_node_uuid)).provision_state).toBe("clean failed");
    } finally {
      agents.cleaning.stepMs = 3_000;
    }
  });
});
