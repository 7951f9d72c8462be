import { describe, expect, it } from "vitest";
import { retryAfterMs } from "../../cli/client.ts";
import { readCliConfig } from "../../cli/config.ts";
import { main } from "../../cli/main.ts";
import { memoryIo } from "../../cli/memory-io.ts";
import {
  FOLLOW_POLICY,
  followDelayMs,
  type OperationView,
  outcomeLine,
  progressLines,
} from "../../cli/operations.ts";

const OP_ID = "3f0c2a9e-7b1d-4c5e-9a8b-0d1e2f3a4b5c";
const NODE_UUID = "0b7c1e8a-2f3d-4c5e-8a9b-1c2d3e4f5a6b";
const IRONIC_UUID = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";

type StepView = OperationView["steps"][number];

function step(name: string, state: StepView["state"], ironic: Partial<StepView> = {}): StepView {
  return {
    name,
    state,
    started_at: state === "pending" ? null : "2026-01-01T00:00:00.000Z",
    finished_at: null,
    provision_state: null,
    target_provision_state: null,
    last_error: null,
    ...ironic,
  };
}

function operation(
  state: OperationView["state"],
  steps: StepView[],
  outcome: OperationView["outcome"] = null,
  kind: OperationView["kind"] = "register",
): OperationView {
  return {
    id: OP_ID,
    node_uuid: NODE_UUID,
    node_name: "n1",
    kind,
    state,
    steps,
    outcome,
    request_id: "req-1",
    principal: "local",
    deadline: "2026-01-01T02:00:00.000Z",
    cancel_requested_at: null,
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z",
  };
}

/** What the workflow records, look after look, for a register with manage and provide that cleans. */
const PENDING = operation("pending", [step("manage", "pending"), step("provide", "pending")]);
const VERIFYING = operation("running", [
  step("manage", "running", { provision_state: "verifying", target_provision_state: "manageable" }),
  step("provide", "pending"),
]);
const CLEANING = operation("running", [
  step("manage", "succeeded", { provision_state: "manageable" }),
  step("provide", "running", { provision_state: "cleaning", target_provision_state: "available" }),
]);
const CLEAN_WAIT = operation("running", [
  step("manage", "succeeded", { provision_state: "manageable" }),
  step("provide", "running", { provision_state: "clean wait", target_provision_state: "available" }),
]);
const AVAILABLE = operation(
  "succeeded",
  [
    step("manage", "succeeded", { provision_state: "manageable" }),
    step("provide", "succeeded", { provision_state: "available" }),
  ],
  { code: "Succeeded", detail: "manage, provide done; Ironic node available" },
);
const CLEAN_FAILED = operation(
  "failed",
  [
    step("manage", "succeeded", { provision_state: "manageable" }),
    step("provide", "failed", {
      provision_state: "clean failed",
      target_provision_state: "available",
      last_error: "Agent returned error for clean step erase_devices_metadata",
    }),
  ],
  { code: "IronicStepFailed", detail: "provide: Agent returned error for clean step erase_devices_metadata" },
);
const CANCELLED = operation(
  "cancelled",
  [
    step("manage", "succeeded", { provision_state: "manageable" }),
    step("provide", "cancelled", { provision_state: "clean failed" }),
  ],
  { code: "Cancelled", detail: "cancelled: aborted in Ironic (clean wait)" },
);
const CANCELLING = { ...CLEAN_WAIT, state: "cancelling" as const };

const NODE = {
  uuid: NODE_UUID,
  name: "n1",
  managed_by: "ironic",
  ironic_node_uuid: IRONIC_UUID,
  ironic: { provision_state: "enroll", power_state: null, maintenance: false, last_error: null },
};

interface Recorded {
  method: string;
  url: URL;
  body: unknown;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * The API for one operation: each GET of it answers the next of `looks` (the last one again once they run out);
 * other requests answer `respond`.
 */
function api(looks: (OperationView | Answer)[], respond: (request: Recorded) => Answer | undefined) {
  const requests: Recorded[] = [];
  let look = 0;
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const request: Recorded = {
      method: init?.method ?? "GET",
      url,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    };
    requests.push(request);
    let answer: Answer | undefined;
    if (request.method === "GET" && url.pathname.endsWith(`/v1/operations/${OP_ID}`)) {
      const next = looks[Math.min(look++, looks.length - 1)] as OperationView | Answer;
      answer = "status" in next && typeof next.status === "number" ? next : { status: 200, body: next };
    } else {
      answer = respond(request);
    }
    answer ??= {
      status: 404,
      body: { request_id: "r", code: "RouteNotFound", status: 404, title: "Not Found", detail: url.pathname },
    };
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { "content-type": "application/json", ...answer.headers },
    });
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

/** Answers a register with lifecycle steps as the API does: 202, the node, the operation, Location, Retry-After. */
function registers(first: OperationView = PENDING) {
  return (request: Recorded): Answer | undefined => {
    if (request.method === "POST" && request.url.pathname === "/v1/nodes/n1/register") {
      return {
        status: 202,
        body: { ...NODE, operation: first },
        // Built from the Host the API saw, which a proxy may change: followed on the CLI's own origin.
        headers: { location: `http://proxy.internal:9/v1/operations/${OP_ID}`, "retry-after": "5" },
      };
    }
    if (request.method === "GET" && request.url.pathname === `/v1/nodes/${NODE_UUID}`) {
      return { status: 200, body: { ...NODE, ironic: { ...NODE.ironic, provision_state: "available" } } };
    }
    return undefined;
  };
}

async function valence(
  argv: string[],
  options: {
    looks?: (OperationView | Answer)[];
    respond?: (request: Recorded) => Answer | undefined;
    files?: Record<string, string>;
    /** Called on each wait with its number (0-based): e.g. to press Ctrl-C. */
    onSleep?: (count: number, interrupt: () => void) => void;
  } = {},
) {
  const fake = api(options.looks ?? [], options.respond ?? (() => undefined));
  const io = memoryIo({ files: options.files ?? {} });
  const sleeps: number[] = [];
  const code = await main(argv, {
    config: readCliConfig({}),
    io,
    fetch: fake.fetch,
    credentials: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" }),
    sleep: async (ms) => {
      options.onSleep?.(sleeps.length, () => io.interrupt());
      sleeps.push(ms);
    },
  });
  return { code, out: io.out(), err: io.err(), requests: fake.requests, sleeps };
}

const lookedAt = (requests: Recorded[]) =>
  requests.filter((request) => request.url.pathname === `/v1/operations/${OP_ID}`);

describe("followDelayMs", () => {
  it("looks again soon after the answer, backs off, and never waits more than 2 s nor past Retry-After", () => {
    const delays = Array.from({ length: 8 }, (_, attempt) => followDelayMs(attempt, 5_000));

    expect(delays).toEqual([250, 500, 1_000, 2_000, 2_000, 2_000, 2_000, 2_000]);
    expect(followDelayMs(5, 1_000)).toBe(1_000);
    expect(followDelayMs(5, 0)).toBe(FOLLOW_POLICY.firstDelayMs);
    expect(followDelayMs(40, undefined)).toBe(FOLLOW_POLICY.maxDelayMs);
  });
});

describe("retryAfterMs", () => {
  it("reads delay-seconds and HTTP dates, and nothing else", () => {
    const now = new Date("2026-01-01T00:00:00Z");

    expect(retryAfterMs("5", now)).toBe(5_000);
    expect(retryAfterMs("Thu, 01 Jan 2026 00:00:07 GMT", now)).toBe(7_000);
    expect(retryAfterMs("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0);
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});

describe("progressLines", () => {
  it("says nothing of steps still pending, then one line per step whose state or Ironic state changed", () => {
    expect(progressLines(undefined, PENDING)).toEqual([]);
    expect(progressLines(PENDING, VERIFYING)).toEqual(["manage: running (Ironic: verifying → manageable)"]);
    expect(progressLines(VERIFYING, CLEANING)).toEqual([
      "manage: succeeded (Ironic: manageable)",
      "provide: running (Ironic: cleaning → available)",
    ]);
    expect(progressLines(CLEANING, CLEAN_WAIT)).toEqual([
      "provide: running (Ironic: clean wait → available)",
    ]);
    expect(progressLines(CLEAN_WAIT, CLEAN_WAIT)).toEqual([]);
  });

  it("shows Ironic's last_error and the step's detail, and the operation entering cancelling", () => {
    expect(progressLines(CLEAN_WAIT, CLEAN_FAILED)).toEqual([
      "provide: failed (Ironic: clean failed → available) last_error: Agent returned error for clean step erase_devices_metadata",
    ]);
    const detailed = operation("running", [step("manage", "skipped", { detail: "already manageable" })]);
    expect(progressLines(undefined, detailed)).toEqual(["manage: skipped — already manageable"]);
    expect(progressLines(CLEAN_WAIT, CANCELLING)[0]).toMatch(/^cancelling: /);
    expect(progressLines(CANCELLING, CANCELLING)).toEqual([]);
  });

  it("ends with the outcome: its code unless it succeeded or was cancelled", () => {
    expect(outcomeLine(AVAILABLE)).toBe(
      `Operation ${OP_ID} succeeded: manage, provide done; Ironic node available`,
    );
    expect(outcomeLine(CLEAN_FAILED)).toBe(
      `Operation ${OP_ID} failed (IronicStepFailed): provide: Agent returned error for clean step erase_devices_metadata`,
    );
    expect(outcomeLine(CANCELLED)).toBe(
      `Operation ${OP_ID} cancelled: cancelled: aborted in Ironic (clean wait)`,
    );
  });
});

describe("valence node-register with lifecycle steps", () => {
  it("follows the operation from its Location on the CLI's origin, a line per step on stderr, and exits 0", async () => {
    const { code, out, err, requests, sleeps } = await valence(
      ["node-register", "n1", "--manage", "--provide"],
      {
        looks: [PENDING, VERIFYING, CLEANING, CLEAN_WAIT, CLEAN_WAIT, AVAILABLE],
        respond: registers(),
      },
    );

    expect(code).toBe(0);
    expect(requests[0]?.body).toEqual({ manage: true, provide: true });
    const looks = lookedAt(requests);
    expect(looks).toHaveLength(6);
    expect(looks.every((request) => request.url.origin === "http://127.0.0.1:8181")).toBe(true);
    // Retry-After says 5 s; progress shows at least every 2 s.
    expect(sleeps).toEqual([250, 500, 1_000, 2_000, 2_000, 2_000]);
    expect(err).toBe(
      [
        `n1: registered in Ironic as ${IRONIC_UUID}; operation ${OP_ID} runs manage, provide`,
        "n1: manage: running (Ironic: verifying → manageable)",
        "n1: manage: succeeded (Ironic: manageable)",
        "n1: provide: running (Ironic: cleaning → available)",
        "n1: provide: running (Ironic: clean wait → available)",
        "n1: provide: succeeded (Ironic: available)",
        `Operation ${OP_ID} succeeded: manage, provide done; Ironic node available`,
        "",
      ].join("\n"),
    );
    // The node as it is now (Ironic's live state), then the operation and its steps.
    expect(requests.at(-1)?.url.pathname).toBe(`/v1/nodes/${NODE_UUID}`);
    expect(requests.at(-1)?.url.search).toBe("?refresh=true");
    expect(out).toMatch(/│ ironic\.provision_state\s+│ available\s+│/);
    expect(out).toMatch(/│ state\s+│ succeeded\s+│/);
    expect(out).toMatch(/│ provide\s+│ succeeded\s+│ available/);
  });

  it("with -f json prints the node with its ended operation as one JSON document", async () => {
    const { code, out } = await valence(["node-register", "n1", "--manage", "-f", "json"], {
      looks: [AVAILABLE],
      respond: (request) =>
        request.url.pathname === `/v1/nodes/${NODE_UUID}`
          ? { status: 200, body: { ...NODE, ironic: { ...NODE.ironic, provision_state: "available" } } }
          : registers()(request),
    });

    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      uuid: NODE_UUID,
      ironic: { provision_state: "available" },
      operation: { id: OP_ID, state: "succeeded" },
    });
  });

  it.each([
    ["failed", CLEAN_FAILED, /^Operation .* failed \(IronicStepFailed\): provide: Agent returned error/m],
    ["cancelled", CANCELLED, /^Operation .* cancelled: cancelled: aborted in Ironic/m],
  ])("exits 5 when the operation ends %s, saying how", async (_state, ended, message) => {
    const { code, err, out } = await valence(["node-register", "n1", "--manage", "--provide"], {
      looks: [CLEAN_WAIT, ended],
      respond: registers(),
    });

    expect(code).toBe(5);
    expect(err).toMatch(message);
    expect(out).toMatch(new RegExp(`│ state\\s+│ ${ended.state}\\s+│`));
  });

  it("--no-wait prints the operation and exits 0 at once, saying how to follow it", async () => {
    const table = await valence(["node-register", "n1", "--provide", "--no-wait"], { respond: registers() });
    const json = await valence(["node-register", "n1", "--provide", "--no-wait", "-f", "json"], {
      respond: registers(),
    });

    expect(table.code).toBe(0);
    expect(table.requests).toHaveLength(1);
    expect(table.out).toMatch(/│ managed_by\s+│ ironic\s+│/);
    expect(table.out).toMatch(new RegExp(`│ id\\s+│ ${OP_ID}\\s+│`));
    expect(table.out).toMatch(/│ state\s+│ pending\s+│/);
    expect(table.err).toContain(`valence operation-show ${OP_ID} --wait`);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({
      uuid: NODE_UUID,
      operation: { id: OP_ID, state: "pending" },
    });
  });

  it("--inspect and --wait-timeout go in the body: the operation's deadline, up to 7 days", async () => {
    const { requests } = await valence(
      ["node-register", "n1", "--inspect", "--wait-timeout", "604800", "--no-wait"],
      { respond: registers() },
    );

    expect(requests[0]?.body).toEqual({ inspect: true, wait_timeout: 604_800 });
  });

  it("a register without lifecycle steps (200) prints the node as before and follows nothing", async () => {
    const { code, out, requests } = await valence(["node-register", "n1"], {
      respond: () => ({ status: 200, body: NODE }),
    });

    expect(code).toBe(0);
    expect(requests).toHaveLength(1);
    expect(out).toMatch(/│ managed_by\s+│ ironic\s+│/);
    expect(out).not.toContain("operation");
  });

  it("Ctrl-C while waiting leaves the operation running, says how to follow it, and exits 130", async () => {
    const { code, err, requests } = await valence(["node-register", "n1", "--manage", "--provide"], {
      looks: [CLEAN_WAIT],
      respond: registers(),
      onSleep: (count, interrupt) => {
        if (count === 2) interrupt();
      },
    });

    expect(code).toBe(130);
    expect(err).toContain("n1: provide: running (Ironic: clean wait → available)");
    expect(err).toContain(
      `Interrupted. Operation ${OP_ID} goes on. Follow it: valence operation-show ${OP_ID} --wait; ` +
        `cancel it: valence operation-cancel ${OP_ID}`,
    );
    expect(requests.some((request) => request.url.pathname.endsWith("/cancel"))).toBe(false);
  });

  it("rides out a throttled or failing look (honouring Retry-After), and gives up after 5 in a row (exit 4)", async () => {
    const unavailable = {
      status: 503,
      body: { message: "Service Unavailable" },
      headers: { "retry-after": "7" },
    };
    const broken = {
      status: 500,
      body: {
        request_id: "r",
        code: "InternalError",
        status: 500,
        title: "Internal Server Error",
        detail: "x",
      },
    };
    const recovered = await valence(["node-register", "n1", "--manage"], {
      looks: [unavailable, broken, AVAILABLE],
      respond: registers(),
    });
    const gaveUp = await valence(["node-register", "n1", "--manage"], {
      looks: [CLEAN_WAIT, broken],
      respond: registers(),
    });

    expect(recovered.code).toBe(0);
    expect(recovered.sleeps).toContain(7_000);
    expect(gaveUp.code).toBe(4);
    expect(lookedAt(gaveUp.requests)).toHaveLength(6);
    expect(gaveUp.err).toContain("Internal Server Error: x\nStopped following. Operation");
    expect(gaveUp.err).toContain(`valence operation-show ${OP_ID} --wait`);
  });

  it("stops at once on a refusal of the look (404), exit 3", async () => {
    const gone = {
      status: 404,
      body: { request_id: "r", code: "OperationNotFound", status: 404, title: "Not Found", detail: "gone" },
    };
    const { code, err, requests } = await valence(["node-register", "n1", "--manage"], {
      looks: [gone],
      respond: registers(),
    });

    expect(code).toBe(3);
    expect(lookedAt(requests)).toHaveLength(1);
    expect(err).toContain("Not Found: gone");
  });
});

describe("valence operation-show, operation-list, operation-cancel", () => {
  it("operation-show prints the operation and its steps; --wait follows it to its end", async () => {
    const shown = await valence(["operation-show", OP_ID], { looks: [CLEAN_WAIT] });
    const waited = await valence(["operation-show", OP_ID, "--wait"], { looks: [CLEAN_WAIT, CLEAN_FAILED] });

    expect(shown.code).toBe(0);
    expect(lookedAt(shown.requests)).toHaveLength(1);
    expect(shown.out).toMatch(/│ Step\s+│ State\s+│ Provision State\s+│ Target/);
    expect(shown.out).toMatch(/│ provide\s+│ running\s+│ clean wait\s+│ available/);
    expect(waited.code).toBe(5);
    expect(waited.err).toContain("n1: provide: failed (Ironic: clean failed → available) last_error: Agent");
    expect(waited.out).toMatch(/│ state\s+│ failed\s+│/);
  });

  it("operation-list lists a node's operations over every page, newest first, one row each", async () => {
    const older = { ...AVAILABLE, id: "11111111-2222-4333-8444-555555555555", kind: "provide" as const };
    const { code, out, requests } = await valence(["operation-list", "n1"], {
      respond: (request) =>
        request.url.searchParams.get("marker")
          ? { status: 200, body: [older] }
          : {
              status: 200,
              body: [CLEAN_WAIT],
              headers: { link: `<http://proxy.internal/v1/nodes/n1/operations?marker=${OP_ID}>; rel="next"` },
            },
    });

    expect(code).toBe(0);
    expect(requests.map((request) => `${request.url.origin}${request.url.pathname}`)).toEqual([
      "http://127.0.0.1:8181/v1/nodes/n1/operations",
      "http://127.0.0.1:8181/v1/nodes/n1/operations",
    ]);
    expect(out).toMatch(/│ ID\s+│ Kind\s+│ State\s+│ Steps\s+│ Outcome\s+│ Created/);
    expect(out).toMatch(
      new RegExp(`│ ${OP_ID} │ register │ running\\s+│ manage=succeeded, provide=running\\s+│ None`),
    );
    expect(out).toMatch(/│ 11111111-2222-4333-8444-555555555555 │ provide\s+│ succeeded\s+│ .* │ Succeeded/);
  });

  it("operation-cancel asks, follows until the operation ended cancelled (exit 0), or says it finished first (exit 5)", async () => {
    const cancels = (request: Recorded): Answer | undefined =>
      request.method === "POST" && request.url.pathname === `/v1/operations/${OP_ID}/cancel`
        ? { status: 202, body: CANCELLING }
        : undefined;
    const cancelled = await valence(["operation-cancel", OP_ID], {
      looks: [CANCELLING, CANCELLED],
      respond: cancels,
    });
    const tooLate = await valence(["operation-cancel", OP_ID], { looks: [AVAILABLE], respond: cancels });
    const noWait = await valence(["operation-cancel", OP_ID, "--no-wait", "-f", "json"], {
      respond: cancels,
    });

    expect(cancelled.code).toBe(0);
    expect(cancelled.requests[0]?.method).toBe("POST");
    expect(cancelled.err).toMatch(/^n1: cancelling: /m);
    expect(cancelled.err).toContain("n1: provide: cancelled (Ironic: clean failed)");
    expect(cancelled.err).toContain(`Operation ${OP_ID} cancelled`);
    expect(cancelled.out).toMatch(/│ state\s+│ cancelled\s+│/);
    expect(tooLate.code).toBe(5);
    expect(tooLate.err).toContain(`Operation ${OP_ID} succeeded`);
    expect(noWait.code).toBe(0);
    expect(noWait.requests).toHaveLength(1);
    expect(JSON.parse(noWait.out)).toMatchObject({ id: OP_ID, state: "cancelling" });
  });

  it("operation-cancel of an operation that already ended is the API's refusal (exit 3)", async () => {
    const { code, err } = await valence(["operation-cancel", OP_ID], {
      respond: () => ({
        status: 409,
        body: {
          request_id: "r",
          code: "OperationStateConflict",
          status: 409,
          title: "Conflict",
          detail: "it already ended succeeded; there is nothing to cancel",
        },
      }),
    });

    expect(code).toBe(3);
    expect(err).toContain("Conflict: it already ended succeeded");
  });
});

describe("valence node-manage, node-provide, node-inspect, node-clean", () => {
  const starts = (request: Recorded): Answer | undefined =>
    request.method === "POST" &&
    /^\/v1\/nodes\/n1\/(manage|provide|inspect|clean)$/.test(request.url.pathname)
      ? {
          status: 202,
          body: { ...PENDING, kind: "provide" },
          headers: { location: `/v1/operations/${OP_ID}` },
        }
      : undefined;

  it.each([
    [["node-provide", "n1"], "/v1/nodes/n1/provide", {}],
    [["node-inspect", "n1", "--wait-timeout", "3600"], "/v1/nodes/n1/inspect", { wait_timeout: 3600 }],
    [["node-manage", "n1"], "/v1/nodes/n1/manage", {}],
    [
      ["node-clean", "n1", "--clean-steps", '[{"interface": "deploy", "step": "erase_devices_metadata"}]'],
      "/v1/nodes/n1/clean",
      { clean_steps: [{ interface: "deploy", step: "erase_devices_metadata" }] },
    ],
  ])("valence %j posts Ironic's verb and waits for the operation", async (argv, path, body) => {
    const { code, requests, err, out } = await valence(argv, { looks: [AVAILABLE], respond: starts });

    expect(code).toBe(0);
    expect(requests[0]).toMatchObject({ method: "POST", body });
    expect(requests[0]?.url.pathname).toBe(path);
    expect(lookedAt(requests)).toHaveLength(1);
    expect(err).toContain(`Operation ${OP_ID} succeeded`);
    expect(out).toMatch(/│ state\s+│ succeeded\s+│/);
  });

  it("node-clean reads --clean-steps from @file; --no-wait prints the operation and exits 0", async () => {
    const { code, requests, out } = await valence(
      ["node-clean", "n1", "--clean-steps", "@steps.json", "--no-wait", "-f", "json"],
      { respond: starts, files: { "steps.json": '[{"interface": "raid", "step": "delete_configuration"}]' } },
    );

    expect(code).toBe(0);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.body).toEqual({ clean_steps: [{ interface: "raid", step: "delete_configuration" }] });
    expect(JSON.parse(out)).toMatchObject({ id: OP_ID, state: "pending" });
  });

  it("node-manage <podm> <index> still manages a composed system", async () => {
    const { code, requests } = await valence(["node-manage", "6f1a9c2e-4b7d-4e8a-9c3f-2d5e7a1b8c40", "3"], {
      respond: () => ({ status: 201, body: NODE }),
    });

    expect(code).toBe(0);
    expect(requests[0]?.url.pathname).toBe("/v1/nodes/manage");
    expect(requests[0]?.body).toEqual({ podm_id: "6f1a9c2e-4b7d-4e8a-9c3f-2d5e7a1b8c40", node_index: "3" });
  });

  it.each([
    [["node-clean", "n1"], "--clean-steps is required"],
    [["node-clean", "n1", "--clean-steps", "[{"], "--clean-steps: not JSON"],
    [
      ["node-clean", "n1", "--clean-steps", '[{"interface": "disk", "step": "x"}]'],
      "clean_steps.0.interface",
    ],
    [
      ["node-clean", "n1", "--clean-steps", "@missing.json"],
      "--clean-steps: cannot read missing.json: ENOENT",
    ],
    [["node-provide", "n1", "--wait-timeout", "0"], "must be an integer from 1 to 604800"],
    [["node-manage", "n1", "--name", "x"], "--name goes with <podm> <index>"],
    [["node-manage", "podm1", "3", "--no-wait"], "--no-wait and --wait-timeout go with <node> alone"],
    [["operation-list", "n1", "--limit", "0"], "must be an integer from 1 to 1000"],
  ])("valence %j is a usage error: exit 2, nothing sent", async (argv, message) => {
    const { code, err, requests } = await valence(argv, { respond: starts });

    expect(code).toBe(2);
    expect(err).toContain(message);
    expect(requests).toEqual([]);
  });
});

describe("valence podmanager-update with a re-sync of its nodes", () => {
  const PODM = {
    uuid: "5d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a",
    name: "podm1",
    url: "https://192.0.2.10",
    authentication: [{ type: "basic", auth_items: { username: "admin", password: "***" } }],
  };
  const resyncStep = (state: StepView["state"]) => step("node-a", state);
  const RESYNC_PENDING = operation("pending", [resyncStep("pending")], null, "resync");
  const RESYNCED = operation(
    "succeeded",
    [resyncStep("succeeded")],
    { code: "Succeeded", detail: "1 node" },
    "resync",
  );
  const NOT_FOLLOWED = operation(
    "failed",
    [resyncStep("failed")],
    { code: "ResyncIncomplete", detail: "node-a did not take the new credentials" },
    "resync",
  );
  const patches = (request: Recorded): Answer | undefined => {
    if (request.method === "GET" && request.url.pathname === "/v1/pod_managers")
      return { status: 200, body: [PODM] };
    if (request.method === "PATCH" && request.url.pathname === `/v1/pod_managers/${PODM.uuid}`)
      return {
        status: 202,
        body: { ...PODM, operation: RESYNC_PENDING },
        headers: { location: `http://127.0.0.1:8181/v1/operations/${OP_ID}`, "retry-after": "5" },
      };
    return undefined;
  };
  const argv = ["podmanager-update", "podm1", "--name", "podm-renamed"];

  it("follows the resync operation to its end, exit 0 when every node followed", async () => {
    const { code, err, requests } = await valence(argv, {
      looks: [RESYNC_PENDING, RESYNCED],
      respond: patches,
    });
    expect(code).toBe(0);
    expect(lookedAt(requests).length).toBeGreaterThanOrEqual(1);
    expect(err).toContain(outcomeLine(RESYNCED));
  });

  it("exits 5 when a node did not follow, naming why", async () => {
    const { code, err } = await valence(argv, { looks: [NOT_FOLLOWED], respond: patches });
    expect(code).toBe(5);
    expect(err).toContain("ResyncIncomplete");
  });

  it("--no-wait returns at once, saying how to follow", async () => {
    const { code, err, requests } = await valence([...argv, "--no-wait"], {
      looks: [RESYNCED],
      respond: patches,
    });
    expect(code).toBe(0);
    expect(lookedAt(requests)).toEqual([]);
    expect(err).toContain(OP_ID);
  });
});

describe("valence --help", () => {
  it("lists the operation commands and the exit codes of waiting", async () => {
    const { code, out } = await valence(["--help"]);

    expect(code).toBe(0);
    for (const command of [
      "operation-show",
      "operation-list",
      "operation-cancel",
      "node-provide",
      "node-inspect",
      "node-clean",
      "node-manage",
    ])
      expect(out).toMatch(new RegExp(`^  ${command} `, "m"));
    expect(out).toContain("5  an operation the command waited for failed or was cancelled");
    expect(out).toContain("130  Ctrl-C while waiting for an operation (the operation goes on)");
  });

  it.each([
    ["node-register", ["--inspect", "--no-wait", "--wait-timeout", "operation-show <id> --wait"]],
    ["node-manage", ["<podm|node>", "[index]", "--no-wait", "--wait-timeout", "--name"]],
    ["node-clean", ["--clean-steps", "--no-wait"]],
    ["operation-show", ["--wait"]],
    ["operation-cancel", ["--no-wait"]],
  ])("%s --help documents waiting", async (command, flags) => {
    const { code, out } = await valence([command, "--help"]);

    expect(code).toBe(0);
    for (const flag of flags) expect(out).toContain(flag);
  });
});
