import { randomUUID } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Node } from "../../lib/nodes/model.ts";
import { faults, ironicErrorBody, type ProxiedRequest } from "../support/fault-proxy.ts";
import { followOperation } from "../support/operations.ts";
import { runRegisterChild } from "../support/register-child-process.ts";
import { type ReliabilityStack, startReliabilityStack } from "../support/reliability-stack.ts";
import { findLeaks, type Secret, secretForms } from "../support/secret-scan.ts";

/** Distinctive passwords: any of their forms found anywhere is a leak, never a coincidence. */
const PODM: Secret = { label: "pod manager / BMC", username: "admin", password: "Podm-Leak-Canary-7Q2w9zV" };
const IRONIC: Secret = { label: "Ironic", username: "valence-svc", password: "Ironic-Leak-Canary-3Xk8pR" };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The whole register / unregister / reconcile flow, with an Ironic behind `http_basic` and a pod manager whose
 * password is also the BMC's, through its error paths too: Ironic echoing the request (driver_info and the
 * password in it) in its faults, echoing our Authorization header, reporting `last_error`s that quote
 * driver_info; a pod manager quoting credentials in its errors. Every response, log line, DynamoDB item and
 * error message is then searched for both passwords, plain and encoded.
 */
describe("secrets never leak: responses, logs, DynamoDB items, error messages", () => {
  let stack: ReliabilityStack;
  const errors: string[] = [];
  const childOutput: string[] = [];

  beforeAll(async () => {
    stack = await startReliabilityStack({
      pool: 6,
      podmUsername: PODM.username,
      podmPassword: PODM.password,
      ironicBasic: { username: IRONIC.username as string, password: IRONIC.password },
      env: { VALENCE_INTENT_STALE_SECONDS: "1" },
    });
  });
  afterAll(() => stack?.stop());

  /** What Ironic puts in `last_error` when it fails to validate a node's driver_info. */
  const driverInfoError = (uuid: string) =>
    `Failed to validate power driver interface for node ${uuid}. Error: Missing or invalid driver_info ` +
    `{'redfish_address': 'http://127.0.0.1', 'redfish_username': 'admin', 'redfish_password': '${PODM.password}'}`;

  it("finds a planted password in every form it looks for (the scan can fail)", () => {
    for (const secret of [PODM, IRONIC]) {
      const basic = `Authorization: Basic ${Buffer.from(`${secret.username}:${secret.password}`).toString("base64")}`;
      const embedded = Buffer.from(`{"note": "x${secret.password}y"}`).toString("base64");
      for (const text of [secret.password, JSON.stringify({ p: secret.password }), basic, embedded]) {
        expect(findLeaks([{ where: "planted", text }], [secret])).not.toEqual([]);
      }
      expect(secretForms(secret).length).toBeGreaterThanOrEqual(6);
    }
  });

  it("runs register, unregister and reconcile, failing every way, and no password appears anywhere", async () => {
    const { call } = stack;
    const podmId = stack.podmId;
    const auth = [{ type: "basic", auth_items: { username: PODM.username, password: PODM.password } }];
    const record = <R extends { status: number; text: string }>(response: R): R => {
      if (response.status >= 400) errors.push(response.text);
      return response;
    };

    // Pod managers: show, update with the password, a duplicate, credentials in a URL.
    expect((await call("GET", "/v1/pod_managers")).status).toBe(200);
    expect((await call("GET", `/v1/pod_managers/${podmId}`)).status).toBe(200);
    expect(
      (await call("PATCH", `/v1/pod_managers/${podmId}`, { authentication: auth, verify_ca: false })).status,
    ).toBe(200);
    record(
      await call("POST", "/v1/pod_managers", {
        name: "reliability-podm",
        url: stack.proxies.podm.url,
        authentication: auth,
      }),
    );
    // Credentials in a URL would be stored and listed as a plain field: refused, naming the field only.
    const userinfo = record(
      await call("POST", "/v1/pod_managers", {
        name: "userinfo-podm",
        url: `http://${PODM.username}:${PODM.password}@127.0.0.1:9/`,
        authentication: auth,
      }),
    );
    expect(userinfo.status).toBe(400);
    expect(userinfo.text).toContain("body.url");

    const [a, b, c] = [
      await stack.compose("leak-a"),
      await stack.compose("leak-b"),
      await stack.compose("leak-c"),
    ];

    // The happy path, with Ironic verifying the BMC (Ironic stores, and masks, the password).
    const registered = record(
      await call("POST", `/v1/nodes/${a.uuid}/register`, { manage: true, provide: true }),
    );
    expect(registered.status).toBe(202);
    expect(
      (await followOperation(call, (registered.body as { operation: { id: string } }).operation.id)).state,
    ).toBe("succeeded");
    expect((await call("GET", `/v1/nodes/${a.uuid}/operations`)).status).toBe(200);
    expect((await call("GET", `/v1/nodes/${a.uuid}?refresh=true`)).status).toBe(200);
    expect((await call("GET", "/v1/nodes")).status).toBe(200);

    // Ironic refuses the node create quoting the request, driver_info and all (JSON, then Python repr).
    const echoJson = stack.proxies.ironic.inject({
      method: "POST",
      path: "/v1/nodes",
      fault: faults.status(400, (request: ProxiedRequest) =>
        ironicErrorBody(`Invalid node: ${request.body}`),
      ),
    });
    record(await call("POST", `/v1/nodes/${b.uuid}/register`));
    stack.proxies.ironic.clear();
    const echoRepr = stack.proxies.ironic.inject({
      method: "POST",
      path: "/v1/nodes",
      fault: faults.status(500, () => ironicErrorBody(driverInfoError("new"), "Server")),
    });
    record(await call("POST", `/v1/nodes/${b.uuid}/register`));
    stack.proxies.ironic.clear();

    // Ironic refuses a port create quoting our Authorization header (base64 of user:password).
    const echoAuth = stack.proxies.ironic.inject({
      method: "POST",
      path: "/v1/ports",
      fault: faults.status(401, (request: ProxiedRequest) =>
        ironicErrorBody(`Authentication failed for ${String(request.headers.authorization)}`),
      ),
    });
    record(await call("POST", `/v1/nodes/${b.uuid}/register`));
    stack.proxies.ironic.clear();

    // The pod manager fails quoting the credentials it got.
    const podmEcho = stack.proxies.podm.inject({
      method: "GET",
      path: `/redfish/v1/Systems/${b.index}`,
      times: Number.POSITIVE_INFINITY,
      fault: faults.status(500, (request: ProxiedRequest) =>
        JSON.stringify({
          error: {
            code: "Base.1.0.InternalError",
            message: `login admin:${PODM.password} failed (${String(request.headers.authorization ?? "session")})`,
          },
        }),
      ),
    });
    record(await call("POST", `/v1/nodes/${b.uuid}/register`));
    stack.proxies.podm.clear();

    // Ironic reports a last_error quoting driver_info: live (refresh) and cached by the reconciler.
    const ironicUuid = (await call<Node>("GET", `/v1/nodes/${a.uuid}`)).body.ironic_node_uuid as string;
    const withLastError = (text: string) => {
      const quote = (node: Record<string, unknown>) =>
        node.uuid === ironicUuid ? { ...node, last_error: driverInfoError(ironicUuid) } : node;
      const body = JSON.parse(text) as { nodes?: Record<string, unknown>[] } & Record<string, unknown>;
      return JSON.stringify(body.nodes ? { ...body, nodes: body.nodes.map(quote) } : quote(body));
    };
    const lastErrors = stack.proxies.ironic.inject({
      method: "GET",
      path: /^\/v1\/nodes(\/detail)?(\?|\/[0-9a-f-]{36}(\?|$)|$)/,
      times: Number.POSITIVE_INFINITY,
      fault: { type: "rewrite", transform: withLastError },
    });
    const refreshed = await call<{ ironic: { last_error: string | null } }>(
      "GET",
      `/v1/nodes/${a.uuid}?refresh=true`,
    );
    expect(refreshed.body.ironic.last_error).toContain("Failed to validate power driver interface");
    expect((await stack.reconcile()).errors).toBe(0);
    const cached = await call<Node>("GET", `/v1/nodes/${a.uuid}`);
    expect(cached.body.ironic_state?.last_error).toContain("Failed to validate power driver interface");
    stack.proxies.ironic.clear();

    // The final write fails for good: the register is rolled back, with its error in the history.
    stack.proxies.dynamo.inject({
      method: "POST",
      path: "/",
      times: Number.POSITIVE_INFINITY,
      when: (request) =>
        String(request.headers["x-amz-target"]).endsWith(".UpdateItem") &&
        request.body.includes(`NODE#${c.uuid}`) &&
        request.body.includes("registered_at"),
      fault: faults.dynamoInternalError(),
    });
    record(await call("POST", `/v1/nodes/${c.uuid}/register`, { manage: true }));
    stack.proxies.dynamo.clear();

    // A register killed (SIGKILL, in a process of its own) before its final write leaves an intent; the
    // reconciler finishes it. The child's log lines are scanned too.
    const hold = stack.proxies.dynamo.inject({
      method: "POST",
      path: "/",
      when: (request) =>
        String(request.headers["x-amz-target"]).endsWith(".UpdateItem") &&
        request.body.includes(`NODE#${c.uuid}`) &&
        request.body.includes("registered_at"),
      fault: faults.hold(),
    });
    const child = runRegisterChild(stack.childEnv, "register", c.uuid, randomUUID(), { manage: true });
    await Promise.race([hold.firstFired, child.exited]);
    child.child.kill("SIGKILL");
    expect((await child.exited).signal).toBe("SIGKILL");
    await hold.release({ forward: false });
    childOutput.push(child.output());
    stack.proxies.dynamo.clear();
    expect((await call<Node>("GET", `/v1/nodes/${c.uuid}`)).body.intent?.op).toBe("registering");
    await sleep(1_100);
    expect((await stack.reconcile()).finished).toBe(1);

    // Unregister, drift, and registering again.
    expect((await stack.unregister(a.uuid)).status).toBe(200);
    expect((await call("POST", `/v1/nodes/${b.uuid}/register`)).status).toBe(200);
    await stack.ironic.deleteNode(
      (await call<Node>("GET", `/v1/nodes/${b.uuid}`)).body.ironic_node_uuid as string,
    );
    expect((await stack.reconcile()).drift).toBe(1);
    for (const node of [a, b, c]) {
      expect((await call("GET", `/v1/nodes/${node.uuid}/history`)).status).toBe(200);
      const current = (await call<Node>("GET", `/v1/nodes/${node.uuid}`)).body;
      if (current.managed_by === "ironic") expect((await stack.unregister(node.uuid)).status).toBe(200);
    }
    expect((await stack.invariants()).violations).toEqual([]);

    // Every fault above fired: the error paths were walked, not skipped.
    for (const rule of [echoJson, echoRepr, echoAuth, podmEcho, lastErrors])
      expect(rule.fired).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThanOrEqual(6);

    const items = await stack.scan();
    // The events npm start publishes (docs/events.md): one JSON line each.
    const eventLines = await readFile(join(stack.stack.config.VALENCE_DATA_DIR, "events.jsonl"), "utf8")
      .then((text) => text.split("\n").filter(Boolean))
      .catch(() => []);
    expect(eventLines.length).toBeGreaterThan(0);
    const sources = [
      ...eventLines.map((line, i) => ({ where: `event ${i}`, text: line })),
      ...stack.responses.map((response, i) => ({
        where: `response ${i} (${response.status})`,
        text: `${JSON.stringify([...response.headers])}\n${response.text}`,
      })),
      ...stack.logs.map((line, i) => ({ where: `log line ${i}`, text: line })),
      ...items.map((item) => ({
        where: `item ${String(item.pk)} ${String(item.sk)}`,
        text: JSON.stringify(item),
      })),
      ...errors.map((text, i) => ({ where: `error ${i}`, text })),
      ...childOutput
        .flatMap((text) => text.split("\n"))
        .map((text, i) => ({ where: `child log line ${i}`, text })),
    ];
    const leaks = findLeaks(sources, [PODM, IRONIC]);
    const coverage = {
      responses: stack.responses.length,
      errorResponses: errors.length,
      logLines: stack.logs.length,
      debugLogLines: stack.logs.filter((line) => line.includes('"level":"DEBUG"')).length,
      childLogLines: childOutput.flatMap((text) => text.split("\n")).length,
      items: items.length,
      events: eventLines.length,
      formsPerSecret: { podm: secretForms(PODM).length, ironic: secretForms(IRONIC).length },
      leaks: leaks.length,
    };
    await mkdir(".test-results", { recursive: true });
    await writeFile(".test-results/leaks-secrets.json", `${JSON.stringify({ coverage, leaks }, null, 2)}\n`);
    console.log(`leak scan: ${JSON.stringify(coverage)}`);
    expect(leaks).toEqual([]);
  }, 180_000);
});
