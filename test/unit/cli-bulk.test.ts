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

describe("valence node-register --file / --all: one enrollment, followed", () => {
  /** How a node ends in the enrollment; absent: registered, its operation succeeded. */
  type Outcome = {
    state: "succeeded" | "failed" | "cancelled";
    code?: string;
    detail?: string;
    operation?: boolean;
  };

  async function bulk(
    argv: string[],
    outcome: (node: string) => Outcome = () => ({ state: "succeeded" }),
    files: Record<string, string> = {},
    refuse?: { status: number; code: string; detail: string },
  ) {
    const posted: unknown[] = [];
    const requests: string[] = [];
    let looks = 0;
    const io = memoryIo({ files });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json", ...headers },
      });
    let names: string[] = [];
    const enrollment = (settled: boolean) => ({
      id: "enroll-1",
      kind: "enroll",
      node_uuid: "enroll-1",
      node_name: `enrollment of ${names.length} nodes`,
      state: settled
        ? names.every((name) => outcome(name).state === "succeeded")
          ? "succeeded"
          : "failed"
        : "pending",
      steps: names.map((name) => ({ name, state: "pending" })),
      outcome: settled ? { code: "EnrollmentIncomplete", detail: "..." } : null,
      nodes: names.map((name) => {
        const ended = outcome(name);
        const hasOperation = ended.operation ?? ended.state === "succeeded";
        return {
          node_uuid: `uuid-${name}`,
          name,
          state: settled ? ended.state : "pending",
          operation_id: settled && hasOperation ? `op-${name}` : null,
          ironic_node_uuid:
            settled && (hasOperation || ended.state === "succeeded") ? `ironic-${name}` : null,
          code: settled ? (ended.code ?? "Succeeded") : null,
          detail: settled ? (ended.detail ?? "ok") : null,
        };
      }),
    });
    const code = await main(argv, {
      config: readCliConfig({}),
      io,
      sleep: async () => undefined,
      fetch: (async (input: string | URL | Request, init?: RequestInit) => {
        const url = new URL(String(input));
        requests.push(`${init?.method ?? "GET"} ${url.pathname}`);
        if (url.pathname === "/v1/pod_managers") return json(200, [PODM]);
        if (url.pathname === "/v1/nodes/register") {
          const body = JSON.parse(String(init?.body));
          posted.push(body);
          if (refuse)
            return json(refuse.status, {
              request_id: "r",
              code: refuse.code,
              status: refuse.status,
              title: "Bad Request",
              detail: refuse.detail,
            });
          names = body.nodes
            ? body.nodes.map((item: string | { node: string }) =>
                typeof item === "string" ? item : item.node,
              )
            : ["v1", "v2", "v3"];
          return json(202, enrollment(false), {
            location: `${url.origin}/v1/operations/enroll-1`,
            "retry-after": "5",
          });
        }
        if (url.pathname === "/v1/operations/enroll-1") return json(200, enrollment(++looks >= 2));
        const child = url.pathname.match(/^\/v1\/operations\/op-(.+)$/)?.[1];
        if (child) {
          const ended = outcome(child);
          return json(200, {
            id: `op-${child}`,
            kind: "register",
            node_name: child,
            state: ended.state,
            outcome: { code: ended.code ?? "Succeeded", detail: ended.detail ?? "ok" },
            steps: [
              {
                name: "provide",
                state: ended.state,
                provision_state: ended.state === "succeeded" ? "available" : "clean failed",
              },
            ],
          });
        }
        return json(404, {
          request_id: "r",
          code: "RouteNotFound",
          status: 404,
          title: "Not Found",
          detail: url.pathname,
        });
      }) as typeof fetch,
    });
    return { code, out: io.out(), err: io.err(), posted, requests, looks };
  }

  const FILE = ["- a", "- node: b", "  resource_class: gold", "- c", "- d", "- e"].join("\n");

  it("sends the file's nodes in one request, flags as the enrollment's fields and per-node fields on top, follows it, then a table; exit 0", async () => {
    const { code, out, err, posted, requests } = await bulk(
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
      () => ({ state: "succeeded" }),
      { "nodes.yaml": FILE },
    );

    expect(code).toBe(0);
    expect(posted).toEqual([
      {
        resource_class: "silver",
        manage: true,
        nodes: ["a", { node: "b", resource_class: "gold" }, "c", "d", "e"],
        concurrency: 2,
      },
    ]);
    expect(requests.filter((request) => request.startsWith("POST"))).toEqual(["POST /v1/nodes/register"]);
    for (const node of ["a", "b", "c", "d", "e"])
      expect(out).toMatch(
        new RegExp(`│ ${node}\\s+│ registered\\s+│ ironic-${node}\\s+│ available\\s+│ succeeded`),
      );
    // Not a terminal: a line per node as the enrollment shows it ended.
    expect(err.match(/^\[\d\/5\] \w: registered, operation succeeded$/gm)).toHaveLength(5);
  });

  it("reports each node's own result: exit 3 for a refused register, 4 for the service's failure, 5 for a failed operation", async () => {
    const refused = await bulk(
      ["node-register", "--file", "nodes.yaml"],
      (node) =>
        node === "c"
          ? { state: "failed", code: "IronicResourceTaken", detail: "MAC 52:54:00:00:00:01 is taken" }
          : { state: "succeeded" },
      { "nodes.yaml": FILE },
    );
    const broken = await bulk(
      ["node-register", "--file", "nodes.yaml", "-f", "json"],
      (node) =>
        node === "a"
          ? { state: "failed", code: "IronicUnavailable", detail: "ironic broke" }
          : node === "d"
            ? { state: "failed", code: "IronicStepFailed", detail: "clean failed", operation: true }
            : { state: "succeeded" },
      { "nodes.yaml": FILE },
    );
    const cleaningFailed = await bulk(
      ["node-register", "--file", "nodes.yaml"],
      (node) =>
        node === "e"
          ? { state: "failed", code: "IronicStepFailed", detail: "clean failed", operation: true }
          : { state: "succeeded" },
      { "nodes.yaml": FILE },
    );

    expect(refused.code).toBe(3);
    expect(refused.out).toMatch(/│ c\s+│ failed\s+│\s+│\s+│\s+│ Conflict: MAC 52:54:00:00:00:01 is taken/);
    expect(refused.err).toContain("1 of 5 nodes failed to register");
    expect(broken.code).toBe(4);
    const results = JSON.parse(broken.out) as { node: string; ok: boolean; status: number; error?: string }[];
    expect(results.map((r) => [r.node, r.ok, r.status])).toEqual([
      ["a", false, 503],
      ["b", true, 202],
      ["c", true, 202],
      ["d", false, 202],
      ["e", true, 202],
    ]);
    expect(results[3]?.error).toBe("IronicStepFailed: clean failed");
    expect(cleaningFailed.code).toBe(5);
    expect(cleaningFailed.err).toContain("1 operation(s) did not succeed");
  });

  it("--all --podm enrolls the pod manager's nodes that Valence manages through the selector", async () => {
    const { code, posted } = await bulk(["node-register", "--all", "--podm", "podm1", "--provide"]);

    expect(code).toBe(0);
    expect(posted).toEqual([
      { provide: true, selector: { podm_id: PODM.uuid, managed_by: "valence" }, concurrency: 4 },
    ]);
  });

  it("says there is nothing to register when the selector selects no node; exit 0", async () => {
    const { code, err, out } = await bulk(
      ["node-register", "--all", "--podm", "podm1"],
      undefined,
      {},
      {
        status: 400,
        code: "NothingToEnroll",
        detail: "body.selector: pod manager podm1 has no node that Valence manages: nothing to enroll",
      },
    );

    expect(code).toBe(0);
    expect(err).toContain("no nodes to register");
    expect(out.trim()).toBe("");
  });

  it("--no-wait prints the enrollment and how to follow it, without following", async () => {
    const { code, err, looks } = await bulk(
      ["node-register", "--file", "nodes.yaml", "--no-wait"],
      undefined,
      {
        "nodes.yaml": FILE,
      },
    );

    expect(code).toBe(0);
    expect(looks).toBe(0);
    expect(err).toContain("valence operation-show enroll-1 --wait");
  });

  it("refuses a bad or missing file before sending anything (exit 2)", async () => {
    const bad = await bulk(["node-register", "--file", "nodes.yaml"], undefined, {
      "nodes.yaml": "- node: a\n  manage: maybe\n- b\n",
    });
    const missing = await bulk(["node-register", "--file", "nope.yaml"]);

    expect(bad.code).toBe(2);
    expect(bad.err).toContain("nodes.yaml: item 1 (a): manage: expected boolean");
    expect(bad.posted).toEqual([]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("--file: cannot read nope.yaml: ENOENT");
  });
});
