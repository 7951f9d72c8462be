import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTES } from "../../lib/api/routes.ts";
import { errorBodyProblems, type RawResponse, send } from "../support/api-fuzz.ts";
import { startTestApi, type TestApi } from "../support/local-api.ts";

const METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "TRACE",
  "PROPFIND",
  "PROPPATCH",
  "MKCOL",
  "COPY",
  "MOVE",
  "LOCK",
  "UNLOCK",
  "SEARCH",
  "PURGE",
  "REPORT",
];

const SAMPLE_ID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
const concrete = (path: string) => path.replace(/\{\w+\}/g, SAMPLE_ID);

/** Near misses of every route: what a typo, a client bug or a probe sends. None of them is in the API. */
function nearMisses(): string[] {
  const paths = new Set<string>();
  for (const route of ROUTES) {
    const path = concrete(route.path);
    if (path !== "/") {
      paths.add(`${path}/`);
      paths.add(`/${path}`);
      paths.add(path.replace("/v1", "/v1/"));
      paths.add(path.toUpperCase());
      paths.add(path.replace("/v1", "/V1"));
      paths.add(path.slice(1).replaceAll("/", "%2F").replace(/^/, "/"));
      paths.add(path.replace(/\/([^/]+)$/, "%2F$1"));
      paths.add(`${path}%2F`);
      paths.add(`${path}/..%2F..%2Fetc%2Fpasswd`);
      paths.add(`${path}/x`);
      paths.add(`${path}.json`);
      paths.add(`${path};jsessionid=x`);
      paths.add(`${path}%00`);
      paths.add(`${path}%20`);
      paths.add(`//evil.example${path}`);
      paths.add(`/v2${path.slice(3)}`);
      paths.add(`/v1.0${path.slice(3)}`);
    }
  }
  for (const path of [
    "//",
    "/%2F",
    "/%2e%2e",
    "/..",
    "/../etc/passwd",
    "/v1/..%2f..%2fetc%2fpasswd",
    "/v1/nodes/../../etc/passwd",
    "/v1/nodes/..",
    "/v1/nodes/%2e%2e%2f%2e%2e",
    "/v1/node",
    "/v1/nodes/x/y/z",
    "/v1/nodes/x/register/now",
    "/v1/nodes/x/unregister/",
    "/v1/pod_managers/x/nodes",
    "/v1/pod-managers",
    "/v1/podmanagers",
    "/v1/reconcile/now",
    "/v1/openapi",
    "/v1/openapi.yaml",
    "/admin",
    "/.env",
    "/.git/config",
    "/favicon.ico",
    "/health",
    "/metrics",
    "/debug/pprof",
    "/index.html",
    "/v1/nodes/manage/x",
    "/functions/get-node.ts",
    "/lib/config.ts",
    "/../../local/stack.ts",
  ]) {
    paths.add(path);
  }
  return [...paths].filter((path) => path.startsWith("/"));
}

/** Where the URL standard's dot-segment removal leads: an alias can only ever be a route that exists. */
const normalized = (path: string) => new URL(`http://local${path}`).pathname;

function routeOf(path: string) {
  return ROUTES.filter((route) =>
    new RegExp(`^${route.path.replace(/\{\w+\}/g, "[^/]+").replaceAll(".", "\\.")}$`).test(path),
  );
}

/**
 * The local server answers only the routes of the API (the deployed API Gateway has exactly those): every
 * method on every near-miss path, and every other method on every route, is a 404 or 405 in Valence's error
 * body, and never runs a handler.
 */
describe("no accidental open paths on the local server", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({});
  });
  afterAll(() => api?.stop());

  const call = (method: string, path: string, body?: string): Promise<RawResponse> =>
    send(api.stack.apiUrl, {
      method,
      path,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: Buffer.from(body) }),
    });

  function expectRefused(response: RawResponse, method: string, path: string, allowed: number[]) {
    const where = `${method} ${path}`;
    expect(allowed, `${where} answered ${response.status}: ${response.text}`).toContain(response.status);
    expect(response.headers["x-request-id"], where).toBeTypeOf("string");
    if (method !== "HEAD") expect(errorBodyProblems(response), where).toEqual([]);
  }

  it("refuses every method on every near-miss path with 404/405 and Valence's error body", async () => {
    const paths = nearMisses().filter((path) => routeOf(normalized(path)).length === 0);
    const handled = () => api.logs.filter((line) => line.includes('"request done"')).length;
    const before = handled();
    let requests = 0;
    for (const path of paths) {
      for (const method of METHODS) {
        expectRefused(
          await call(method, path, method === "GET" || method === "HEAD" ? undefined : "{}"),
          method,
          path,
          [404, 405],
        );
        requests++;
      }
    }
    expect(handled() - before).toBe(0);
    expect(paths.length).toBeGreaterThan(150);
    console.log(
      `routes closed: ${requests} requests (${paths.length} paths × ${METHODS.length} methods) refused`,
    );
  });

  it("answers every other method on every route with 405, never running its handler", async () => {
    const handled = () => api.logs.filter((line) => line.includes('"request done"')).length;
    const before = handled();
    for (const route of ROUTES) {
      const path = concrete(route.path);
      const served = new Set(routeOf(path).map((r) => r.method));
      for (const method of METHODS.filter((m) => !served.has(m as never))) {
        expectRefused(await call(method, path), method, path, [405]);
      }
    }
    expect(handled() - before).toBe(0);
  });

  it("serves dot-segment paths only as the route they normalize to (an alias, never a new path)", async () => {
    for (const path of [
      "/v1/nodes/../pod_managers",
      "/v1/nodes/%2e%2e/pod_managers",
      "/v1/x/../nodes",
      "/v1/./nodes",
    ]) {
      const target = normalized(path);
      expect(new Set(routeOf(target).map((route) => route.path)).size, path).toBe(1);
      const [aliased, direct] = [await call("GET", path), await call("GET", target)];
      expect(aliased.status, path).toBe(direct.status);
      expect(aliased.text, path).toBe(direct.text);
    }
  });

  it("answers a path id with malformed percent-encoding with a 400, not a 500", async () => {
    for (const id of ["%", "%zz", "%E0%A4%A", "%C0"]) {
      for (const [method, path] of [
        ["GET", `/v1/nodes/${id}`],
        ["POST", `/v1/nodes/${id}/register`],
        ["DELETE", `/v1/pod_managers/${id}`],
      ] as const) {
        const answer = await call(method, path);
        expectRefused(answer, method, path, [400]);
        expect(JSON.parse(answer.text).code).toBe("ValidationError");
      }
    }
  });

  it("leaves methods the HTTP parser does not know, and CONNECT, to the parser: refused before any handler", async () => {
    for (const method of ["FOO", "GETS", "CONNECT"]) {
      const answer = await call(method, "/v1/nodes").catch((error: Error) => error);
      if (answer instanceof Error) expect(answer.message).toMatch(/hang up|ECONNRESET/);
      else expect(answer.status).toBe(400);
    }
  });
});
