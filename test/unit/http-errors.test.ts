import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config.ts";
import {
  ConfigurationError,
  NodeNotFoundError,
  OperationFailedError,
  operationFailureCodes,
  ValenceError,
} from "../../lib/errors.ts";
import { toErrorBody } from "../../lib/http/errors.ts";
import { type HttpEvent, httpRoute } from "../../lib/http/route.ts";
import { STATUS_BY_CODE } from "../../lib/http/statuses.ts";
import {
  IronicMacAlreadyExistsError,
  IronicNodeNotFoundError,
  IronicProvisionTimeoutError,
} from "../../lib/ironic/errors.ts";

const LIB = join(import.meta.dirname, "../../lib");

function libFiles(dir = LIB): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return libFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Every module under lib/, loaded: new error classes can live anywhere there. */
const modules: Record<string, unknown> = Object.fromEntries(
  await Promise.all(
    libFiles().map(async (file) => [relative(LIB, file), await import(pathToFileURL(file).href)] as const),
  ),
);

type ErrorClass = abstract new (...args: never[]) => ValenceError;

function exportedErrorClasses(): Map<string, ErrorClass> {
  const classes = new Map<string, ErrorClass>();
  for (const [file, exports] of Object.entries(modules)) {
    for (const [name, value] of Object.entries(exports as Record<string, unknown>)) {
      if (typeof value === "function" && value.prototype instanceof ValenceError) {
        classes.set(`lib/${file}: ${name}`, value as ErrorClass);
      }
    }
  }
  return classes;
}

/** The code an instance of the class carries; field initialisers set it whatever the constructor's arguments. */
function codeOf(errorClass: ErrorClass): string | undefined {
  const instance = Reflect.construct(errorClass, ["x", "y", "z"]) as ValenceError;
  return instance.code;
}

function libSources(): string[] {
  return libFiles().map((file) => readFileSync(file, "utf8"));
}

const context = { getRemainingTimeInMillis: () => 1000 } as Context;
const event = {
  version: "2.0",
  routeKey: "GET /v1/nodes",
  rawPath: "/v1/nodes",
  rawQueryString: "",
  headers: {},
  requestContext: { requestId: "req-cfg" } as HttpEvent["requestContext"],
  isBase64Encoded: false,
} as HttpEvent;

describe("the code-to-status table", () => {
  it("has a status for the code of every exported ValenceError class", () => {
    const classes = exportedErrorClasses();
    expect(classes.size).toBeGreaterThan(30);
    const unmapped: string[] = [];
    for (const [where, errorClass] of classes) {
      const code = codeOf(errorClass);
      // Abstract bases (NotFoundError, ConflictError) have no code of their own.
      if (code === undefined || errorClass === OperationFailedError) continue;
      if (!STATUS_BY_CODE[code]) unmapped.push(`${where} has code ${code}`);
    }
    expect(unmapped, `add these codes to lib/http/statuses.ts:\n${unmapped.join("\n")}`).toEqual([]);
  });

  it("has a status for every code an operation failure is raised with, and for its conflict and timeout variants", () => {
    const codes = new Set(
      libSources().flatMap((source) =>
        [...source.matchAll(/new OperationFailedError\(\s*"(\w+)"/g)].map((match) => match[1] as string),
      ),
    );
    expect(codes.size).toBeGreaterThan(0);
    const unmapped = [...codes]
      .flatMap((code) => operationFailureCodes(code))
      .filter((code) => !STATUS_BY_CODE[code]);
    expect(unmapped, `add these codes to lib/http/statuses.ts: ${unmapped.join(", ")}`).toEqual([]);
  });

  it("gives every status a 4xx or 5xx", () => {
    for (const { status } of Object.values(STATUS_BY_CODE)) {
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
    }
  });
});

describe("toErrorBody", () => {
  it("answers a register that Ironic's 404 broke part-way with 502, not 404", () => {
    const cause = new IronicNodeNotFoundError("Ironic node 9f1c... not found", { status: 404 });
    const error = new OperationFailedError("RegistrationFailed", "register of node n1 failed", cause);
    const body = toErrorBody(error, "req-1");
    expect(body).toMatchObject({ code: "RegistrationFailed", status: 502, title: "Bad Gateway" });
  });

  it("keeps a conflict met part-way a 409, under a conflict code of its own", () => {
    const cause = new IronicMacAlreadyExistsError("MAC aa:bb:cc:dd:ee:ff already exists");
    const error = new OperationFailedError("RegistrationFailed", "register of node n1 failed", cause);
    expect(toErrorBody(error, "req-2")).toMatchObject({ code: "RegistrationConflict", status: 409 });
  });

  it("keeps a wait_timeout that ran out part-way a 504, under a timeout code of its own", () => {
    const cause = new IronicProvisionTimeoutError("node did not reach manageable within 60 s");
    const error = new OperationFailedError("RegistrationFailed", "register of node n1 failed", cause);
    expect(toErrorBody(error, "req-5")).toMatchObject({ code: "RegistrationTimeout", status: 504 });
  });

  it("answers an unknown code with a generic 500 rather than guessing", () => {
    class Unmapped extends ValenceError {
      readonly code = "NoSuchCodeInTheTable";
    }
    const body = toErrorBody(new Unmapped("secret detail"), "req-3");
    expect(body).toMatchObject({ status: 500, code: "NoSuchCodeInTheTable" });
    expect(body.detail).not.toContain("secret detail");
  });

  it("keeps a not-found of ours a 404", () => {
    expect(toErrorBody(new NodeNotFoundError("n1"), "req-4")).toMatchObject({
      status: 404,
      title: "Not Found",
    });
  });
});

describe("a bad environment variable", () => {
  it("is a server misconfiguration: a 500 that does not name the variable to the caller, logged", async () => {
    const lines: string[] = [];
    const write = process.stdout.write;
    const writeErr = process.stderr.write;
    const capture = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stdout.write;
    process.stdout.write = capture;
    process.stderr.write = capture;
    const handler = httpRoute({}, async () => {
      parseConfig({ VALENCE_API_PORT: "70000" });
      return { statusCode: 204 };
    });
    const result = await handler(event, context).finally(() => {
      process.stdout.write = write;
      process.stderr.write = writeErr;
    });

    expect(result.statusCode).toBe(500);
    const body = JSON.parse(result.body ?? "null");
    expect(body).toMatchObject({ code: "ServerMisconfigured", status: 500, title: "Internal Server Error" });
    expect(body.detail).not.toContain("env.");
    expect(body.detail).not.toContain("VALENCE_API_PORT");
    // The operator finds the variable in the log line of the request.
    expect(lines.join("")).toContain("env.VALENCE_API_PORT");
  });

  it("is a ConfigurationError", () => {
    expect(() => parseConfig({ VALENCE_API_PORT: "x" })).toThrow(ConfigurationError);
  });
});
