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

  it("keeps pod managers to https and off loopback unless told otherwise, and parses the allowed CIDRs", () => {
    expect(parseConfig({})).toMatchObject({
      VALENCE_PODM_ALLOW_HTTP: false,
      VALENCE_PODM_ALLOW_LOOPBACK: false,
      VALENCE_PODM_ALLOWED_CIDRS: [],
    });
    const config = parseConfig({
      VALENCE_PODM_ALLOW_HTTP: "true",
      VALENCE_PODM_ALLOW_LOOPBACK: "1",
      VALENCE_PODM_ALLOWED_CIDRS: " 10.20.0.0/16, fd12::/16 ,",
    });
    expect(config).toMatchObject({
      VALENCE_PODM_ALLOW_HTTP: true,
      VALENCE_PODM_ALLOW_LOOPBACK: true,
      VALENCE_PODM_ALLOWED_CIDRS: ["10.20.0.0/16", "fd12::/16"],
    });
    expect(() => parseConfig({ VALENCE_PODM_ALLOWED_CIDRS: "10.0.0.0/8,bmc-net" })).toThrow(
      /VALENCE_PODM_ALLOWED_CIDRS.*not a CIDR: bmc-net/,
    );
  });

  it("keeps OS_* and HOME for the openstack settings, and nothing else of the environment", () => {
    const config = parseConfig({ OS_CLOUD: "lab", HOME: "/home/operator", PATH: "/usr/bin", SECRET: "x" });
    expect(config.openstack).toEqual({ OS_CLOUD: "lab", HOME: "/home/operator" });
  });
});
