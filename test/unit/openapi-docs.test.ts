import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { curlExample, generateReference, REFERENCE_MARKDOWN_PATH } from "../../docs/generate.ts";
import { handler } from "../../functions/get-openapi.ts";
import { buildOpenApiDocument, OPENAPI_JSON_PATH } from "../../lib/api/openapi.ts";
import { ROUTES } from "../../lib/api/routes.ts";
import type { HttpEvent } from "../../lib/http/route.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const committed = (path: string) => readFileSync(resolve(root, path), "utf8");
const generated = generateReference();

describe("the committed API reference (docs/api-ref)", () => {
  it.each([OPENAPI_JSON_PATH, REFERENCE_MARKDOWN_PATH])("%s is what the schemas generate now", (path) => {
    const fresh = generated[path];
    // A plain equality on 100 KB of text gives an unreadable diff; say what to do instead.
    if (committed(path) !== fresh)
      expect.fail(`${path} is stale: run \`npm run docs\` and commit the result`);
    expect(committed(path)).toBe(fresh);
  });

  it("is pretty JSON with keys in a stable order", () => {
    const text = committed(OPENAPI_JSON_PATH);
    const parsed = JSON.parse(text);

    expect(text).toBe(`${JSON.stringify(parsed, null, 2)}\n`);
    expect(Object.keys(parsed)).toEqual([...Object.keys(parsed)].sort());
    expect(Object.keys(parsed.paths)).toEqual([...Object.keys(parsed.paths)].sort());
    // Field order stays the schema's, not the alphabet's.
    expect(Object.keys(parsed.components.schemas.Error.properties)).toEqual([
      "request_id",
      "code",
      "status",
      "title",
      "detail",
    ]);
  });

  it("shows every deployed route in the Markdown with its summary and a curl example", () => {
    const markdown = committed(REFERENCE_MARKDOWN_PATH);

    for (const route of ROUTES.filter((candidate) => !candidate.localOnly)) {
      expect(markdown).toContain(`### ${route.method} \`${route.path}\``);
      expect(markdown).toContain(`**${route.summary}.**`);
    }
    expect(markdown.match(/^curl /gm)).toHaveLength(ROUTES.filter((route) => !route.localOnly).length);
    expect(markdown).toContain(
      "| `wait_timeout` | integer, 1–604800 | no | Seconds the operation may take in all, its deadline",
    );
  });

  it("groups the operation routes under their own heading, each lifecycle action with its own example", () => {
    const markdown = committed(REFERENCE_MARKDOWN_PATH);
    const operations = markdown.slice(
      markdown.indexOf("\n## Operations\n"),
      markdown.indexOf("\n## Schemas\n"),
    );

    for (const path of ["/v1/operations/{id}", "/v1/operations/{id}/cancel", "/v1/nodes/{id}/operations"])
      expect(operations).toContain(`\`${path}\``);
    expect(operations).toContain(
      `curl -X POST http://127.0.0.1:8181/v1/nodes/test-node/clean -H 'content-type: application/json' ` +
        `-d '{"clean_steps":[{"interface":"deploy","step":"erase_devices_metadata"}]}'`,
    );
    expect(operations).toContain("Header `Retry-After`");
    expect(markdown).toContain("### Operation\n");
  });

  it("builds curl commands that fill the path, quote the query and send the example body", () => {
    const document = buildOpenApiDocument();
    const register = document.paths["/v1/nodes/{id}/register"]?.post;
    const list = document.paths["/v1/nodes"]?.get;

    expect(curlExample("/v1/nodes/{id}/register", "post", register as never)).toBe(
      "curl -X POST http://127.0.0.1:8181/v1/nodes/test-node/register -H 'content-type: application/json' " +
        `-d '{"manage":true,"provide":true}'`,
    );
    expect(curlExample("/v1/nodes", "get", list as never)).toBe(
      "curl 'http://127.0.0.1:8181/v1/nodes?managed_by=valence&limit=50'",
    );
  });
});

describe("GET /v1/openapi.json (functions/get-openapi.ts)", () => {
  it("serves the committed document, with the API's own domain (not the caller's Host) as its server", async () => {
    const event = {
      version: "2.0",
      routeKey: "GET /v1/openapi.json",
      rawPath: "/v1/openapi.json",
      rawQueryString: "",
      headers: { host: "attacker.example", "x-forwarded-proto": "http" },
      requestContext: { requestId: "req-1", domainName: "abc123.execute-api.eu-west-1.amazonaws.com" },
      isBase64Encoded: false,
    } as unknown as HttpEvent;

    const result = await handler(event, { getRemainingTimeInMillis: () => 1000 } as Context);

    expect(result.statusCode).toBe(200);
    const served = JSON.parse(result.body ?? "");
    expect(served.servers).toEqual([{ url: "https://abc123.execute-api.eu-west-1.amazonaws.com" }]);
    expect({ ...served, servers: undefined }).toEqual({
      ...JSON.parse(committed(OPENAPI_JSON_PATH)),
      servers: undefined,
    });
  });
});
