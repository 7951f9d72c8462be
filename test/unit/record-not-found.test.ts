import { describe, expect, it } from "vitest";
import {
  NodeNotFoundError,
  NotFoundError,
  OperationNotFoundError,
  PodManagerNotFoundError,
} from "../../lib/errors.ts";

describe("a record asked for by id that does not exist", () => {
  it.each([
    [NodeNotFoundError, "NodeNotFound", "node n-1 not found"],
    [PodManagerNotFoundError, "PodManagerNotFound", "pod manager n-1 not found"],
    [OperationNotFoundError, "OperationNotFound", "operation n-1 not found"],
  ] as const)("%o is a not-found naming the record, with its own code and name", (Kind, code, message) => {
    const cause = new Error("GetItem failed");
    const error = new Kind("n-1", { cause });
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
    expect(error.name).toBe(Kind.name);
    expect(error.cause).toBe(cause);
  });
});
