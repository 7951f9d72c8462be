import { mkdir, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReconcileSummary } from "../../lib/nodes/reconciler.ts";
import { type Fault, type FaultProxy, type FaultRule, faults } from "../support/fault-proxy.ts";
import { checkInvariants } from "../support/invariants.ts";
import { type NodeBody, type ReliabilityStack, startReliabilityStack } from "../support/reliability-stack.ts";

/**
 * Every step of register and unregister, failed every way a real Ironic, pod manager, DynamoDB or network
 * fails, then one reconcile pass: whatever happened, Ironic and the store agree again and the node registers
 * again. Trials run in waves of independent nodes (each fault is scoped to its node), one reconcile per wave.
 * A register's lifecycle steps are its operation's, faulted at each of the workflow's steps in
 * test/unit/lifecycle-workflow.test.ts and test/integration/lifecycle-workflow.test.ts.
 */

/** Valence's per-request timeouts in this test; the `timeout` fault holds a request past them. */
/** Long enough that a loaded Ironic (one process, sqlite) still answers fault-free calls in time. */
const TIMEOUT_MS = 12_000;
const LATE_MS = TIMEOUT_MS + 700;
const WAVE = 22;
/** Fault-free registers and unregisters at once (see `limited`). */
const CLEAN_CONCURRENCY = 4;
/** NICs per node: a first, a middle and a last port create. */
const NICS = 3;

type Target = "ironic" | "podm" | "dynamo";
type Operation = "register" | "unregister";

interface TrialNode {
  node: NodeBody;
  /** The Ironic node of this Valence node, once Ironic gave it a uuid. */
  ironicUuid: () => string | undefined;
}

interface Step {
  name: string;
  operation: Operation;
  target: Target;
  /** The register body. */
  body?: Record<string, unknown>;
  /** Which request of this node's the step is. */
  match(trial: TrialNode): Omit<FaultRule, "fault" | "times" | "label">;
}

interface FaultKind {
  name: string;
  targets: readonly Target[];
  /** Matching requests that fail: every one (the caller's retries too), or just the first. */
  times: number;
  fault(target: Target, trial: TrialNode): Fault;
}

const dynamoUpdateOf = (uuid: string, managedBy: "ironic" | "valence") => ({
  method: "POST",
  path: "/",
  // The saga's last write: the one that sets managed_by and registered_at on this node.
  when: (request: { headers: Record<string, unknown>; body: string }) =>
    String(request.headers["x-amz-target"]).endsWith(".UpdateItem") &&
    request.body.includes(`NODE#${uuid}`) &&
    request.body.includes("registered_at") &&
    request.body.includes(`{"S":"${managedBy}"}`),
});

const STEPS: Step[] = [
  {
    name: "pod-manager read",
    operation: "register",
    target: "podm",
    // Valence's own reads carry its request id; Ironic's (sushy's) do not.
    match: ({ node }) => ({
      method: "GET",
      path: `/redfish/v1/Systems/${node.index}`,
      when: (request) => request.headers["x-request-id"] !== undefined,
    }),
  },
  {
    name: "node create",
    operation: "register",
    target: "ironic",
    match: ({ node }) => ({ method: "POST", path: "/v1/nodes", when: (r) => r.body.includes(node.uuid) }),
  },
  ...Array.from({ length: NICS }, (_, i) => i + 1).map(
    (nth): Step => ({
      name: `port create ${nth}`,
      operation: "register",
      target: "ironic",
      match: ({ node }) => ({
        method: "POST",
        path: "/v1/ports",
        nth,
        when: (r) => r.body.includes(node.uuid),
      }),
    }),
  ),
  {
    name: "final DynamoDB update (register)",
    operation: "register",
    target: "dynamo",
    match: ({ node }) => dynamoUpdateOf(node.uuid, "ironic"),
  },
  {
    name: "Ironic lookup (unregister)",
    operation: "unregister",
    target: "ironic",
    match: (trial) => ({ method: "GET", path: `/v1/nodes/${trial.ironicUuid()}` }),
  },
  {
    name: "Ironic delete",
    operation: "unregister",
    target: "ironic",
    match: (trial) => ({ method: "DELETE", path: `/v1/nodes/${trial.ironicUuid()}` }),
  },
  {
    name: "final DynamoDB update (unregister)",
    operation: "unregister",
    target: "dynamo",
    match: ({ node }) => dynamoUpdateOf(node.uuid, "valence"),
  },
];

const ALL: readonly Target[] = ["ironic", "podm", "dynamo"];
const serverError = (target: Target): Fault =>
  target === "ironic"
    ? faults.ironicServerError()
    : target === "podm"
      ? faults.redfishServerError()
      : faults.dynamoInternalError();

const KINDS: FaultKind[] = [
  { name: "500", targets: ALL, times: Number.POSITIVE_INFINITY, fault: serverError },
  {
    name: "503",
    targets: ALL,
    times: Number.POSITIVE_INFINITY,
    fault: (target) => (target === "ironic" ? faults.ironicUnavailable() : faults.status(503, "")),
  },
  {
    name: "409 NodeLocked",
    targets: ["ironic"],
    times: Number.POSITIVE_INFINITY,
    fault: (_target, trial) => faults.ironicNodeLocked(trial.ironicUuid() ?? trial.node.name),
  },
  { name: "connection reset", targets: ALL, times: Number.POSITIVE_INFINITY, fault: () => faults.reset() },
  { name: "timeout (lands late)", targets: ALL, times: 1, fault: () => faults.delay(LATE_MS) },
  { name: "answer lost (500)", targets: ALL, times: 1, fault: () => faults.afterThen500() },
  { name: "answer lost (reset)", targets: ALL, times: 1, fault: () => faults.afterThenReset() },
];

interface Trial {
  step: Step;
  kind: FaultKind;
}

/** Rough seconds a trial takes: waves of alike trials finish together instead of waiting on the slowest. */
function estimate({ step, kind }: Trial): number {
  const retried = kind.times > 1 && step.target === "ironic" && kind.name !== "500" ? 6 : 0;
  const late = kind.name.startsWith("timeout") ? 3.5 : 0;
  return retried + late;
}

interface TrialResult {
  step: string;
  kind: string;
  operation: Operation;
  /** What the faulted register/unregister answered. */
  status: number;
  code?: string;
  /** The rule caught a request (a step the operation never reached would prove nothing). */
  fired: boolean;
  reconcile: ReconcileSummary;
  violations: string[];
  /** Registered after the pass, but Ironic lacks some of its ports. */
  incomplete: boolean;
  registeredAgain: boolean;
  /** Other broken promises: an answer that contradicts the store, a malformed error body. */
  notes: string[];
  passed: boolean;
  node?: string;
  history?: unknown;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the tasks a few at a time. The trials of a wave run all at once (their faults end them quickly); the
 * fault-free work around them (preparing, registering again) would otherwise queue 22 registers on Ironic's
 * single API worker and time out on a busy machine, failing trials for the wrong reason.
 */
async function limited<T>(tasks: Array<() => Promise<T>>, concurrency = CLEAN_CONCURRENCY): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, tasks.length) }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await (tasks[index] as () => Promise<T>)();
      }
    }),
  );
  return results;
}

describe("fault matrix: every step of register and unregister × every fault, then one reconcile pass", () => {
  let stack: ReliabilityStack;
  const nodes: NodeBody[] = [];
  const ironicUuids = new Map<string, string>();
  const results: TrialResult[] = [];

  beforeAll(async () => {
    stack = await startReliabilityStack({
      pool: WAVE,
      nicsPerBlock: NICS,
      env: {
        VALENCE_INTENT_STALE_SECONDS: "1",
        IRONIC_TIMEOUT_MS: String(TIMEOUT_MS),
        VALENCE_PODM_TIMEOUT_MS: String(TIMEOUT_MS),
      },
    });
    // The uuid Ironic gives each node: the provisioning steps are requests on that uuid.
    stack.proxies.ironic.observe((request, answer) => {
      if (request.method !== "POST" || request.path !== "/v1/nodes" || answer.status !== 201) return;
      const created = JSON.parse(answer.body) as { uuid: string; extra: { valence_node_uuid?: string } };
      if (created.extra.valence_node_uuid) ironicUuids.set(created.extra.valence_node_uuid, created.uuid);
    });
    for (let i = 0; i < WAVE; i++) nodes.push(await stack.compose(`fm-${String(i + 1).padStart(2, "0")}`));
  });

  afterAll(async () => {
    if (results.length > 0) {
      await mkdir(".test-results", { recursive: true });
      await writeFile(".test-results/faults-matrix.json", `${JSON.stringify(results, null, 2)}\n`);
    }
    await stack?.stop();
  });

  const proxyOf = (target: Target): FaultProxy => stack.proxies[target];
  const trialNode = (node: NodeBody): TrialNode => ({ node, ironicUuid: () => ironicUuids.get(node.uuid) });

  /** Waits until every intent left behind is stale, then runs one reconcile pass. */
  async function settle(): Promise<ReconcileSummary> {
    const latest = (await stack.storeNodes())
      .map((node) => (node.intent ? Date.parse(node.intent.started_at) : 0))
      .reduce((a, b) => Math.max(a, b), 0);
    if (latest > 0) await sleep(Math.max(0, latest + 1_100 - Date.now()));
    return stack.reconcile();
  }

  /** Back to `valence` if need be, then register and unregister without faults. */
  async function registersAgain(node: NodeBody, notes: string[]): Promise<boolean> {
    const current = (await stack.call<NodeBody>("GET", `/v1/nodes/${node.uuid}`)).body;
    if (current.managed_by === "ironic") {
      const unregistered = await stack.unregister(node.uuid);
      if (unregistered.status !== 200) notes.push(`unregister after the pass: ${unregistered.text}`);
    }
    const again = await stack.call("POST", `/v1/nodes/${node.uuid}/register`);
    if (again.status !== 200) {
      notes.push(`register again: ${again.text}`);
      return false;
    }
    const cleared = await stack.unregister(node.uuid);
    if (cleared.status !== 200) notes.push(`unregister after registering again: ${cleared.text}`);
    return cleared.status === 200;
  }

  async function runWave(wave: Trial[]): Promise<TrialResult[]> {
    const assigned = wave.map((trial, i) => ({ trial, at: trialNode(nodes[i] as NodeBody) }));
    const mine = (at: TrialNode) => (text: string) =>
      text.includes(at.node.uuid) ||
      text.includes(`(${at.node.name})`) ||
      (at.ironicUuid() !== undefined && text.includes(at.ironicUuid() as string));

    // Each trial starts from its operation's state: `valence` for a register, registered for an unregister.
    const prepared = await limited(
      assigned.map(({ trial, at }) => async () => {
        const current = (await stack.call<NodeBody>("GET", `/v1/nodes/${at.node.uuid}`)).body;
        const wanted = trial.step.operation === "register" ? "valence" : "ironic";
        if (current.managed_by === wanted) return [];
        // Preparing is fault-free work; a loaded Ironic may still refuse it once, so it gets three tries.
        let failure = "";
        for (let attempt = 0; attempt < 3; attempt++) {
          const now = (await stack.call<NodeBody>("GET", `/v1/nodes/${at.node.uuid}`)).body;
          if (now.managed_by === wanted && !now.intent) return [];
          const moved =
            wanted === "ironic"
              ? await stack.call("POST", `/v1/nodes/${at.node.uuid}/register`)
              : await stack.unregister(at.node.uuid);
          if (moved.status === 200) return [];
          failure = moved.text;
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
        return [`cannot prepare ${at.node.name}: ${failure}`];
      }),
    );

    const armed = assigned.map(({ trial, at }) =>
      proxyOf(trial.step.target).inject({
        ...trial.step.match(at),
        times: trial.kind.times,
        fault: trial.kind.fault(trial.step.target, at),
        label: `${trial.kind.name} @ ${trial.step.name} (${at.node.name})`,
      }),
    );
    const answers = await Promise.all(
      assigned.map(({ trial, at }) =>
        stack.call(
          "POST",
          `/v1/nodes/${at.node.uuid}/${trial.step.operation}`,
          trial.step.operation === "register" ? (trial.step.body ?? {}) : {},
        ),
      ),
    );
    // Late requests land before anyone judges.
    await Promise.all(ALL.map((target) => proxyOf(target).idle()));
    for (const target of ALL) proxyOf(target).clear();

    // The answer tells the truth about the store: a success is recorded, a failure left the node as it was.
    const before = new Map((await stack.storeNodes()).map((node) => [node.uuid, node]));
    const notes = assigned.map(({ trial, at }, i) => {
      const found: string[] = [...(prepared[i] ?? [])];
      const answer = answers[i] as (typeof answers)[number];
      const stored = before.get(at.node.uuid);
      const succeeded = answer.status < 300;
      const expected = (trial.step.operation === "register") === succeeded ? "ironic" : "valence";
      if (stored?.managed_by !== expected || (succeeded && stored.intent)) {
        found.push(
          `answered ${answer.status} to ${trial.step.operation}, but the store says ${stored?.managed_by}` +
            (stored?.intent ? ` (${stored.intent.op})` : ""),
        );
      }
      if (!succeeded) {
        const body = (answer.body ?? {}) as Record<string, unknown>;
        for (const key of ["request_id", "code", "status", "title", "detail"]) {
          if (!(key in body)) found.push(`error body lacks ${key}`);
        }
      }
      if ((armed[i]?.fired ?? 0) === 0) found.push("the fault never fired");
      return found;
    });

    const summary = await settle();
    const report = await stack.invariants();
    const again = await limited(
      assigned.map(
        ({ at }, i) =>
          () =>
            registersAgain(at.node, notes[i] as string[]),
      ),
    );

    // Whatever registering again left behind is settled too, and the wave must end clean.
    await settle();
    const after = await stack.invariants();
    const stray = [
      ...report.violations.filter((v) => !assigned.some(({ at }) => mine(at)(v))),
      ...after.violations,
      ...(after.ironicNodes > 0 ? [`${after.ironicNodes} Ironic node(s) left after the wave`] : []),
    ];

    return Promise.all(
      assigned.map(async ({ trial, at }, i): Promise<TrialResult> => {
        const answer = answers[i] as (typeof answers)[number];
        const violations = [...report.violations.filter(mine(at)), ...stray];
        const trialNotes = notes[i] as string[];
        const passed = violations.length === 0 && trialNotes.length === 0 && again[i] === true;
        return {
          step: trial.step.name,
          kind: trial.kind.name,
          operation: trial.step.operation,
          status: answer.status,
          ...(answer.status >= 300 ? { code: String((answer.body as { code?: string })?.code) } : {}),
          fired: (armed[i]?.fired ?? 0) > 0,
          reconcile: summary,
          violations,
          incomplete: report.incomplete.some(mine(at)),
          registeredAgain: again[i] === true,
          notes: trialNotes,
          passed,
          // What happened to a failed trial's node, for whoever reads the report.
          ...(passed
            ? {}
            : {
                node: `${at.node.name} ${at.node.uuid}`,
                history: (await stack.call("GET", `/v1/nodes/${at.node.uuid}/history`)).body,
              }),
        };
      }),
    );
  }

  it("sees debris and false `ironic` when they are there (the checker can fail)", async () => {
    const [node] = nodes as [NodeBody];
    const foreign = await stack.ironic.createNode({
      name: "not-valence-made",
      driver: "fake-hardware",
      extra: { valence_node_uuid: node.uuid },
    });
    const mac = "52:54:00:ee:ee:01";
    await stack.ironic.createPort({ node_uuid: foreign.uuid, address: mac });
    try {
      const report = await stack.invariants();
      expect(report.violations.join("\n")).toContain(`Ironic node ${foreign.uuid}`);
      expect(report.violations.join("\n")).toContain(mac);
      const lying = (await stack.storeNodes()).map((n) =>
        n.uuid === node.uuid ? { ...n, managed_by: "ironic" as const, ironic_node_uuid: "0f0f0f0f-gone" } : n,
      );
      const lies = await checkInvariants(stack.ironic, lying);
      expect(lies.violations.join("\n")).toContain("0f0f0f0f-gone, which Ironic does not have");
    } finally {
      await stack.ironic.deleteNode(foreign.uuid);
    }
    expect((await stack.invariants()).violations).toEqual([]);
  });

  it("leaves no debris and no false `ironic`, and every node registers again", async () => {
    const trials: Trial[] = STEPS.flatMap((step) =>
      KINDS.filter((kind) => kind.targets.includes(step.target)).map((kind) => ({ step, kind })),
    ).sort((a, b) => estimate(b) - estimate(a));
    const waves: number[] = [];
    for (let i = 0; i < trials.length; i += WAVE) {
      const started = Date.now();
      results.push(...(await runWave(trials.slice(i, i + WAVE))));
      waves.push(Date.now() - started);
    }

    const byKind = new Map<string, { run: number; passed: number; succeeded: number; incomplete: number }>();
    for (const result of results) {
      const row = byKind.get(result.kind) ?? { run: 0, passed: 0, succeeded: 0, incomplete: 0 };
      row.run++;
      if (result.passed) row.passed++;
      if (result.status < 300) row.succeeded++;
      if (result.incomplete) row.incomplete++;
      byKind.set(result.kind, row);
    }
    console.log(
      `fault matrix: ${results.length} trials over ${STEPS.length} steps, ${results.filter((r) => r.passed).length} passed` +
        ` (waves of ${WAVE}: ${waves.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(", ")})\n` +
        [...byKind]
          .map(
            ([kind, row]) =>
              `  ${kind.padEnd(22)} run ${String(row.run).padStart(2)}, passed ${String(row.passed).padStart(2)}` +
              ` (operation succeeded anyway: ${row.succeeded}; adopted without its ports by the pass: ${row.incomplete})`,
          )
          .join("\n"),
    );
    expect(results.filter((r) => !r.passed)).toEqual([]);
    expect(results.length).toBe(trials.length);
  }, 300_000);
});
