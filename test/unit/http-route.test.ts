import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { NodeNotFoundError } from "../../lib/errors.ts";
import { type HttpEvent, httpRoute, json, LOCAL_API_ID } from "../../lib/http/route.ts";
import {
  ComposeNodeBody,
  GetNodeQuery,
  HistoryQuery,
  ManageNodeBody,
  RegisterNodeBody,
  RegisterNodeQuery,
} from "../../lib/nodes/schemas.ts";
import { parseOrThrow } from "../../lib/validation.ts";

const context = { getRemainingTimeInMillis: () => 1000 } as Context;

function event(overrides: Partial<HttpEvent> = {}): HttpEvent {
  return {
    version: "2.0",
    routeKey: "POST /things/{id}",
    rawPath: "/things/1",
    rawQueryString: "",
    headers: { host: "api.example.com" },
    requestContext: { requestId: "req-123", domainName: "api.example.com" } as HttpEvent["requestContext"],
    isBase64Encoded: false,
    ...overrides,
  };
}

const parse = (body: string | undefined) => JSON.parse(body ?? "null");

describe("httpRoute", () => {
  const handler = httpRoute(
    { params: z.object({ id: z.string() }), body: z.strictObject({ count: z.number() }) },
    async ({ params, body, requestId, baseUrl }) =>
      json(200, { id: params.id, count: body.count, requestId, baseUrl }),
  );

  it("passes validated input and the request id to the route function", async () => {
    const result = await handler(event({ pathParameters: { id: "7" }, body: '{"count": 3}' }), context);
    expect(result.statusCode).toBe(200);
    expect(parse(result.body)).toEqual({
      id: "7",
      count: 3,
      requestId: "req-123",
      baseUrl: "https://api.example.com",
    });
    expect(result.headers?.["x-request-id"]).toBe("req-123");
  });

  describe("the caller's principal", () => {
    const whoCalls = httpRoute({}, async ({ principal }) => json(200, { principal }));
    const withIam = (iam: { userArn?: string; userId?: string }) =>
      event({
        requestContext: {
          requestId: "req-123",
          domainName: "api.example.com",
          authorizer: { iam },
        } as HttpEvent["requestContext"],
      });

    it("is the IAM principal's ARN API Gateway authorized", async () => {
      const userArn = "arn:aws:sts::123456789012:assumed-role/valence-ops/alice";
      const result = await whoCalls(withIam({ userArn, userId: "AROAEXAMPLE:alice" }), context);

      expect(parse(result.body)).toEqual({ principal: userArn });
    });

    it("is the IAM user id when API Gateway gave no ARN, and anonymous without IAM authorization", async () => {
      expect(parse((await whoCalls(withIam({ userId: "AIDAEXAMPLE" }), context)).body)).toEqual({
        principal: "AIDAEXAMPLE",
      });
      expect(parse((await whoCalls(event(), context)).body)).toEqual({ principal: "anonymous" });
    });
  });

  it("decodes base64 bodies as API Gateway sends them", async () => {
    const body = Buffer.from('{"count": 5}').toString("base64");
    const result = await handler(
      event({ pathParameters: { id: "7" }, body, isBase64Encoded: true }),
      context,
    );
    expect(parse(result.body).count).toBe(5);
  });

  it("answers Valence's 400 body naming the field", async () => {
    const result = await handler(event({ pathParameters: { id: "7" }, body: '{"count": "3"}' }), context);
    expect(result.statusCode).toBe(400);
    expect(parse(result.body)).toEqual({
      request_id: "req-123",
      code: "ValidationError",
      status: 400,
      title: "Bad Request",
      detail: "body.count: expected number, received string",
    });
  });

  it("maps a ValenceError to its status and code", async () => {
    const failing = httpRoute({}, async () => {
      throw new NodeNotFoundError("n1");
    });
    const result = await failing(event(), context);
    expect(result.statusCode).toBe(404);
    expect(parse(result.body)).toMatchObject({ code: "NodeNotFound", detail: "node n1 not found" });
  });

  it("answers a generic 500 for an unexpected error without its text, and logs it scrubbed", async () => {
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stderr.write;
    const failing = httpRoute({}, async () => {
      throw new Error("connect to http://admin:hunter2@10.0.0.1 failed");
    });
    const result = await failing(event(), context);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain("hunter2");
    process.stderr.write = write;
    expect(parse(result.body)).toMatchObject({ code: "InternalError", request_id: "req-123" });
    expect(lines.join("")).toContain("unexpected error");
    expect(lines.join("")).not.toContain("hunter2");
  });

  it("answers 204 without a body or content type", async () => {
    const empty = httpRoute({}, async () => ({ statusCode: 204 }));
    const result = await empty(event(), context);
    expect(result.statusCode).toBe(204);
    expect(result.body).toBeUndefined();
    expect(result.headers?.["content-type"]).toBeUndefined();
  });
});

describe("httpRoute bodies", () => {
  const noBody = httpRoute({}, async () => json(200, { ok: true }));
  const withBody = httpRoute(
    { body: z.strictObject({ force: z._default(z.boolean(), false) }) },
    async ({ body }) => json(200, body),
  );

  it.each([undefined, "", "  \n", "{}", " { } "])(
    "takes %j as no options on a route without a body",
    async (body) => {
      const result = await noBody(event(body === undefined ? {} : { body }), context);
      expect(result.statusCode).toBe(200);
    },
  );

  it("takes a base64 {} as no options, as API Gateway may send it", async () => {
    const result = await noBody(
      event({ body: Buffer.from("{}").toString("base64"), isBase64Encoded: true }),
      context,
    );
    expect(result.statusCode).toBe(200);
  });

  it("refuses fields on a route without a body, naming them", async () => {
    const result = await noBody(event({ body: '{"force": true, "x": 1}' }), context);
    expect(result.statusCode).toBe(400);
    expect(parse(result.body).detail).toBe("body: unknown field(s) force, x (this request takes no body)");
  });

  it("names at most ten unknown fields, each cut short", async () => {
    const fields = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`${"k".repeat(100)}${i}`, i]));
    const result = await noBody(event({ body: JSON.stringify(fields) }), context);
    const detail = parse(result.body).detail as string;
    expect(result.statusCode).toBe(400);
    expect(detail).toContain(`${"k".repeat(64)}...`);
    expect(detail).toContain("and 2 more");
    expect(detail.length).toBeLessThan(1000);
  });

  it("names unknown fields of a strict body the same bounded way", async () => {
    const fields = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`${"k".repeat(100)}${i}`, i]));
    const result = await withBody(event({ body: JSON.stringify(fields) }), context);
    const detail = parse(result.body).detail as string;
    expect(detail).toContain("and 2 more");
    expect(detail.length).toBeLessThan(1000);
  });

  it.each(["null", "[]", "1", '"x"', "true"])("refuses %s as a body on a route without one", async (body) => {
    const result = await noBody(event({ body }), context);
    expect(result.statusCode).toBe(400);
    expect(parse(result.body).detail).toMatch(/^body: must be a JSON object, received /);
  });

  it.each(["null", "[]", "1", '"x"', "true"])("refuses %s as a body on a route with one", async (body) => {
    const result = await withBody(event({ body }), context);
    expect(result.statusCode).toBe(400);
    expect(parse(result.body).detail).toMatch(/^body: must be a JSON object, received /);
  });

  it("names what a null body is", async () => {
    const result = await withBody(event({ body: "null" }), context);
    expect(parse(result.body).detail).toBe("body: must be a JSON object, received null");
  });

  it.each([undefined, "{}"])("applies the defaults for %j on a route with a body", async (body) => {
    const result = await withBody(event(body === undefined ? {} : { body }), context);
    expect(result.statusCode).toBe(200);
    expect(parse(result.body)).toEqual({ force: false });
  });
});

describe("httpRoute links", () => {
  const links = httpRoute({}, async ({ baseUrl }) => json(200, { baseUrl }));

  it("builds the base URL from API Gateway's domain name, never the caller's Host or X-Forwarded-Proto", async () => {
    const result = await links(
      event({
        headers: { host: "attacker.example", "x-forwarded-proto": "http", "x-forwarded-host": "evil" },
      }),
      context,
    );
    expect(parse(result.body).baseUrl).toBe("https://api.example.com");
  });

  it("uses plain http for the local API server's own address", async () => {
    const result = await links(
      event({
        headers: { host: "attacker.example" },
        requestContext: {
          requestId: "r",
          apiId: LOCAL_API_ID,
          domainName: "127.0.0.1:8181",
        } as HttpEvent["requestContext"],
      }),
      context,
    );
    expect(parse(result.body).baseUrl).toBe("http://127.0.0.1:8181");
  });
});

describe("query flags (dry_run, refresh)", () => {
  it("reads true and false as booleans, leaves an absent flag out and refuses anything else", () => {
    expect(RegisterNodeQuery.parse({ dry_run: "true" })).toEqual({ dry_run: true });
    expect(RegisterNodeQuery.parse({ dry_run: "false" })).toEqual({ dry_run: false });
    expect(GetNodeQuery.parse({ refresh: "true" })).toEqual({ refresh: true });
    expect(GetNodeQuery.parse({})).toEqual({});
    expect(GetNodeQuery.safeParse({ refresh: "yes" }).success).toBe(false);
    expect(RegisterNodeQuery.safeParse({ dry_run: "1" }).success).toBe(false);
  });
});

describe("validation messages", () => {
  const numbers = httpRoute({ body: z.strictObject({ wait_timeout: z.number() }) }, async () =>
    json(200, {}),
  );

  it("says a number too large for a double must be finite", async () => {
    const result = await numbers(event({ body: '{"wait_timeout": 1e309}' }), context);
    expect(result.statusCode).toBe(400);
    expect(parse(result.body).detail).toBe("body.wait_timeout: must be a finite number");
  });

  it("still names the received type for a string", async () => {
    const result = await numbers(event({ body: '{"wait_timeout": "9"}' }), context);
    expect(parse(result.body).detail).toBe("body.wait_timeout: expected number, received string");
  });
});

describe("messages of pattern-checked fields", () => {
  const message = (schema: z.ZodMiniType, input: unknown, where: string) => {
    try {
      parseOrThrow(schema, input, where);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("expected a validation error");
  };

  it.each([
    [RegisterNodeBody, { boot_mac: "aa:bb" }, "body.boot_mac: must be a MAC address like aa:bb:cc:dd:ee:ff"],
    [
      RegisterNodeBody,
      { wait_timeout: Number.POSITIVE_INFINITY },
      "body.wait_timeout: must be a finite number",
    ],
    [
      RegisterNodeBody,
      { resource_class: "a b" },
      "body.resource_class: may only hold letters, digits and _ . -",
    ],
    [
      ManageNodeBody,
      { podm_id: randomUUID(), node_index: "a/b" },
      "body.node_index: must be a system id without / ? or #",
    ],
    [
      ComposeNodeBody,
      { podm_id: randomUUID(), name: "a b", resource_blocks: ["/redfish/v1/b/1"] },
      "body.name: may only hold letters, digits and - . _ ~",
    ],
  ])("names what is expected (%#)", (schema, input, expected) => {
    expect(message(schema, input, "body")).toBe(expected);
  });

  it("refuses a composition with nothing to compose from, before calling the pod manager", () => {
    expect(message(ComposeNodeBody, { podm_id: randomUUID(), name: "n1" }, "body")).toBe(
      "body: needs resource_blocks, or properties with memory or processor",
    );
    expect(message(ComposeNodeBody, { podm_id: randomUUID(), name: "n1", properties: {} }, "body")).toBe(
      "body: needs resource_blocks, or properties with memory or processor",
    );
  });

  it("names a history marker's shape", () => {
    expect(message(HistoryQuery, { marker: "abc" }, "query")).toBe(
      "query.marker: must be a marker from a history page's Link header, like 2026-01-31T12:00:00.000Z#0123abcd",
    );
  });

  it("never answers 'must be a valid regex'; a pattern without a message of its own is shown", () => {
    const text = message(z.object({ code: z.string().check(z.regex(/^[a-z]+$/)) }), { code: "A" }, "body");
    expect(text).toBe("body.code: must match /^[a-z]+$/");
  });
});

describe("scrubLogValue", () => {
  it("masks URL credentials and password pairs in a logged string", async () => {
    const { scrubLogValue } = await import("../../lib/scrub.ts");
    expect(scrubLogValue("message", "GET http://admin:hunter2@10.0.0.1/x")).toBe(
      "GET http://***:***@10.0.0.1/x",
    );
    expect(scrubLogValue("message", '{"redfish_password": "hunter2", "a": 1}')).toBe(
      '{"redfish_password": ***, "a": 1}',
    );
    expect(scrubLogValue("message", "password=hunter2&user=x")).toBe("password=***&user=x");
  });

  it("masks a logged field whose name says it is secret, whatever its value looks like", async () => {
    const { scrubLogValue } = await import("../../lib/scrub.ts");
    expect(scrubLogValue("redfish_password", "hunter2")).toBe("***");
    expect(scrubLogValue("session_token", "abc")).toBe("***");
    expect(scrubLogValue("secret_name", "valence/podm/1")).toBe("valence/podm/1");
    expect(scrubLogValue("count", 3)).toBe(3);
  });
});
