import { describe, expect, it } from "vitest";
import { ValidationError } from "../../lib/errors.ts";
import { IronicNameInvalidError, isUuidLike, validateIronicName } from "../../lib/ironic/index.ts";

describe("validateIronicName", () => {
  it.each(["node-1", "rack1.pod2_sys~3", "A", "x".repeat(255)])("accepts %s", (name) => {
    expect(validateIronicName(name)).toBe(name);
  });

  it.each([
    ["an empty name", "", /must not be empty/],
    ["a space", "bad name", /may only contain/],
    ["a slash", "pod/1", /may only contain/],
    ["a colon", "52:54:00", /may only contain/],
    ["non-ASCII letters", "nœud", /may only contain/],
    ["256 characters", "x".repeat(256), /at most 255/],
    ["a UUID", "1be26c0b-03f2-4d2e-ae87-c02d7f33c123", /looks like a UUID/],
    ["an upper-case UUID without hyphens", "1BE26C0B03F24D2EAE87C02D7F33C123", /looks like a UUID/],
    ["a reserved word", "detail", /reserved/],
    ["another reserved word", "vendor_passthru", /reserved/],
  ])("refuses %s as a 400", (_what, name, message) => {
    let caught: unknown;
    try {
      validateIronicName(name);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(IronicNameInvalidError);
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).code).toBe("ValidationError");
    expect((caught as Error).message).toMatch(message);
  });

  it("treats reserved words case-sensitively, as Ironic does", () => {
    expect(validateIronicName("Detail")).toBe("Detail");
  });
});

describe("isUuidLike", () => {
  it("accepts hyphens anywhere, like Ironic's is_uuid_like", () => {
    expect(isUuidLike("1be26c0b03f24d2eae87c02d7f33c123")).toBe(true);
    expect(isUuidLike("1be26c0b-03f24d2e-ae87c02d-7f33c123")).toBe(true);
    expect(isUuidLike("1be26c0b-03f2-4d2e-ae87-c02d7f33c12")).toBe(false);
    expect(isUuidLike("node-1be26c0b-03f2-4d2e-ae87-c02d7f33c123")).toBe(false);
  });
});
