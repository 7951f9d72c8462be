import { describe, expect, it } from "vitest";
import { collectSecrets, extractFault, scrub } from "../../lib/ironic/index.ts";

describe("scrub", () => {
  it("masks known secret values wherever they appear", () => {
    expect(scrub("login as root with Sup3r-secret failed; Sup3r-secret rejected", ["Sup3r-secret"])).toBe(
      "login as root with *** failed; *** rejected",
    );
  });

  it("masks a secret escaped inside JSON inside JSON", () => {
    const secret = 'pa"ss\\word';
    const text = JSON.stringify({ faultstring: `value ${secret} refused` });
    expect(scrub(text, [secret])).not.toContain(JSON.stringify(secret).slice(1, -1));
  });

  it("masks values after password-like keys in Python and JSON renderings", () => {
    const text =
      "driver_info {'redfish_password': 'un known', 'ipmi_password': 'abc,def', \"bmc_secret\": \"s3\", " +
      "'redfish_username': 'admin'} token=abcdef1234 passwd: hunter2";
    const scrubbed = scrub(text);
    expect(scrubbed).toBe(
      "driver_info {'redfish_password': ***, 'ipmi_password': ***, \"bmc_secret\": ***, " +
        "'redfish_username': 'admin'} token=*** passwd: ***",
    );
  });

  it("masks credentials in URLs", () => {
    expect(scrub("Unable to connect to https://admin:pw-in-url@10.0.0.1/redfish/v1/")).toBe(
      "Unable to connect to https://admin:***@10.0.0.1/redfish/v1/",
    );
  });

  it("leaves ordinary messages alone", () => {
    const text = "Node 1be26c0b could not be found. Missing redfish_password in driver_info.";
    expect(scrub(text, ["ab"])).toBe(text);
  });
});

describe("collectSecrets", () => {
  it("finds values under password-like keys at any depth", () => {
    const secrets = collectSecrets({
      driver: "redfish",
      driver_info: { redfish_password: "pw-1", redfish_username: "admin", nested: [{ api_key: "key-2" }] },
      extra: { client_secret: "sec-3", note: "pw-1 is not a key" },
    });
    expect([...secrets].sort()).toEqual(["key-2", "pw-1", "sec-3"]);
  });
});

describe("extractFault", () => {
  it.each([
    [
      "a JSON string in error_message",
      JSON.stringify({ error_message: JSON.stringify({ faultstring: "F1" }) }),
      "F1",
    ],
    ["an object in error_message", JSON.stringify({ error_message: { faultstring: "F2" } }), "F2"],
    [
      "a 406 description",
      JSON.stringify({ error_message: JSON.stringify({ code: 406, description: "D3" }) }),
      "D3",
    ],
    ["a plain string in error_message", JSON.stringify({ error_message: "not json" }), "not json"],
    ["a keystonemiddleware error", JSON.stringify({ error: { code: 401, message: "M5" } }), "M5"],
    ["a non-JSON body", "<html>Bad Gateway</html>", "<html>Bad Gateway</html>"],
  ])("reads %s", (_what, body, expected) => {
    expect(extractFault(body)).toBe(expected);
  });

  it("returns undefined for an empty body", () => {
    expect(extractFault("")).toBeUndefined();
  });
});
