import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentClient } from "../../lib/db/client.ts";
import { DynamoNodeRepository } from "../../lib/nodes/dynamo-repository.ts";
import { newNode } from "../support/fixtures.ts";
import { expectErrorBody, startTestApi, type TestApi } from "../support/local-api.ts";

const PASSWORD = "Pw-9f2c71e4-never-shown";
const podmBody = (overrides: Record<string, unknown> = {}) => ({
  name: `podm-${randomUUID().slice(0, 8)}`,
  url: `http://10.0.0.${Math.floor(Math.random() * 250) + 1}:${Math.floor(Math.random() * 50000) + 1000}`,
  authentication: [{ type: "basic", auth_items: { username: "admin", password: PASSWORD } }],
  ...overrides,
});

describe("the HTTP API on the local stack", () => {
  let api: TestApi;
  let repository: DynamoNodeRepository;

  beforeAll(async () => {
    api = await startTestApi();
    repository = new DynamoNodeRepository(
      createDocumentClient({ region: "us-east-1", endpoint: api.stack.dynamoEndpoint }),
      api.stack.tableName,
    );
  });
  afterAll(() => api.stop());

  describe("versions", () => {
    it("GET / lists v1 with min/max and links", async () => {
      const response = await api.call("GET", "/");
      expect(response.status).toBe(200);
      expect(response.body.name).toBe("valence");
      expect(response.body.versions[0]).toMatchObject({ id: "v1", min_version: "1.0", max_version: "1.0" });
      expect(response.body.versions[0].links[0].href).toBe(`${api.stack.apiUrl}/v1`);
    });

    it("GET /v1 links to nodes and pod managers", async () => {
      const response = await api.call("GET", "/v1");
      expect(response.status).toBe(200);
      expect(response.body.nodes[0].href).toBe(`${api.stack.apiUrl}/v1/nodes`);
      expect(response.body.pod_managers[0].href).toBe(`${api.stack.apiUrl}/v1/pod_managers`);
    });
  });

  describe("pod managers", () => {
    it("creates, shows, lists, updates and deletes a pod manager with its password masked", async () => {
      const body = podmBody({ driver: "redfishv1", verify_ca: false, url: "https://podm.example.net:8443/" });
      const created = await api.call("POST", "/v1/pod_managers", body);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        name: body.name,
        url: "https://podm.example.net:8443",
        driver: "rsd",
        verify_ca: false,
        authentication: [{ type: "basic", auth_items: { username: "admin", password: "***" } }],
      });
      const id = created.body.uuid;

      const shown = await api.call("GET", `/v1/pod_managers/${id}`);
      expect(shown.status).toBe(200);
      expect(shown.body.uuid).toBe(id);

      const list = await api.call("GET", "/v1/pod_managers");
      expect(Array.isArray(list.body)).toBe(true);
      expect(list.body.map((p: { uuid: string }) => p.uuid)).toContain(id);

      // New credentials are tried with a login first: this pod manager does not answer, so nothing changes.
      const refused = await api.call("PATCH", `/v1/pod_managers/${id}`, {
        name: `${body.name}-2`,
        authentication: [{ type: "basic", auth_items: { username: "root", password: `${PASSWORD}-new` } }],
      });
      expect(expectErrorBody(refused, 400).code).toBe("PodManagerLoginFailed");
      expect((await api.call("GET", `/v1/pod_managers/${id}`)).body.name).toBe(body.name);

      const renamed = await api.call("PATCH", `/v1/pod_managers/${id}`, { name: `${body.name}-2` });
      expect(renamed.status).toBe(200);
      expect(renamed.body.name).toBe(`${body.name}-2`);
      expect(renamed.body.authentication[0].auth_items).toEqual({ username: "admin", password: "***" });

      // The old name is free again.
      const reuse = await api.call("POST", "/v1/pod_managers", podmBody({ name: body.name }));
      expect(reuse.status).toBe(201);

      // Its operations (none yet), read from the store alone; a pod manager gone has none to list.
      expect((await api.call("GET", `/v1/pod_managers/${id}/operations`)).body).toEqual([]);
      expect((await api.call("DELETE", `/v1/pod_managers/${id}`)).status).toBe(204);
      expectErrorBody(await api.call("GET", `/v1/pod_managers/${id}`), 404);
      expectErrorBody(await api.call("GET", `/v1/pod_managers/${id}/operations`), 404);
      expect(
        (await api.call("GET", "/v1/pod_managers")).body.map((p: { uuid: string }) => p.uuid),
      ).not.toContain(id);
      expectErrorBody(await api.call("DELETE", `/v1/pod_managers/${id}`), 404);
    });

    it("refuses a duplicate name or url with 409", async () => {
      const first = await api.call("POST", "/v1/pod_managers", podmBody());
      expect(first.status).toBe(201);
      const sameName = await api.call("POST", "/v1/pod_managers", podmBody({ name: first.body.name }));
      expect(expectErrorBody(sameName, 409).detail).toContain("name");
      const sameUrl = await api.call("POST", "/v1/pod_managers", podmBody({ url: `${first.body.url}/` }));
      expect(expectErrorBody(sameUrl, 409).detail).toContain("url");
    });

    it("refuses to delete a pod manager that still has nodes", async () => {
      const podm = await api.call("POST", "/v1/pod_managers", podmBody());
      await repository.create(newNode({ podm_id: podm.body.uuid }));
      const response = await api.call("DELETE", `/v1/pod_managers/${podm.body.uuid}`);
      expect(expectErrorBody(response, 409).code).toBe("PodManagerInUse");
    });

    it.each([
      ["a non-http url", { url: "ftp://podm.example" }, "body.url"],
      ["a relative url", { url: "/redfish/v1" }, "body.url"],
      ["a wrong driver", { driver: "ipmi" }, "body.driver"],
      ["a string verify_ca", { verify_ca: "yes" }, "body.verify_ca"],
      ["an unknown field", { colour: "red" }, "colour"],
      ["no authentication", { authentication: undefined }, "body.authentication"],
      [
        "an empty password",
        { authentication: [{ type: "basic", auth_items: { username: "a", password: "" } }] },
        "password",
      ],
      [
        "a non-basic auth type",
        { authentication: [{ type: "token", auth_items: { username: "a", password: "b" } }] },
        "type",
      ],
      ["an empty name", { name: "" }, "body.name"],
      ["a 300-character name", { name: "x".repeat(300) }, "body.name"],
      ["a name with a slash", { name: "a/b" }, "body.name"],
    ])("answers 400 naming the field for %s", async (_what, overrides, field) => {
      const response = await api.call("POST", "/v1/pod_managers", podmBody(overrides));
      const error = expectErrorBody(response, 400);
      expect(error.detail).toContain(field);
    });

    it.each([
      ["bad JSON", "{not json"],
      ["a JSON array", "[]"],
      ["JSON null", "null"],
      ["a JSON string", '"x"'],
      ["a __proto__ key", '{"__proto__": {"admin": true}, "name": "x"}'],
    ])("answers 400 for %s", async (_what, raw) => {
      const response = await api.call("POST", "/v1/pod_managers", raw);
      expectErrorBody(response, 400);
    });

    it("answers 400 for a pod manager id that is not a uuid, 404 for an unknown one", async () => {
      expect(expectErrorBody(await api.call("GET", "/v1/pod_managers/not-a-uuid"), 400).detail).toContain(
        "path.id",
      );
      expectErrorBody(await api.call("GET", `/v1/pod_managers/${randomUUID()}`), 404);
      expectErrorBody(await api.call("PATCH", `/v1/pod_managers/${randomUUID()}`, { name: "x" }), 404);
    });

    it("answers 400 for a PATCH with unknown fields or wrong types", async () => {
      const podm = await api.call("POST", "/v1/pod_managers", podmBody());
      const response = await api.call("PATCH", `/v1/pod_managers/${podm.body.uuid}`, {
        uuid: "x",
        verify_ca: 1,
      });
      const detail = expectErrorBody(response, 400).detail as string;
      expect(detail).toContain("uuid");
      expect(detail).toContain("body.verify_ca");
    });

    it("answers 400 for a query on the pod-manager list", async () => {
      expectErrorBody(await api.call("GET", "/v1/pod_managers?limit=5"), 400);
    });
  });

  describe("nodes", () => {
    let podmId: string;
    beforeAll(async () => {
      podmId = randomUUID();
      for (let i = 0; i < 12; i++) {
        await repository.create(
          newNode({
            name: `api-node-${String(i).padStart(2, "0")}`,
            podm_id: podmId,
            managed_by: i < 4 ? "ironic" : "valence",
          }),
        );
      }
    });

    it("lists nodes as a JSON array with a Link header to the next page", async () => {
      const first = await api.call("GET", `/v1/nodes?podm_id=${podmId}&limit=5`);
      expect(first.status).toBe(200);
      expect(Array.isArray(first.body)).toBe(true);
      expect(first.body).toHaveLength(5);
      const link = first.headers.get("link") ?? "";
      expect(link).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/v1\/nodes\?.*marker=[0-9a-f-]{36}>; rel="next"$/);

      const names: string[] = first.body.map((n: { name: string }) => n.name);
      let next = link.slice(1, link.indexOf(">"));
      while (next) {
        const page = await api.call("GET", next.replace(api.stack.apiUrl, ""));
        names.push(...page.body.map((n: { name: string }) => n.name));
        const header = page.headers.get("link");
        next = header ? header.slice(1, header.indexOf(">")) : "";
      }
      expect(names).toHaveLength(12);
      expect(new Set(names).size).toBe(12);
    });

    it("builds the Link header from the API's own address, whatever Host or X-Forwarded-Proto the caller sends", async () => {
      // With a body, the test client sends over node:http, which (unlike fetch) sends the Host header it is given.
      const page = await api.call(
        "GET",
        `/v1/nodes?podm_id=${podmId}&limit=5`,
        {},
        {
          host: "attacker.example",
          "x-forwarded-proto": "gopher",
          "x-forwarded-host": "attacker.example",
        },
      );
      expect(page.status).toBe(200);
      const link = page.headers.get("link") ?? "";
      expect(link.startsWith(`<${api.stack.apiUrl}/v1/nodes?`)).toBe(true);
      expect(link).not.toContain("attacker");
    });

    it("filters by managed_by, podm_id and name", async () => {
      const ironic = await api.call("GET", `/v1/nodes?managed_by=ironic&podm_id=${podmId}`);
      expect(ironic.body.map((n: { name: string }) => n.name)).toEqual([
        "api-node-00",
        "api-node-01",
        "api-node-02",
        "api-node-03",
      ]);
      const byName = await api.call("GET", "/v1/nodes?name=api-node-07");
      expect(byName.body).toHaveLength(1);
      expect(byName.body[0]).toMatchObject({
        name: "api-node-07",
        managed_by: "valence",
        ironic_node_uuid: null,
      });
      expect(byName.body[0]).not.toHaveProperty("version");
    });

    it("shows a node by uuid and by name", async () => {
      const node = (await api.call("GET", "/v1/nodes?name=api-node-03")).body[0];
      const byUuid = await api.call("GET", `/v1/nodes/${node.uuid}`);
      const byName = await api.call("GET", "/v1/nodes/api-node-03");
      expect(byUuid.status).toBe(200);
      expect(byUuid.body).toEqual(byName.body);
      expect(byUuid.body).toMatchObject({
        uuid: node.uuid,
        resource_uri: `/redfish/v1/Systems/${byUuid.body.index}`,
        hardware: { cpus: 8, memory_mb: 16384, local_gb: 100, cpu_arch: "x86_64" },
      });
    });

    it("answers 404 for an unknown node", async () => {
      expect(expectErrorBody(await api.call("GET", `/v1/nodes/${randomUUID()}`), 404).code).toBe(
        "NodeNotFound",
      );
      expectErrorBody(await api.call("GET", "/v1/nodes/no-such-node"), 404);
    });

    it.each([
      ["limit=0", "query.limit"],
      ["limit=1001", "query.limit"],
      ["limit=-3", "query.limit"],
      ["limit=abc", "query.limit"],
      ["limit=2.5", "query.limit"],
      ["managed_by=nova", "query.managed_by"],
      ["podm_id=123", "query.podm_id"],
      ["marker=xyz", "query.marker"],
      [`marker=${randomUUID()}`, "query.marker"],
      ["sort=name", "sort"],
    ])("answers 400 naming the parameter for ?%s", async (query, field) => {
      const response = await api.call("GET", `/v1/nodes?${query}`);
      expect(expectErrorBody(response, 400).detail).toContain(field);
    });
  });

  describe("routing", () => {
    it("answers 404 for a route the API does not have and 405 for a wrong method", async () => {
      expect(expectErrorBody(await api.call("GET", "/v2/nodes"), 404).code).toBe("RouteNotFound");
      expectErrorBody(await api.call("GET", "/v1/nodes/x/y/z"), 404);
      expect(expectErrorBody(await api.call("PUT", "/v1/nodes"), 405).code).toBe("MethodNotAllowed");
      expectErrorBody(await api.call("DELETE", "/v1"), 405);
    });

    it("refuses a body on a route that takes none", async () => {
      const podm = await api.call("POST", "/v1/pod_managers", podmBody());
      const response = await api.call("DELETE", `/v1/pod_managers/${podm.body.uuid}`, { force: true });
      expect(expectErrorBody(response, 400).detail).toContain("takes no body");
      expect((await api.call("GET", `/v1/pod_managers/${podm.body.uuid}`)).status).toBe(200);
    });
  });

  describe("secrets", () => {
    it("keeps the pod-manager password out of responses, logs and DynamoDB", async () => {
      const responses: string[] = [];
      const created = await api.call("POST", "/v1/pod_managers", podmBody());
      responses.push(created.text);
      const id = created.body.uuid;
      for (const [method, path, body] of [
        ["GET", `/v1/pod_managers/${id}`],
        ["GET", "/v1/pod_managers"],
        ["PATCH", `/v1/pod_managers/${id}`, { verify_ca: false }],
        ["POST", "/v1/pod_managers", podmBody({ name: created.body.name })],
        ["POST", "/v1/pod_managers", podmBody({ url: "not a url" })],
        ["POST", "/v1/pod_managers", { ...podmBody(), extra: PASSWORD }],
      ] as const) {
        responses.push((await api.call(method, path, body)).text);
      }
      const items = await api.scan();
      const encoded = Buffer.from(PASSWORD).toString("base64");

      expect(items.length).toBeGreaterThan(0);
      expect(api.logs.length).toBeGreaterThan(0);
      for (const haystack of [...responses, ...api.logs, ...items.map((item) => JSON.stringify(item))]) {
        expect(haystack).not.toContain(PASSWORD);
        expect(haystack).not.toContain(encoded);
      }
    });
  });
});
