import { describe, expect, it } from "vitest";
import { PodManagerUrlRefusedError } from "../../lib/errors.ts";
import {
  addressPolicy,
  checkAddress,
  checkUrl,
  parseCidr,
  podManagerUrlCheck,
  STRICT_ADDRESS_POLICY,
} from "../../lib/net/address-policy.ts";

const LOCAL = addressPolicy({ allowHttp: true, allowLoopback: true });

describe("address policy: URLs as written", () => {
  it.each([
    ["http://10.0.0.5", "http-not-allowed"],
    ["https://169.254.169.254/latest/meta-data", "metadata"],
    ["https://[fd00:ec2::254]/", "metadata"],
    ["https://169.254.10.1", "link-local"],
    ["https://[fe80::1]:8443", "link-local"],
    ["https://[febf::1]", "link-local"],
    ["https://0.0.0.0", "unspecified"],
    ["https://0/", "unspecified"],
    ["https://[::]", "unspecified"],
    ["https://127.0.0.1", "loopback"],
    ["https://127.8.9.10:8443", "loopback"],
    ["https://0x7f000001", "loopback"],
    ["https://2130706433", "loopback"],
    ["https://017700000001", "loopback"],
    ["https://127.1", "loopback"],
    ["https://localhost:8443", "loopback"],
    ["https://LOCALHOST./", "loopback"],
    ["https://localhost../", "loopback"],
    ["https://127.0.0.1./", "loopback"],
    ["https://%31%32%37.0.0.1", "loopback"],
    ["https://[0:0:0:0:0:ffff:127.0.0.1]", "loopback"],
    ["https://bmc.localhost", "loopback"],
    ["https://[::1]:8443", "loopback"],
    ["https://[::ffff:127.0.0.1]", "loopback"],
    ["https://[::ffff:7f00:1]", "loopback"],
    ["https://[::ffff:169.254.169.254]", "metadata"],
    ["https://[::127.0.0.1]", "loopback"],
    ["https://[64:ff9b::a9fe:a9fe]", "metadata"],
    ["https://224.0.0.1", "multicast"],
    ["https://255.255.255.255", "multicast"],
    ["https://[ff02::1]", "multicast"],
  ])("refuses %s by default (%s)", (url, rule) => {
    expect(checkUrl(STRICT_ADDRESS_POLICY, url)).toMatchObject({ rule });
  });

  it.each([
    "https://10.1.2.3:8443",
    "https://172.16.0.9",
    "https://192.168.1.20/redfish/v1",
    "https://[fd12:3456::1]",
    "https://podm.example.net:8443",
    "https://198.51.100.7",
  ])("allows %s: private ranges and host names (resolved at connect time)", (url) => {
    expect(checkUrl(STRICT_ADDRESS_POLICY, url)).toBeUndefined();
  });

  it("allows http:// and loopback only where the deployment allows them", () => {
    for (const url of [
      "http://127.0.0.1:8182",
      "http://localhost:8182",
      "http://[::1]:8182",
      "http://0x7f000001",
    ]) {
      expect(checkUrl(LOCAL, url)).toBeUndefined();
    }
    expect(checkUrl(addressPolicy({ allowHttp: true }), "http://127.0.0.1")).toMatchObject({
      rule: "loopback",
    });
    expect(checkUrl(addressPolicy({ allowLoopback: true }), "http://127.0.0.1")).toMatchObject({
      rule: "http-not-allowed",
    });
  });

  it("refuses link-local, metadata and unspecified addresses even where loopback and http are allowed", () => {
    for (const url of [
      "http://169.254.169.254",
      "http://[fd00:ec2::254]",
      "http://[fe80::1]",
      "http://0.0.0.0",
    ]) {
      expect(checkUrl(LOCAL, url)).toBeDefined();
    }
  });
});

describe("address policy: allowed networks", () => {
  const narrowed = addressPolicy({ allowedCidrs: ["10.20.0.0/16", "fd12:3456::/32", "192.0.2.7"] });

  it("allows only addresses inside the configured CIDRs", () => {
    expect(checkAddress(narrowed, "10.20.255.1")).toBeUndefined();
    expect(checkAddress(narrowed, "fd12:3456:ffff::1")).toBeUndefined();
    expect(checkAddress(narrowed, "192.0.2.7")).toBeUndefined();
    expect(checkAddress(narrowed, "10.21.0.1")).toMatchObject({ rule: "not-in-allowed-cidrs" });
    expect(checkAddress(narrowed, "192.0.2.8")).toMatchObject({ rule: "not-in-allowed-cidrs" });
    expect(checkAddress(narrowed, "fd12:3457::1")).toMatchObject({ rule: "not-in-allowed-cidrs" });
    expect(checkUrl(narrowed, "https://172.16.0.1")).toMatchObject({
      rule: "not-in-allowed-cidrs",
      reason: expect.stringContaining("10.20.0.0/16"),
    });
  });

  it("never widens past the rules that always hold", () => {
    const wide = addressPolicy({ allowedCidrs: ["0.0.0.0/0", "::/0"] });
    expect(checkAddress(wide, "169.254.169.254")).toMatchObject({ rule: "metadata" });
    expect(checkAddress(wide, "127.0.0.1")).toMatchObject({ rule: "loopback" });
    expect(checkAddress(wide, "8.8.8.8")).toBeUndefined();
  });

  it("parses CIDRs and refuses what is not one", () => {
    expect(parseCidr("10.0.0.0/8")).toMatchObject({ family: 4, prefix: 8 });
    expect(parseCidr("10.1.2.3/8")).toMatchObject({ network: 10n << 24n });
    expect(parseCidr("2001:db8::/32")).toMatchObject({ family: 6, prefix: 32 });
    expect(parseCidr("192.0.2.1")).toMatchObject({ prefix: 32 });
    for (const bad of [
      "10.0.0.0/33",
      "10.0.0/8",
      "::/129",
      "example.net/8",
      "10.0.0.0/x",
      "1:2:3:4:5:6:7:8:9",
    ]) {
      expect(parseCidr(bad)).toBeUndefined();
    }
    expect(() => addressPolicy({ allowedCidrs: ["nope"] })).toThrow(/not a CIDR/);
  });

  it("reads the addresses DNS answers, in every IPv6 spelling", () => {
    expect(checkAddress(STRICT_ADDRESS_POLICY, "::ffff:127.0.0.1")).toMatchObject({ rule: "loopback" });
    expect(checkAddress(STRICT_ADDRESS_POLICY, "0:0:0:0:0:0:0:1")).toMatchObject({ rule: "loopback" });
    expect(checkAddress(STRICT_ADDRESS_POLICY, "fe80::1%eth0")).toMatchObject({ rule: "link-local" });
    expect(checkAddress(STRICT_ADDRESS_POLICY, "FD00:EC2:0:0:0:0:0:254")).toMatchObject({ rule: "metadata" });
    expect(checkAddress(STRICT_ADDRESS_POLICY, "not-an-ip")).toMatchObject({ rule: "not-an-address" });
    expect(checkAddress(STRICT_ADDRESS_POLICY, "2001:db8::10")).toBeUndefined();
  });
});

describe("podManagerUrlCheck", () => {
  it("throws a PodManagerUrlRefusedError naming the rule, and nothing for an allowed URL", () => {
    const check = podManagerUrlCheck(STRICT_ADDRESS_POLICY);
    expect(() => check("https://10.0.0.1")).not.toThrow();
    const error = (() => {
      try {
        check("https://[::1]:8443");
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(PodManagerUrlRefusedError);
    expect(error).toMatchObject({
      code: "PodManagerUrlRefused",
      message: expect.stringContaining("loopback"),
    });
  });
});
