import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { z } from "zod/mini";
import { NodeNotFoundError } from "../../lib/errors.ts";
import { type HttpEvent, httpRoute, json } from "../../lib/http/route.ts";

const context = { getRemainingTimeInMillis: () => 1000 } as Context;

function event(overrides: Partial<HttpEvent> = {}): HttpEvent {
  return {
    version: "2.0",
    routeKey: "POST /things/{id}",
    rawPath: "/things/1",
    rawQueryString: "",
    headers: { host: "api.example.com" },
    requestContext: { requestId: "req-123" } as HttpEvent["requestContext"],
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

describe("scrubSecrets", () => {
  it("masks URL credentials and password pairs", async () => {
    const { scrubSecrets } = await import("../../lib/http/errors.ts");
    expect(scrubSecrets("GET http://admin:hunter2@10.0.0.1/x")).toBe("GET http://***:***@10.0.0.1/x");
    expect(scrubSecrets('{"redfish_password": "hunter2", "a": 1}')).toBe('{"redfish_password": ***, "a": 1}');
    expect(scrubSecrets("password=hunter2&user=x")).toBe("password=***&user=x");
  });
});
