import { describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, UpstreamError, ValidationError } from "../../lib/errors.ts";
import {
  IronicAuthError,
  IronicConflictError,
  IronicDuplicateNameError,
  IronicNameInvalidError,
  IronicNodeNotFoundError,
  IronicPortNotFoundError,
  IronicProvisionFailedError,
  IronicRequestError,
  IronicUnavailableError,
} from "../../lib/ironic/errors.ts";

describe("Ironic errors", () => {
  const cause = new Error("socket hang up");
  const details = { status: 409, faultstring: "busy", method: "PATCH", path: "/v1/nodes/x", cause };

  it.each([
    [new IronicNodeNotFoundError("gone", details), NotFoundError, "IronicNodeNotFound"],
    [new IronicPortNotFoundError("gone", details), NotFoundError, "IronicPortNotFound"],
    [new IronicConflictError("busy", details), ConflictError, "IronicConflict"],
    [new IronicDuplicateNameError("taken", details), ConflictError, "IronicDuplicateName"],
    [new IronicAuthError("refused", details), UpstreamError, "IronicAuthFailed"],
    [new IronicRequestError("bad", details), UpstreamError, "IronicRequestRejected"],
    [new IronicNameInvalidError("bad name", details), ValidationError, "ValidationError"],
  ] as const)("%s keeps its kind, code, name, details and cause", (error, kind, code) => {
    expect(error).toBeInstanceOf(kind);
    expect(error.code).toBe(code);
    expect(error.name).toBe(error.constructor.name);
    expect(error.details).toBe(details);
    expect(error.cause).toBe(cause);
  });

  it("an unavailable Ironic keeps its reason beside the details", () => {
    const error = new IronicUnavailableError("down", "connect", details);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error.reason).toBe("connect");
    expect(error.details).toBe(details);
    expect(error.cause).toBe(cause);
    expect(error.name).toBe("IronicUnavailableError");
  });

  it("a failed provision carries the node and the exchange's details", () => {
    const node = { uuid: "u", provisionState: "clean failed", lastError: "boom" };
    const error = new IronicProvisionFailedError("failed", node, details);
    expect(error).toBeInstanceOf(IronicRequestError);
    expect(error.node).toBe(node);
    expect(error.details).toBe(details);
  });

  it("details default to none", () => {
    const error = new IronicConflictError("busy");
    expect(error.details).toEqual({});
    expect(error.cause).toBeUndefined();
  });
});
