import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_CREDENTIALS } from "../../local/stack.ts";
import { callApi, type NpmStart, startNpmStart } from "../support/npm-start.ts";
import { freePort } from "../support/processes.ts";

const PASSWORD = "Restart-Pw-5b1d0c3a";

/** Polls an operation until it ends; its final state. */
async function operationEnd(base: string, id: string, timeoutMs = 180_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = await callApi(base, "GET", `/v1/operations/${id}`);
    const state = shown.body.state as string;
    if (["succeeded", "failed", "cancelled"].includes(state)) return state;
    if (Date.now() > deadline) throw new Error(`operation ${id} still ${shown.text}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
const mode = async (path: string) => (await stat(path)).mode & 0o777;

/**
 * One data directory across two starts of `npm start`'s entry; the steps run in order and share it. The second
 * start is the restart the README promises data survives.
 */
describe("npm start (the local stack as a process), across a restart", () => {
  let root = "";
  let dataDir = "";
  let secretsFile = "";
  let apiPort = 0;
  let emulatorPort = 0;
  let podmUuid = "";
  const running: NpmStart[] = [];
  afterAll(async () => {
    for (const stack of running) await stack.stop("SIGTERM").catch(() => undefined);
    if (root) await rm(root, { recursive: true, force: true });
  });

  const start = async (options: { group?: boolean } = {}) => {
    const stack = await startNpmStart({
      dataDir,
      apiPort,
      emulatorPort,
      env: {
        POWERTOOLS_LOG_LEVEL: "DEBUG",
        VALENCE_TABLE_NAME: "valence-custom",
        VALENCE_SECRETS_FILE: secretsFile,
        // An operation a crash left stuck in Ironic ends by this deadline at worst.
        VALENCE_OPERATION_DEADLINE_SECONDS: "90",
      },
      ...options,
    });
    running.push(stack);
    return stack;
  };

  it("first start: tightens the data directory, honours VALENCE_TABLE_NAME and VALENCE_SECRETS_FILE", async () => {
    root = await mkdtemp(join(tmpdir(), "valence-start-"));
    dataDir = join(root, "data");
    // A data directory someone made by hand, open to others.
    await mkdir(dataDir, { mode: 0o755 });
    secretsFile = join(root, "elsewhere", "secrets.json");
    apiPort = await freePort();
    emulatorPort = await freePort();

    const stack = await start();
    const created = await callApi(stack.base, "POST", "/v1/pod_managers", {
      name: "restart-podm",
      url: "http://192.0.2.10:8443",
      authentication: [{ type: "basic", auth_items: { username: "admin", password: PASSWORD } }],
    });
    expect(created.status, created.text).toBe(201);
    podmUuid = created.body.uuid as string;

    const dynamo = new DynamoDBClient({
      endpoint: stack.dynamoEndpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    try {
      expect((await dynamo.send(new ListTablesCommand({}))).TableNames).toEqual(["valence-custom"]);
    } finally {
      dynamo.destroy();
    }
    expect(await mode(dataDir)).toBe(0o700);
    expect(await mode(secretsFile)).toBe(0o600);
    expect(await readFile(secretsFile, "utf8")).toContain(PASSWORD);
    expect(existsSync(join(dataDir, "secrets.json"))).toBe(false);
  });

  it("first start: composes a node and registers a demo node, keeping Ironic's files and log private", async () => {
    const stack = running[0] as NpmStart;
    const podms = await fetch(`${stack.base}/v1/pod_managers`).then((r) => r.json());
    const demo = (podms as Array<{ uuid: string; name: string }>).find((podm) => podm.name === "demo-podm");
    const composed = await callApi(stack.base, "POST", "/v1/nodes", {
      name: "composed-after-start",
      podm_id: demo?.uuid,
      properties: { processor: { total_cores: 1 } },
    });
    expect(composed.status, composed.text).toBe(201);

    const registered = await callApi(stack.base, "POST", "/v1/nodes/test-node/register", {
      manage: true,
      provide: true,
    });
    expect(registered.status, registered.text).toBe(202);
    const operation = registered.body.operation as { id: string };
    expect(await operationEnd(stack.base, operation.id)).toBe("succeeded");

    const ironicDir = join(dataDir, "ironic");
    expect(await mode(join(ironicDir, "ironic.sqlite"))).toBe(0o600);
    expect(await mode(join(ironicDir, "ironic.log"))).toBe(0o600);
    // Ironic's schema template is cached under the data directory, not in a shared /tmp path.
    expect(await mode(join(dataDir, "cache"))).toBe(0o700);
    // Ironic moved the node through manage and provide; at INFO it would have printed its driver_info.
    expect(await readFile(join(ironicDir, "ironic.log"), "utf8")).not.toContain(DEMO_CREDENTIALS.password);
    expect(await stack.stop("SIGINT")).toBe(0);
  });

  it("second start: the pod manager and the composed system are still there", async () => {
    const stack = await start();
    const shown = await callApi(stack.base, "GET", `/v1/pod_managers/${podmUuid}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ uuid: podmUuid, name: "restart-podm" });
    expect(shown.text).not.toContain(PASSWORD);

    const reconciled = await callApi(stack.base, "POST", "/v1/reconcile");
    expect(reconciled.status, reconciled.text).toBe(200);
    expect(reconciled.body.missing).toBe(0);
    for (const name of ["composed-after-start", "test-node", "test-node-2"]) {
      const node = await callApi(stack.base, "GET", `/v1/nodes/${name}`);
      expect(node.status, node.text).toBe(200);
      expect(node.body.status, name).not.toBe("missing");
    }
    expect((await callApi(stack.base, "GET", "/v1/nodes/test-node")).body.managed_by).toBe("ironic");
    expect(await stack.stop("SIGTERM")).toBe(0);
  });

  it("a start killed mid-operation (with its Ironic): the next start takes the operation up and ends it", async () => {
    const doomed = await start({ group: true });
    const registered = await callApi(doomed.base, "POST", "/v1/nodes/test-node-2/register", {
      manage: true,
      provide: true,
    });
    expect(registered.status, registered.text).toBe(202);
    const id = (registered.body.operation as { id: string }).id;
    await doomed.process.crash();
    running.splice(running.indexOf(doomed), 1);

    const stack = await start();
    const ended = await operationEnd(stack.base, id);
    // Resumed: it ran to an end (Ironic restarted under it may have failed the step it was in), never left running.
    expect(["succeeded", "failed"]).toContain(ended);
    const node = await callApi(stack.base, "GET", "/v1/nodes/test-node-2");
    expect(node.body.operation ?? null).toBeNull();
    expect(node.body.intent ?? null).toBeNull();
    expect(stack.output()).toContain("operations resumed");
    expect(await stack.stop("SIGTERM")).toBe(0);

    const output = running.map((run) => run.output()).join("\n");
    expect(output).not.toContain(PASSWORD);
    expect(await mode(join(dataDir, "emulator.json"))).toBe(0o600);
  });
});
