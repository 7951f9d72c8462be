import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildOpenApiDocument,
  type JsonSchema,
  type OpenApiDocument,
  type OpenApiOperation,
  serializeOpenApiDocument,
} from "../../lib/api/openapi.ts";
import { createPodManagerClient } from "../../lib/redfish/index.ts";
import { poolInventory } from "../../local/pool.ts";
import { DEMO_CREDENTIALS } from "../../local/stack.ts";
import { LOCAL_ADDRESS_POLICY } from "../support/fixtures.ts";
import { type DocumentValidator, documentValidator } from "../support/json-schema.ts";
import { startTestApi, type TestApi } from "../support/local-api.ts";

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** node:http rather than fetch: fetch cannot send a body with GET, which is the one 400 every route has. */
function send(method: string, url: string, body?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method,
        // Explicit length: node:http sends a GET or DELETE body neither chunked nor sized otherwise.
        headers:
          body === undefined
            ? {}
            : { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text }),
        );
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/**
 * Walks the OpenAPI document the running API serves and calls every operation in it on the local stack (real
 * Ironic, the Redfish emulator, dynalite): good requests and bad ones. Each answer must have a status the document
 * lists for the operation, and its body must validate against the document's schema for that status.
 */
describe("the API answers as its OpenAPI document says (local stack, real Ironic)", () => {
  let api: TestApi;
  let document: OpenApiDocument;
  let validateJson: DocumentValidator;
  let operations: Map<string, { path: string; method: string; operation: OpenApiOperation }>;
  const seen = new Map<string, Set<number>>();
  let demoPodm: string;

  beforeAll(async () => {
    api = await startTestApi({ demo: true, ironic: "start", emulatorInventory: poolInventory(8) });
    const served = await send("GET", `${api.stack.apiUrl}/v1/openapi.json`);
    document = JSON.parse(served.text) as OpenApiDocument;
    validateJson = documentValidator(document);
    operations = new Map();
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item))
        operations.set(operation.operationId, { path, method, operation });
    }
    demoPodm = JSON.parse((await send("GET", `${api.stack.apiUrl}/v1/pod_managers`)).text)[0].uuid;
  });
  afterAll(() => api?.stop());

  /**
   * Calls an operation and checks the answer against the document: the status is one it lists, the body validates
   * against that status's schema (or is empty when it has none), `X-Request-Id` is set, and a good request's body
   * validates against the request schema too.
   */
  async function call(
    operationId: string,
    expected: number,
    input: {
      params?: Record<string, string>;
      query?: Record<string, string>;
      body?: unknown;
      rawBody?: string;
    } = {},
  ) {
    const entry = operations.get(operationId);
    if (!entry) throw new Error(`the document has no operation ${operationId}`);
    const path = entry.path.replace(/\{(\w+)\}/g, (_match, name: string) => {
      const value = input.params?.[name];
      if (value === undefined) throw new Error(`${operationId}: no value for {${name}}`);
      return encodeURIComponent(value);
    });
    const query = input.query ? `?${new URLSearchParams(input.query).toString()}` : "";
    const body = input.rawBody ?? (input.body === undefined ? undefined : JSON.stringify(input.body));
    const where = `${entry.method.toUpperCase()} ${path}${query}`;

    const requestSchema = entry.operation.requestBody?.content["application/json"].schema;
    if (expected < 300 && requestSchema && input.body !== undefined)
      expect(validateJson(requestSchema, input.body), `${where}: request body vs the document`).toEqual([]);

    const response = await send(entry.method.toUpperCase(), `${api.stack.apiUrl}${path}${query}`, body);
    expect(response.status, `${where}: ${response.text}`).toBe(expected);
    const documented = entry.operation.responses[String(response.status)];
    if (!documented)
      throw new Error(`${where}: answered ${response.status}, which the document does not list`);
    expect(response.headers["x-request-id"], `${where}: X-Request-Id`).toBeTruthy();
    const schema = documented.content?.["application/json"].schema as JsonSchema | undefined;
    let parsed: unknown;
    if (schema) {
      expect(response.headers["content-type"]).toContain("application/json");
      parsed = JSON.parse(response.text);
      expect(validateJson(schema, parsed), `${where}: ${response.status} body vs the document`).toEqual([]);
      if (response.status >= 400)
        expect((parsed as { request_id: string }).request_id).toBe(response.headers["x-request-id"]);
    } else {
      expect(response.text, `${where}: the document says no body`).toBe("");
    }
    for (const header of Object.keys(response.headers)) {
      if (header === "link")
        expect(Object.keys(documented.headers ?? {}), `${where}: Link header`).toContain("Link");
    }
    seen.set(operationId, (seen.get(operationId) ?? new Set()).add(response.status));
    return { body: parsed as Record<string, unknown> & Record<number, unknown>, headers: response.headers };
  }

  const NO_BODY_HERE = '{"unexpected": true}';

  interface OperationBody {
    id: string;
    node_uuid: string;
    kind: string;
    state: string;
    steps: { name: string; state: string; provision_state: string | null }[];
    outcome: { code: string; detail: string } | null;
  }

  /**
   * Follows an operation, as a client would, until it ends and its node is free for the next one (the workflow
   * frees the node just after it writes the end); every look is checked against the document. Bounded, not
   * timed: it fails when Ironic has not finished after a generous number of looks.
   */
  async function ended(id: string): Promise<OperationBody> {
    const pause = () => new Promise((resolve) => setTimeout(resolve, 200));
    for (let look = 0; look < 600; look++) {
      const operation = (await call("getOperation", 200, { params: { id } }))
        .body as unknown as OperationBody;
      if (["succeeded", "failed", "cancelled"].includes(operation.state)) {
        // A pod manager's re-sync and an enrollment take no node's slot themselves.
        if (operation.kind === "resync" || operation.kind === "enroll") return operation;
        for (let again = 0; again < 100; again++) {
          const node = await call("getNode", 200, { params: { id: operation.node_uuid } });
          if ((node.body.operation as { id: string } | null | undefined)?.id !== id) return operation;
          await pause();
        }
        throw new Error(`operation ${id} ended but its node still names it`);
      }
      await pause();
    }
    throw new Error(`operation ${id} did not end`);
  }

  /** A 202 that started an operation: `Location` names it and answers it, `Retry-After` is set. */
  async function expectAccepted(
    accepted: { headers: Record<string, string | string[] | undefined> },
    operation: OperationBody,
  ) {
    const location = String(accepted.headers.location);
    expect(location).toBe(`${api.stack.apiUrl}/v1/operations/${operation.id}`);
    expect(accepted.headers["retry-after"]).toBe("5");
    const shown = await send("GET", location);
    expect(shown.status).toBe(200);
    expect(JSON.parse(shown.text).id).toBe(operation.id);
  }

  it("serves the document generated from the zod schemas, naming the host it was called on", () => {
    const { servers, ...served } = document;
    const { servers: _localServer, ...generated } = JSON.parse(
      serializeOpenApiDocument(buildOpenApiDocument()),
    ) as OpenApiDocument;

    expect(servers).toEqual([{ url: api.stack.apiUrl }]);
    expect(served).toEqual(generated);
  });

  it("versions and the document itself", async () => {
    for (const id of ["getRoot", "getV1", "getOpenapi"]) {
      await call(id, 200);
      await call(id, 400, { rawBody: NO_BODY_HERE });
    }
  });

  it("pod managers: create, list, show, update (and their refusals)", async () => {
    const emulator = new URL(api.stack.emulator?.url as string);
    const create = {
      name: "contract-podm",
      // Another spelling of the emulator's URL: a second, unique pod manager on the same service.
      url: `http://localhost:${emulator.port}`,
      driver: "redfishv1",
      verify_ca: false,
      authentication: [{ type: "basic", auth_items: DEMO_CREDENTIALS }],
    };
    const created = await call("createPodManager", 201, { body: create });
    await call("createPodManager", 409, { body: create });
    await call("createPodManager", 400, { body: { ...create, name: "x", authentication: [] } });

    const list = await call("listPodManagers", 200);
    expect((list.body as unknown as unknown[]).length).toBe(2);
    await call("listPodManagers", 400, { query: { page: "2" } });

    const id = created.body.uuid as string;
    expect((await call("getPodManager", 200, { params: { id } })).body.status).toBe("online");
    await call("getPodManager", 404, { params: { id: randomUUID() } });
    await call("getPodManager", 400, { params: { id: "not-a-uuid" } });

    await call("updatePodManager", 400, { params: { id }, body: { driver: "redfish" } });
    await call("updatePodManager", 200, {
      params: { id },
      body: { verify_ca: false, driver: "rsd", authentication: create.authentication },
    });
    await call("updatePodManager", 409, { params: { id }, body: { name: "demo-podm" } });
    await call("updatePodManager", 404, { params: { id: randomUUID() }, body: { verify_ca: true } });
    await call("updatePodManager", 400, { params: { id }, body: { password: "x" } });
  });

  it("nodes: compose, manage, list, show, history (and their refusals)", async () => {
    await call("composeNode", 201, {
      body: { name: "contract-1", podm_id: demoPodm, properties: { processor: { total_cores: 1 } } },
    });
    const cores = { processor: { total_cores: 1 } };
    await call("composeNode", 409, { body: { name: "contract-1", podm_id: demoPodm, properties: cores } });
    await call("composeNode", 404, {
      body: { name: "contract-x", podm_id: randomUUID(), properties: cores },
    });
    await call("composeNode", 400, { body: { name: "a/b", podm_id: demoPodm } });

    // A system composed behind Valence's back, then brought under management.
    const client = createPodManagerClient({
      url: api.stack.emulator?.url as string,
      ...DEMO_CREDENTIALS,
      driver: "redfish",
      verifyCa: false,
      addressPolicy: LOCAL_ADDRESS_POLICY,
    });
    const system = await client.compose({ name: "outside", totalCores: 1 }).finally(() => client.close());
    await call("manageNode", 201, {
      body: { podm_id: demoPodm, node_index: system.index, name: "contract-2" },
    });
    await call("manageNode", 409, {
      body: { podm_id: demoPodm, node_index: system.index, name: "contract-3" },
    });
    await call("manageNode", 404, { body: { podm_id: demoPodm, node_index: "no-such-system" } });
    await call("manageNode", 400, { body: { node_index: system.index } });

    const page = await call("listNodes", 200, { query: { limit: "1" } });
    expect(String(page.headers.link)).toContain('rel="next"');
    await call("listNodes", 200, { query: { managed_by: "valence", podm_id: demoPodm } });
    await call("listNodes", 400, { query: { limit: "0" } });

    await call("getNode", 200, { params: { id: "contract-1" } });
    await call("getNode", 200, { params: { id: "contract-1" }, query: { refresh: "true" } });
    await call("getNode", 404, { params: { id: "no-such-node" } });
    await call("getNode", 400, { params: { id: "contract-1" }, query: { refresh: "maybe" } });
  });

  it("nodes: register, act, unregister, delete (and their refusals)", async () => {
    const registered = await call("registerNode", 200, {
      params: { id: "contract-1" },
      body: { ports: "boot" },
    });
    expect(registered.body.managed_by).toBe("ironic");
    await call("registerNode", 409, { params: { id: "contract-1" } });
    await call("registerNode", 404, { params: { id: "no-such-node" } });
    await call("registerNode", 400, { params: { id: "contract-1" }, body: { manage: "yes" } });

    const shown = await call("getNode", 200, { params: { id: "contract-1" }, query: { refresh: "true" } });
    expect(shown.body.ironic).toMatchObject({ provision_state: "enroll" });

    await call("getNodeHistory", 200, { params: { id: "contract-1" } });
    await call("getNodeHistory", 200, { params: { id: "contract-1" }, query: { limit: "1" } });
    await call("getNodeHistory", 404, { params: { id: "no-such-node" } });
    await call("getNodeHistory", 400, { params: { id: "contract-1" }, query: { limit: "0" } });

    await call("nodeAction", 409, { params: { id: "contract-1" }, body: { Reset: { Type: "ForceOff" } } });
    await call("nodeAction", 204, {
      params: { id: "contract-2" },
      body: { Reset: { Type: "ForceRestart" } },
    });
    await call("nodeAction", 204, {
      params: { id: "contract-2" },
      body: { Boot: { Enabled: "Once", Target: "Pxe" } },
    });
    await call("nodeAction", 404, { params: { id: "no-such-node" }, body: { Reset: { Type: "On" } } });
    await call("nodeAction", 400, { params: { id: "contract-2" }, body: { Reset: { Type: "Kick" } } });

    await call("deleteNode", 409, { params: { id: "contract-1" } });
    await call("unregisterNode", 200, { params: { id: "contract-1" }, body: { force: false } });
    await call("unregisterNode", 409, { params: { id: "contract-1" } });
    await call("unregisterNode", 404, { params: { id: "no-such-node" } });
    await call("unregisterNode", 400, { params: { id: "contract-1" }, body: { force: "please" } });

    await call("deleteNode", 204, { params: { id: "contract-1" } });
    await call("deleteNode", 404, { params: { id: "contract-1" } });
    await call("deleteNode", 400, { params: { id: "contract-2" }, rawBody: NO_BODY_HERE });
  });

  it("operations: register with lifecycle steps, lifecycle actions, show, list, cancel (and their refusals)", async () => {
    const cleaning = api.stack.ramdiskAgents?.cleaning;
    if (!cleaning) throw new Error("the stack's Ironic does not clean");

    // A register with a lifecycle step answers 202 with the node and the operation that runs the step.
    const registered = await call("registerNode", 202, {
      params: { id: "test-node" },
      body: { manage: true },
    });
    const registering = registered.body.operation as OperationBody;
    expect(registered.body.managed_by).toBe("ironic");
    expect(registering).toMatchObject({ kind: "register", steps: [{ name: "manage" }] });
    await expectAccepted(registered, registering);
    const managed = await ended(registering.id);
    expect(managed.state, JSON.stringify(managed.outcome)).toBe("succeeded");
    expect(managed.steps[0]).toMatchObject({ state: "succeeded", provision_state: "manageable" });

    // A provide whose cleaning outlasts the calls below: one operation per node, then a cancel.
    cleaning.stepMs = 120_000;
    try {
      const provide = await call("startNodeOperationProvide", 202, { params: { id: "test-node" } });
      const providing = provide.body as unknown as OperationBody;
      expect(providing).toMatchObject({ kind: "provide", steps: [{ name: "manage" }, { name: "provide" }] });
      await expectAccepted(provide, providing);
      const busy = await call("startNodeOperationManage", 409, { params: { id: "test-node" } });
      expect(busy.body).toMatchObject({ code: "OperationInProgress" });
      expect(busy.body.detail).toContain(providing.id);
      await call("unregisterNode", 409, { params: { id: "test-node" } });

      const cancelling = await call("cancelOperation", 202, { params: { id: providing.id } });
      expect(cancelling.body.state).toBe("cancelling");
      const cancelled = await ended(providing.id);
      expect(cancelled.state).toBe("cancelled");
    } finally {
      cleaning.stepMs = 1_000;
    }
    const notCancellable = await call("cancelOperation", 409, { params: { id: registering.id } });
    expect(notCancellable.body).toMatchObject({ code: "OperationState" });
    await call("cancelOperation", 404, { params: { id: randomUUID() } });
    await call("cancelOperation", 400, { params: { id: "not-a-uuid" } });

    await call("getOperation", 404, { params: { id: randomUUID() } });
    await call("getOperation", 400, { params: { id: "not-a-uuid" } });

    // Newest first, paginated like the history.
    const all = await call("listNodeOperations", 200, { params: { id: "test-node" } });
    expect((all.body as unknown as OperationBody[]).map((operation) => operation.kind)).toEqual([
      "provide",
      "register",
    ]);
    const page = await call("listNodeOperations", 200, {
      params: { id: "test-node" },
      query: { limit: "1" },
    });
    expect(String(page.headers.link)).toContain('rel="next"');
    await call("listNodeOperations", 404, { params: { id: "no-such-node" } });
    await call("listNodeOperations", 400, { params: { id: "test-node" }, query: { limit: "0" } });

    // Each lifecycle action on a node registered without steps (Ironic `enroll`), one after the other.
    await call("registerNode", 200, { params: { id: "test-node-2" }, body: { ports: "boot" } });
    const manage = await call("startNodeOperationManage", 202, { params: { id: "test-node-2" } });
    expect((await ended(manage.body.id as string)).state).toBe("succeeded");
    await call("startNodeOperationClean", 400, { params: { id: "test-node-2" } });
    const clean = await call("startNodeOperationClean", 202, {
      params: { id: "test-node-2" },
      body: { clean_steps: [{ interface: "deploy", step: "erase_devices_metadata" }] },
    });
    await ended(clean.body.id as string);
    const inspect = await call("startNodeOperationInspect", 202, { params: { id: "test-node-2" } });
    await ended(inspect.body.id as string);

    // Refused on a node that is not registered, or unknown.
    for (const action of ["Manage", "Provide", "Inspect"]) {
      const refused = await call(`startNodeOperation${action}`, 409, { params: { id: "contract-2" } });
      expect(refused.body).toMatchObject({ code: "NodeNotRegistered" });
      await call(`startNodeOperation${action}`, 404, { params: { id: "no-such-node" } });
    }
    await call("startNodeOperationClean", 409, {
      params: { id: "contract-2" },
      body: { clean_steps: [{ interface: "deploy", step: "erase_devices_metadata" }] },
    });
  }, 300_000);

  it("pod managers: a credentials change re-syncs their Ironic nodes (202), listed with the pod manager", async () => {
    const resync = await call("updatePodManager", 202, {
      params: { id: demoPodm },
      body: { authentication: [{ type: "basic", auth_items: DEMO_CREDENTIALS }] },
    });
    const operation = resync.body.operation as OperationBody;
    expect(operation.kind).toBe("resync");
    expect((await ended(operation.id)).state).toBe("succeeded");
    const refused = await call("updatePodManager", 400, {
      params: { id: demoPodm },
      body: { authentication: [{ type: "basic", auth_items: { username: "admin", password: "not-it" } }] },
    });
    expect(refused.body).toMatchObject({ code: "PodManagerLoginFailed" });

    const listed = await call("listPodManagerOperations", 200, { params: { id: demoPodm } });
    expect((listed.body as unknown as OperationBody[]).map((each) => each.id)).toEqual([operation.id]);
    await call("listPodManagerOperations", 404, { params: { id: randomUUID() } });
    await call("listPodManagerOperations", 400, { params: { id: demoPodm }, query: { limit: "0" } });
  });

  it("nodes: enroll many at once (202 with the enroll operation), and its refusals", async () => {
    // test-node-2 is registered already: the enrollment is accepted, and that node fails alone.
    const enrolled = await call("registerNodes", 202, { body: { nodes: ["test-node-2"] } });
    const operation = enrolled.body as unknown as OperationBody;
    expect(operation.kind).toBe("enroll");
    expect(["succeeded", "failed"]).toContain((await ended(operation.id)).state);
    await call("registerNodes", 400, { body: {} });
    await call("registerNodes", 400, { body: { nodes: ["test-node", "test-node"] } });
  });

  it("pod managers: delete (refused while nodes remain)", async () => {
    const list = JSON.parse((await send("GET", `${api.stack.apiUrl}/v1/pod_managers`)).text) as {
      uuid: string;
      name: string;
    }[];
    const contractPodm = list.find((podm) => podm.name === "contract-podm")?.uuid as string;

    await call("deletePodManager", 409, { params: { id: demoPodm } });
    await call("deletePodManager", 204, { params: { id: contractPodm } });
    await call("deletePodManager", 404, { params: { id: contractPodm } });
    await call("deletePodManager", 400, { params: { id: "not-a-uuid" } });
  });

  it("called every operation of the document with a 2xx and a 4xx", () => {
    const missing = [...operations.keys()].filter((id) => {
      const statuses = [...(seen.get(id) ?? [])];
      return !statuses.some((s) => s < 300) || !statuses.some((s) => s >= 400 && s < 500);
    });

    expect(operations.size).toBeGreaterThanOrEqual(24);
    expect(missing, "operations without a good and a bad call: add them to this test").toEqual([]);
  });
});
