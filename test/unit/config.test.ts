import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config.ts";
import { ConfigurationError } from "../../lib/errors.ts";

describe("parseConfig", () => {
  it("applies defaults for an empty environment", () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      VALENCE_TABLE_NAME: "valence",
      VALENCE_SECRET_STORE: "secretsmanager",
      VALENCE_API_PORT: 8181,
      VALENCE_DATA_DIR: ".valence",
      VALENCE_LOCAL: false,
    });
    expect(config.DYNAMODB_ENDPOINT).toBeUndefined();
  });

  it("coerces numbers and flags", () => {
    const config = parseConfig({ VALENCE_API_PORT: "9000", VALENCE_LOCAL: "true" });
    expect(config.VALENCE_API_PORT).toBe(9000);
    expect(config.VALENCE_LOCAL).toBe(true);
  });

  it("refuses a bad value as a server misconfiguration, naming the variable", () => {
    expect(() => parseConfig({ VALENCE_API_PORT: "70000" })).toThrow(/env\.VALENCE_API_PORT/);
    expect(() => parseConfig({ VALENCE_SECRET_STORE: "vault" })).toThrow(ConfigurationError);
    expect(() => parseConfig({ DYNAMODB_ENDPOINT: "not a url" })).toThrow(/DYNAMODB_ENDPOINT/);
  });
});
