import { describe, expect, it } from "vitest";
import {
  type BulkResult,
  bulkExitCode,
  createProgress,
  formatBulkResults,
  parseBulkFile,
  runWithConcurrency,
} from "../../cli/bulk.ts";
import { readCliConfig } from "../../cli/config.ts";
import { EXIT } from "../../cli/errors.ts";
import { main } from "../../cli/main.ts";
import { memoryIo } from "../../cli/memory-io.ts";

const PODM = { uuid: "6f1a9c2e-4b7d-4e8a-9c3f-2d5e7a1b8c40", name: "podm1" };

describe("parseBulkFile", () => {
  it("reads a YAML list of names and of {node, options}", () => {
    const items = parseBulkFile(
      ["- node-1", "- node: node-2", "  resource_class: gold", "  manage: true", "- 1234"].join("\n"),
      "nodes.yaml",
    );

    expect(items).toEqual([
      { node: "node-1", options: {} },
      { node: "node-2", options: { resource_class: "gold", manage: true } },
      { node: "1234", options: {} },
    ]);
  });

  it("reads JSON, and {nodes: [...]}", () => {
    expect(parseBulkFile('["a", {"node": "b", "ports": "boot"}]', "nodes.json")).toEqual([
      { node: "a", options: {} },
      { node: "b", options: { ports: "boot" } },
    ]);
    expect(parseBulkFile("nodes:\n  - a\n", "nodes.yaml")).toEqual([{ node: "a", options: {} }]);
  });

  it("checks per-node options with the register route's schema and reports every problem at once", () => {
    const text = [
      "- node: a",
      "  manage: yes",
      "- node: b",
      "  wait_timeout: 604801",
      "  inspect: 1",
      "- node: c",
      "  colour: red",
      "- {manage: true}",
      "- [x]",
      "- d",
      "- d",
    ].join("\n");

    expect(() => parseBulkFile(text, "nodes.yaml")).toThrowError(
      [
        "nodes.yaml: item 1 (a): manage: expected boolean, received string",
        "nodes.yaml: item 2 (b): inspect: expected boolean, received number",
        "nodes.yaml: item 2 (b): wait_timeout: must be <= 604800",
        "nodes.yaml: item 3 (c): body: unknown field(s) colour",
        'nodes.yaml: item 4: "node" (a node name or uuid) is required',
        "nodes.yaml: item 5: expected a node name or uuid, or {node: ..., manage: ..., ...}",
        "nodes.yaml: item 7: d is listed twice",
      ].join("\n"),
    );
  });

  it("takes the register body's lifecycle fields: inspect, and a wait_timeout (the operation's deadline) up to 7 days", () => {
    const items = parseBulkFile(
      ["- node: a", "  manage: true", "  inspect: true", "  provide: true", "  wait_timeout: 604800"].join(
        "\n",
      ),
      "nodes.yaml",
    );

    expect(items).toEqual([
      { node: "a", options: { manage: true, inspect: true, provide: true, wait_timeout: 604_800 } },
    ]);
  });

  it.each([
    ["{a: [", "neither YAML nor JSON"],
    ["node: a", "expected a list of nodes"],
    ["[]", "the list of nodes is empty"],
  ])("refuses %j", (text, message) => {
    expect(() => parseBulkFile(text, "f.yaml")).toThrow(message);
  });
});

describe("runWithConcurrency", () => {
  it("never runs more than the limit at once, runs everything, and keeps the input order", async () => {
    let running = 0;
    let peak = 0;
    const settled: number[] = [];
    const results = await runWithConcurrency(
      Array.from({ length: 10 }, (_, i) => i),
      3,
      async (i) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5 + ((i * 7) % 4)));
        running--;
        return i * 10;
      },
      (result) => settled.push(result),
    );

    expect(peak).toBe(3);
    expect(results).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect([...settled].sort((a, b) => a - b)).toEqual(results);
  });
});

describe("bulkExitCode", () => {
  const result = (ok: boolean, exitCode: BulkResult["exitCode"]): BulkResult => ({ node: "n", ok, exitCode });

  it("is 0 only when all succeeded, 4 when any failure is the service's, else 3", () => {
    expect(bulkExitCode([result(true, EXIT.ok), result(true, EXIT.ok)])).toBe(0);
    expect(bulkExitCode([result(true, EXIT.ok), result(false, EXIT.clientError)])).toBe(3);
    expect(bulkExitCode([result(false, EXIT.clientError), result(false, EXIT.serverError)])).toBe(4);
  });
});

describe("progress", () => {
  const ok: BulkResult = { node: "a", ok: true, exitCode: EXIT.ok };
  const failed: BulkResult = { node: "b", ok: false, error: "Conflict: taken", exitCode: EXIT.clientError };

  it("prints one plain line per node when not on a terminal", () => {
    let text = "";
    const progress = createProgress(2, { write: (chunk: string) => (text += chunk), isTTY: false });
    progress.settled(ok);
    progress.settled(failed);
    progress.stop();

    expect(text).toBe("[1/2] a: registered\n[2/2] b: failed: Conflict: taken\n");
  });

  it("draws a bar on a terminal", () => {
    let text = "";
    const terminal = {
      isTTY: true,
      columns: 120,
      write: (chunk: string) => {
        text += chunk;
        return true;
      },
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
      clearScreenDown: () => true,
      on: () => terminal,
      removeListener: () => terminal,
    };
    const progress = createProgress(2, terminal);
    progress.settled(ok);
    progress.settled(failed);
    progress.stop();

    expect(text).toContain("registering [");
    expect(text).toContain("2/2 | 1 failed | b failed");
    expect(text).not.toContain("[1/2] a: registered");
  });

  it("ends with a table listing each node's result", () => {
    const table = formatBulkResults([
      { ...ok, response: { ironic_node_uuid: "u-1", ironic: { provision_state: "enroll" } } },
      failed,
    ]);

    expect(table).toMatch(/│ Node\s+│ Result\s+│ Ironic Node\s+│ Provision State\s+│ Error/);
    expect(table).toMatch(/│ a\s+│ registered\s+│ u-1\s+│ enroll/);
    expect(table).toMatch(/│ b\s+│ failed\s+│\s+│\s+│ Conflict: taken/);
  });
});

describe("valence node-register --file / --all", () => {
  async function bulk(
    argv: string[],
    outcome: (node: string) => { status: number; detail?: string },
    files: Record<string, string> = {},
  ) {
    const registered: { node: string; body: unknown }[] = [];
    let inFlight = 0;
    let peak = 0;
    const io = memoryIo({ files });
    const code = await main(argv, {
      config: readCliConfig({}),
      io,
      fetch: (async (input: string | URL | Request, init?: RequestInit) => {
        const url = new URL(String(input));
        const json = (status: number, body: unknown) =>
          new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
        if (url.pathname === "/v1/pod_managers") return json(200, [PODM]);
        if (url.pathname === "/v1/nodes") {
          expect(Object.fromEntries(url.searchParams)).toEqual({ managed_by: "valence", podm_id: PODM.uuid });
          return json(200, [{ name: "v1" }, { name: "v2" }, { name: "v3" }]);
        }
        const node = decodeURIComponent(url.pathname.split("/")[3] ?? "");
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 10));
        inFlight--;
        registered.push({ node, body: JSON.parse(String(init?.body)) });
        const { status, detail } = outcome(node);
        return status < 400
          ? json(status, {
              name: node,
              ironic_node_uuid: `ironic-${node}`,
              ironic: { provision_state: "enroll" },
            })
          : json(status, {
              request_id: "r",
              code: "X",
              status,
              title: status >= 500 ? "Bad Gateway" : "Conflict",
              detail,
            });
      }) as typeof fetch,
    });
    return { code, out: io.out(), err: io.err(), registered, peak };
  }

  const FILE = ["- a", "- node: b", "  resource_class: gold", "- c", "- d", "- e"].join("\n");

  it("registers every node of the file, flags as defaults and per-node fields on top, then a table; exit 0", async () => {
    const { code, out, err, registered, peak } = await bulk(
      [
        "node-register",
        "--file",
        "nodes.yaml",
        "--manage",
        "--resource-class",
        "silver",
        "--concurrency",
        "2",
      ],
      () => ({ status: 200 }),
      { "nodes.yaml": FILE },
    );

    expect(code).toBe(0);
    expect(peak).toBe(2);
    expect(registered.map((r) => r.node).sort()).toEqual(["a", "b", "c", "d", "e"]);
    expect(registered.find((r) => r.node === "b")?.body).toEqual({ resource_class: "gold", manage: true });
    expect(registered.find((r) => r.node === "a")?.body).toEqual({ resource_class: "silver", manage: true });
    for (const node of ["a", "b", "c", "d", "e"])
      expect(out).toMatch(new RegExp(`│ ${node}\\s+│ registered\\s+│ ironic-${node}`));
    expect(err.match(/^\[\d\/5\] \w: registered$/gm)).toHaveLength(5);
  });

  it("goes on after a failure and exits 3 for refusals, 4 when any failure is the service's", async () => {
    const refused = await bulk(
      ["node-register", "--file", "nodes.yaml"],
      (node) => (node === "c" ? { status: 409, detail: "mac taken" } : { status: 200 }),
      { "nodes.yaml": FILE },
    );
    const broken = await bulk(
      ["node-register", "--file", "nodes.yaml", "-f", "json"],
      (node) =>
        node === "a"
          ? { status: 502, detail: "ironic broke" }
          : node === "d"
            ? { status: 404, detail: "gone" }
            : { status: 200 },
      { "nodes.yaml": FILE },
    );

    expect(refused.code).toBe(3);
    expect(refused.registered).toHaveLength(5);
    expect(refused.out).toMatch(/│ c\s+│ failed\s+│\s+│\s+│ Conflict: mac taken/);
    expect(refused.err).toContain("1 of 5 nodes failed to register");
    expect(broken.code).toBe(4);
    const results = JSON.parse(broken.out) as {
      node: string;
      ok: boolean;
      status: number;
      response: { detail?: string };
    }[];
    expect(results.map((r) => [r.node, r.ok, r.status])).toEqual([
      ["a", false, 502],
      ["b", true, 200],
      ["c", true, 200],
      ["d", false, 404],
      ["e", true, 200],
    ]);
    expect(results[0]?.response.detail).toBe("ironic broke");
  });

  it("--all --podm registers every node of the pod manager that Valence manages", async () => {
    const { code, registered } = await bulk(
      ["node-register", "--all", "--podm", "podm1", "--provide"],
      () => ({
        status: 200,
      }),
    );

    expect(code).toBe(0);
    expect(registered.map((r) => r.node).sort()).toEqual(["v1", "v2", "v3"]);
    expect(registered.every((r) => JSON.stringify(r.body) === '{"provide":true}')).toBe(true);
  });

  it("refuses a bad or missing file before registering anything (exit 2)", async () => {
    const bad = await bulk(["node-register", "--file", "nodes.yaml"], () => ({ status: 200 }), {
      "nodes.yaml": "- node: a\n  manage: maybe\n- b\n",
    });
    const missing = await bulk(["node-register", "--file", "nope.yaml"], () => ({ status: 200 }));

    expect(bad.code).toBe(2);
    expect(bad.err).toContain("nodes.yaml: item 1 (a): manage: expected boolean");
    expect(bad.registered).toEqual([]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("--file: cannot read nope.yaml: ENOENT");
  });
});
