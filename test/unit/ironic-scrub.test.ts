import { describe, expect, it } from "vitest";
import { errorFromResponse } from "../../lib/ironic/faults.ts";
import { collectSecrets, extractFault, scrub } from "../../lib/ironic/index.ts";
import { IronicNodeSchema, MAX_IRONIC_TEXT } from "../../lib/ironic/schemas.ts";
import { scrubLogValue, scrubTruncated } from "../../lib/scrub.ts";

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

  it("masks the value of `key => value`, not only its first character", () => {
    expect(scrub("{:password => 'hunter2', :user => 'x'}")).toBe("{:password => ***, :user => 'x'}");
  });

  it("leaves ordinary messages alone", () => {
    const text = "Node 1be26c0b could not be found. Missing redfish_password in driver_info.";
    expect(scrub(text, ["ab"])).toBe(text);
  });
});

/**
 * The shapes that made the old key=value pattern backtrack (password-like keys without a separator, long word runs,
 * quotes that never close, scheme-like runs without `://`, ...), 64 KB each, with a real credential planted after
 * them: scrubbing must get through all of it and still mask the credential.
 */
describe("scrubbing adversarial input", () => {
  const SIZE = 64 * 1024;
  const fill = (unit: string) => unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE);
  const PLANTED = "Planted-7f3a9c";
  const shapes: Array<[string, string]> = [
    ["password-like keys without a separator", fill("password")],
    ["password-like keys between quotes", fill('"redfish_password"')],
    ["keys with a separator and an empty value", fill("password=,")],
    ["a key before one long word run", `password_${fill("a")}`],
    ["one long word run", fill("a")],
    ["keys opening quotes", fill('"password":"')],
    ["an unclosed quote full of escapes", `password="${fill("x\\")}`],
    ["query-string ampersands", `password=${fill("&a")}`],
    ["scheme-like dotted runs", fill("a.")],
    ["schemes without user-info", fill("a://")],
    ["user-info without an @", `a://${fill("b:")}`],
    ["Authorization schemes without a token", fill("Basic ")],
  ];

  it.each(shapes)(
    "masks a credential after %s (64 KB), for Ironic text and log text alike",
    (_what, text) => {
      const input = `${text} password=${PLANTED} and http://admin:${PLANTED}@10.0.0.1/`;

      for (const scrubbed of [scrub(input, ["known-secret"]), String(scrubLogValue("message", input))]) {
        expect(scrubbed).not.toContain(PLANTED);
        expect(scrubbed).toContain(" password=*** and http://");
      }
    },
  );

  it("reads an Ironic node whose maintenance reason and last error are 64 KB of them: shortened and scrubbed", () => {
    const hostile = `${fill("password")} password=${PLANTED}`;
    const node = IronicNodeSchema.parse({
      uuid: "1be26c0b-03f2-4d2e-ae87-c02d7f33c123",
      name: "n1",
      driver: "redfish",
      provision_state: "enroll",
      target_provision_state: null,
      power_state: null,
      target_power_state: null,
      maintenance: true,
      maintenance_reason: hostile,
      last_error: `redfish_password=${PLANTED} ${hostile}`,
      driver_info: {},
      properties: {},
      extra: {},
      instance_uuid: null,
      resource_class: null,
      network_interface: null,
      created_at: "2026-01-01T00:00:00Z",
      updated_at: null,
    });

    expect(node.maintenance_reason?.length).toBe(MAX_IRONIC_TEXT + 1);
    expect(node.maintenance_reason?.endsWith("…")).toBe(true);
    expect(node.last_error?.startsWith("redfish_password=*** password")).toBe(true);
    expect(node.last_error?.length).toBe(MAX_IRONIC_TEXT + 1);
  });

  it("cuts an Ironic error body of a megabyte to the fault length, scrubbed", () => {
    const body = JSON.stringify({
      error_message: JSON.stringify({
        faultstring: `ipmi_password: ${PLANTED}; ${fill("password").repeat(16)}`,
      }),
    });

    const error = errorFromResponse(400, body, { method: "POST", path: "/v1/nodes", secrets: [] });

    expect(error.message).toContain("ipmi_password: ***;");
    expect(error.message).not.toContain(PLANTED);
    expect(error.message.length).toBeLessThan(600);
  });
});

describe("scrubTruncated", () => {
  it("keeps the first characters, and masks a known secret the cut runs through whole", () => {
    const secret = "Known-secret-0123456789";
    const text = `${"x".repeat(90)}${secret}${"y".repeat(10_000)}`;

    const shown = scrubTruncated(text, 100, [secret]);

    expect(shown).toBe(`${"x".repeat(90)}***${"y".repeat(7)}…`);
  });

  it("masks a known secret whose beginning is all that is left of a text cut before", () => {
    const secret = "Known-secret-0123456789";

    expect(scrub(`failed: ${secret.slice(0, 9)}…`, [secret])).toBe("failed: ***…");
  });

  it("masks a quoted value or a URL password that runs past the cut", () => {
    const quoted = `{'redfish_password': '${"a b ".repeat(10_000)}'}`;
    const url = `connect to http://admin:${"p".repeat(10_000)}@10.0.0.1/`;

    expect(scrubTruncated(quoted, 100)).toBe("{'redfish_password': ***…");
    expect(scrubTruncated(url, 100)).toBe("connect to http://admin:***…");
  });

  it("leaves a short text as scrub does", () => {
    expect(scrubTruncated("token=abc def", 100)).toBe("token=*** def");
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
