import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import { poolInventory } from "../../local/pool.ts";
import { startTestApi, type TestApi } from "../support/local-api.ts";

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

describe("the valence CLI as a subprocess (local stack, real Ironic)", () => {
  let api: TestApi;
  let ironic: IronicDriver;
  let env: Record<string, string>;
  let workDir: string;

  beforeAll(async () => {
    api = await startTestApi({ demo: true, ironic: "start", emulatorInventory: poolInventory(16) });
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
});
