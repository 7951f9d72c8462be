import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReconcileSummary } from "../../lib/nodes/reconciler.ts";
import { type ArmedRule, type FaultProxy, type FaultRule, faults } from "../support/fault-proxy.ts";
import { runRegisterChild } from "../support/register-child-process.ts";
import { type NodeBody, type ReliabilityStack, startReliabilityStack } from "../support/reliability-stack.ts";

/**
 * A register or unregister running in its own process, killed with SIGKILL at each step boundary: while its
 * next request is held by the fault proxy, either before that request reached its upstream (dropped) or right
 * after it did its work there (forwarded once the process is dead). One reconcile pass must then settle every
 * node the way the saga promises: an incomplete register rolled back, a complete one finished, an unregister
 * finished. A register's lifecycle steps (manage, provide) are its operation's, killed at its own boundaries in
 * test/unit/lifecycle-workflow.test.ts and test/integration/operations.test.ts.
 */

const NICS = 3;

interface Boundary {
  name: string;
  operation: "register" | "unregister";
  body?: Record<string, unknown>;
  target: "ironic" | "podm" | "dynamo";
  /** The held request reaches its upstream after the kill (the step happened) or never (it did not). */
  forward: boolean;
  rule(trial: { node: NodeBody; requestId: string }): Omit<FaultRule, "fault">;
  /** Where the pass must leave the node. */
  settlesAs: "valence" | "ironic";
}

const fromChild = (requestId: string) => (request: { headers: Record<string, unknown> }) =>
  request.headers["x-openstack-request-id"] === `req-${requestId}`;

const finalWrite = (managedBy: "ironic" | "valence") => (trial: Parameters<Boundary["rule"]>[0]) => ({
  method: "POST",
  path: "/",
  when: (request: { headers: Record<string, unknown>; body: string }) =>
    String(request.headers["x-amz-target"]).endsWith(".UpdateItem") &&
    request.body.includes(`NODE#${trial.node.uuid}`) &&
    request.body.includes("registered_at") &&
    request.body.includes(`{"S":"${managedBy}"}`),
});

const ports = (nth: number) => (trial: Parameters<Boundary["rule"]>[0]) => ({
  method: "POST",
  path: "/v1/ports",
  nth,
  when: fromChild(trial.requestId),
});

const BOUNDARIES: Boundary[] = [
  {
    name: "before the pod-manager read",
    operation: "register",
    target: "podm",
    forward: false,
    rule: ({ node, requestId }) => ({
      method: "GET",
      path: `/redfish/v1/Systems/${node.index}`,
      when: (request) => request.headers["x-request-id"] === requestId,
    }),
    settlesAs: "valence",
  },
  {
    name: "before the node create",
    operation: "register",
    target: "ironic",
    forward: false,
    rule: ({ requestId }) => ({ method: "POST", path: "/v1/nodes", when: fromChild(requestId) }),
    settlesAs: "valence",
  },
  {
    name: "after the node create",
    operation: "register",
    target: "ironic",
    forward: true,
    rule: ({ requestId }) => ({ method: "POST", path: "/v1/nodes", when: fromChild(requestId) }),
    settlesAs: "valence",
  },
  ...Array.from({ length: NICS }, (_, i): Boundary => {
    const last = i + 1 === NICS;
    return {
      name: `after port create ${i + 1}${last ? " (the last)" : ""}`,
      operation: "register",
      target: "ironic",
      forward: true,
      rule: ports(i + 1),
      // Ironic has the whole node once the last port is there: the pass finishes the register.
      settlesAs: last ? "ironic" : "valence",
    };
  }),
  {
    name: "before the final write (register)",
    operation: "register",
    target: "dynamo",
    forward: false,
    rule: finalWrite("ironic"),
    settlesAs: "ironic",
  },
  {
    name: "after the final write (register)",
    operation: "register",
    target: "dynamo",
    forward: true,
    rule: finalWrite("ironic"),
    settlesAs: "ironic",
  },
  {
    name: "before the Ironic delete",
    operation: "unregister",
    target: "ironic",
    forward: false,
    rule: ({ requestId }) => ({ method: "DELETE", path: /^\/v1\/nodes\/[^/]+$/, when: fromChild(requestId) }),
    settlesAs: "valence",
  },
  {
    name: "after the Ironic delete",
    operation: "unregister",
    target: "ironic",
    forward: true,
    rule: ({ requestId }) => ({ method: "DELETE", path: /^\/v1\/nodes\/[^/]+$/, when: fromChild(requestId) }),
    settlesAs: "valence",
  },
  {
    name: "before the final write (unregister)",
    operation: "unregister",
    target: "dynamo",
    forward: false,
    rule: finalWrite("valence"),
    settlesAs: "valence",
  },
  {
    name: "after the final write (unregister)",
    operation: "unregister",
    target: "dynamo",
    forward: true,
    rule: finalWrite("valence"),
    settlesAs: "valence",
  },
];

interface KillResult {
  boundary: string;
  node: string;
  killedAt: string;
  heldReachedUpstream: number | null;
  intentBeforePass: string | null;
  settledAs: string;
  expected: string;
  violations: string[];
  registeredAgain: boolean;
  notes: string[];
  passed: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("process death: a register or unregister killed (SIGKILL) at each step boundary", () => {
  let stack: ReliabilityStack;
  const nodes: NodeBody[] = [];
  const children: ChildProcess[] = [];
  const results: KillResult[] = [];

  beforeAll(async () => {
    stack = await startReliabilityStack({
      pool: BOUNDARIES.length,
      nicsPerBlock: NICS,
      env: { VALENCE_INTENT_STALE_SECONDS: "1" },
    });
    for (let i = 0; i < BOUNDARIES.length; i++) {
      nodes.push(await stack.compose(`kill-${String(i + 1).padStart(2, "0")}`));
    }
  });

  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    if (results.length > 0) {
      await mkdir(".test-results", { recursive: true });
      await writeFile(".test-results/kill-register.json", `${JSON.stringify(results, null, 2)}\n`);
    }
    await stack?.stop();
  });

  it("settles every interrupted saga in one reconcile pass: finished or rolled back, never half", async () => {
    const proxyOf = (target: Boundary["target"]): FaultProxy => stack.proxies[target];
    const trials = BOUNDARIES.map((boundary, i) => ({
      boundary,
      node: nodes[i] as NodeBody,
      requestId: randomUUID(),
    }));

    // Unregisters start from a registered node.
    await Promise.all(
      trials
        .filter(({ boundary }) => boundary.operation === "unregister")
        .map(async ({ node }) => {
          expect((await stack.call("POST", `/v1/nodes/${node.uuid}/register`)).status).toBe(200);
        }),
    );

    const killed = await Promise.all(
      trials.map(async ({ boundary, node, requestId }) => {
        const armed: ArmedRule = proxyOf(boundary.target).inject({
          ...boundary.rule({ node, requestId }),
          fault: faults.hold(),
          label: `kill ${boundary.name}`,
        });
        const run = runRegisterChild(stack.childEnv, boundary.operation, node.uuid, requestId, boundary.body);
        children.push(run.child);
        const reached = await Promise.race([
          armed.firstFired.then(() => true),
          run.exited.then(() => false),
          sleep(60_000).then(() => false),
        ]);
        if (!reached)
          throw new Error(`${boundary.name}: the child never reached the boundary\n${run.output()}`);
        run.child.kill("SIGKILL");
        const exit = await run.exited;
        const statuses = await armed.release({ forward: boundary.forward });
        return { exit, upstream: statuses[0] ?? null, output: run.output() };
      }),
    );
    for (const { exit } of killed) expect(exit.signal).toBe("SIGKILL");
    for (const target of ["ironic", "podm", "dynamo"] as const) {
      await proxyOf(target).idle();
      proxyOf(target).clear();
    }

    const before = new Map((await stack.storeNodes()).map((node) => [node.uuid, node]));
    const latest = [...before.values()]
      .map((node) => (node.intent ? Date.parse(node.intent.started_at) : 0))
      .reduce((a, b) => Math.max(a, b), 0);
    await sleep(Math.max(0, latest + 1_100 - Date.now()));
    const summary = await stack.reconcile();
    const report = await stack.invariants();
    const after = new Map((await stack.storeNodes()).map((node) => [node.uuid, node]));

    for (const [i, { boundary, node }] of trials.entries()) {
      const mine = (text: string) => text.includes(node.uuid) || text.includes(`(${node.name})`);
      const settled = after.get(node.uuid);
      const notes: string[] = [];
      if (settled?.managed_by === "ironic") {
        const back = await stack.unregister(node.uuid);
        if (back.status !== 200) notes.push(`unregister after the pass: ${back.text}`);
      }
      const again = await stack.call("POST", `/v1/nodes/${node.uuid}/register`);
      if (again.status !== 200) notes.push(`register again: ${again.text}`);
      const cleared = again.status === 200 ? await stack.unregister(node.uuid) : undefined;
      if (cleared && cleared.status !== 200)
        notes.push(`unregister after registering again: ${cleared.text}`);
      const registeredAgain = cleared?.status === 200;
      const violations = report.violations.filter(mine);
      const intent = before.get(node.uuid)?.intent;
      results.push({
        boundary: boundary.name,
        node: node.name,
        killedAt: `${boundary.operation}, held request ${boundary.forward ? "forwarded after the kill" : "dropped"}`,
        heldReachedUpstream: killed[i]?.upstream ?? null,
        intentBeforePass: intent ? intent.op : null,
        settledAs: settled?.managed_by ?? "gone",
        expected: boundary.settlesAs,
        violations,
        registeredAgain,
        notes,
        passed:
          violations.length === 0 &&
          settled?.managed_by === boundary.settlesAs &&
          !settled?.intent &&
          registeredAgain,
      });
    }

    console.log(
      `process death: ${results.length} kills, ${results.filter((r) => r.passed).length} settled as promised ` +
        `by one pass ${JSON.stringify(pick(summary))}\n` +
        results
          .map(
            (r) =>
              `  ${r.passed ? "ok  " : "FAIL"} ${r.boundary.padEnd(40)} intent ${String(r.intentBeforePass).padEnd(13)} → ${r.settledAs}`,
          )
          .join("\n"),
    );
    expect(report.violations).toEqual([]);
    expect(results.filter((r) => !r.passed)).toEqual([]);
    // Every register killed mid-way left its intent: the pass, not luck, settled them.
    expect(results.filter((r) => r.intentBeforePass === null).map((r) => r.boundary)).toEqual([
      "after the final write (register)",
      "after the final write (unregister)",
    ]);
    expect((await stack.invariants()).ironicNodes).toBe(0);
  }, 240_000);
});

function pick(summary: ReconcileSummary) {
  const { finished, rolled_back, drift, adopted, errors } = summary;
  return { finished, rolled_back, drift, adopted, errors };
}
