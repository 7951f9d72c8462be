import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { poolInventory } from "../../local/pool.ts";
import { DEMO_CREDENTIALS } from "../../local/stack.ts";
import { startTestApi, type TestApi } from "../support/local-api.ts";

/**
 * Valence's Python client (python-valenceclient, `openstack podmanager ...` / `openstack valence node ...`) as it
 * calls the API: JSON headers and a JSON body on every call (`{}` where it has nothing to say, GET and DELETE
 * included), `driver: redfishv1` for pod managers, and lists read as JSON arrays of objects with the columns it
 * prints. Replayed against the local stack and its emulator.
 */
const CLIENT_HEADERS = {
  "content-type": "application/json",
  accept: "application/json",
  "user-agent": "python-valenceclient",
};
/** The columns `openstack podmanager list/show/create` print. */
const PODM_COLUMNS = ["uuid", "name", "url", "driver", "status", "created_at", "updated_at"];

describe("python-valenceclient's requests", () => {
  let api: TestApi;
  const call = (method: string, path: string, body: unknown = {}) =>
    api.call(method, path, body, CLIENT_HEADERS);

  beforeAll(async () => {
    api = await startTestApi({ demo: true, emulatorInventory: poolInventory(4) });
  });
  afterAll(() => api?.stop());

  it("creates, lists, shows, updates and deletes a pod manager, sending {} where it has no body", async () => {
    const emulatorUrl = api.stack.emulator?.url as string;
    const name = `client-podm-${randomUUID().slice(0, 6)}`;
    // `openstack podmanager create <name> <url> --auth username=...,password=...`: driver defaults to redfishv1.
    const created = await call("POST", "/v1/pod_managers", {
      name,
      // The emulator's RSD face; a different url string than the demo pod manager's keeps urls unique.
      url: emulatorUrl.replace("127.0.0.1", "localhost"),
      driver: "redfishv1",
      authentication: [{ type: "basic", auth_items: DEMO_CREDENTIALS }],
    });
    expect(created.status).toBe(201);
    for (const column of PODM_COLUMNS) expect(created.body).toHaveProperty(column);
    expect(created.body).toMatchObject({ name, driver: "rsd" });
    const id = created.body.uuid as string;

    const listed = await call("GET", "/v1/pod_managers");
    expect(listed.status).toBe(200);
    expect(Array.isArray(listed.body)).toBe(true);
    const row = (listed.body as Record<string, unknown>[]).find((podm) => podm.uuid === id);
    for (const column of PODM_COLUMNS) expect(row).toHaveProperty(column);

    const shown = await call("GET", `/v1/pod_managers/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ uuid: id, name });

    // `openstack podmanager update <id> --name ...` PATCHes the fields it was given.
    const renamed = await call("PATCH", `/v1/pod_managers/${id}`, { name: `${name}-renamed` });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe(`${name}-renamed`);

    const deleted = await call("DELETE", `/v1/pod_managers/${id}`);
    expect(deleted.status).toBeLessThan(300);
    const after = await call("GET", "/v1/pod_managers");
    expect((after.body as { uuid: string }[]).map((podm) => podm.uuid)).not.toContain(id);
  });

  it("composes, lists, shows and deletes a node, sending {} where it has no body", async () => {
    const podms = await call("GET", "/v1/pod_managers");
    const podmId = (podms.body as { uuid: string }[])[0]?.uuid as string;
    const name = `client-node-${randomUUID().slice(0, 6)}`;

    // `openstack valence node create`: name, podm_id and properties.
    const composed = await call("POST", "/v1/nodes", {
      name,
      podm_id: podmId,
      properties: { memory: { capacity_mib: 8192 }, processor: { total_cores: 2 } },
    });
    expect(composed.status).toBe(201);
    const id = composed.body.uuid as string;

    const listed = await call("GET", "/v1/nodes");
    expect(listed.status).toBe(200);
    expect(Array.isArray(listed.body)).toBe(true);
    expect((listed.body as { uuid: string }[]).map((node) => node.uuid)).toContain(id);

    const shown = await call("GET", `/v1/nodes/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ uuid: id, name, podm_id: podmId });

    const deleted = await call("DELETE", `/v1/nodes/${id}`);
    expect(deleted.status).toBeLessThan(300);
    expect((await call("GET", `/v1/nodes/${id}`)).status).toBe(404);
  });

  it("still refuses options a route does not take, even from the client", async () => {
    const response = await call("GET", "/v1/pod_managers", { detail: true });
    expect(response.status).toBe(400);
    expect(response.body.detail).toContain("unknown field(s) detail");
  });
});
