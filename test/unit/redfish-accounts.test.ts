import { describe, expect, it } from "vitest";
import { changeAccountPassword, checkAccountLogin } from "../../lib/redfish/accounts.ts";
import { PodManagerAuthError, PodManagerResponseError } from "../../lib/redfish/index.ts";

/**
 * A pod manager's AccountService behind `deps.fetch`, no network: where real services differ from the emulator
 * (paged account collections, ETags, error messages that quote what they refused).
 */

const ORIGIN = "https://podm.example.net";
const NEW_PASSWORD = "N3w-Passw0rd!x";

interface Call {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

function fakePodManager(options: { patchStatus?: number; patchMessage?: string; sessions?: boolean } = {}) {
  const calls: Call[] = [];
  const resources: Record<string, unknown> = {
    "/redfish/v1/": { AccountService: { "@odata.id": "/redfish/v1/AccountService" } },
    "/redfish/v1/AccountService": { Accounts: { "@odata.id": "/redfish/v1/AccountService/Accounts" } },
    "/redfish/v1/AccountService/Accounts": {
      Members: [{ "@odata.id": "/redfish/v1/AccountService/Accounts/1" }],
      "Members@odata.nextLink": "/redfish/v1/AccountService/Accounts?$skip=1",
    },
    "/redfish/v1/AccountService/Accounts?$skip=1": {
      Members: [{ "@odata.id": "/redfish/v1/AccountService/Accounts/3" }],
    },
    "/redfish/v1/AccountService/Accounts/1": { UserName: "root", Password: null },
    "/redfish/v1/AccountService/Accounts/3": { UserName: "valence", Password: null },
  };
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const path = `${url.pathname}${decodeURIComponent(url.search)}`;
    const method = init?.method ?? "GET";
    const headers = Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>));
    calls.push({ method, path, headers, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    const reply = (status: number, body?: unknown, extra: Record<string, string> = {}) =>
      new Response(body === undefined ? null : JSON.stringify(body), {
        status,
        headers: { "Content-Type": "application/json", ...extra },
      });
    if (method === "POST" && path === "/redfish/v1/SessionService/Sessions") {
      if (options.sessions === false) return reply(405);
      const { UserName, Password } = JSON.parse(String(init?.body));
      if (UserName !== "valence" || Password !== "old") return reply(401);
      return reply(201, {}, { "X-Auth-Token": "token-1", Location: "/redfish/v1/SessionService/Sessions/1" });
    }
    if (method === "DELETE") return reply(204);
    if (method === "PATCH") {
      const status = options.patchStatus ?? 204;
      return status === 204
        ? reply(204)
        : reply(status, { error: { code: "Base.1.0.GeneralError", message: options.patchMessage ?? "" } });
    }
    const resource = resources[path];
    return resource ? reply(200, resource, { ETag: `W/"${path.length}"` }) : reply(404);
  };
  return { fetch: fetchImpl as typeof fetch, calls };
}

const connection = (password = "old") => ({ url: ORIGIN, username: "valence", password, verifyCa: true });

describe("changeAccountPassword", () => {
  it("finds the account by UserName across collection pages and PATCHes its Password with its ETag", async () => {
    const fake = fakePodManager();
    await changeAccountPassword(connection(), NEW_PASSWORD, { fetch: fake.fetch });

    const patches = fake.calls.filter((call) => call.method === "PATCH");
    expect(patches).toEqual([
      {
        method: "PATCH",
        path: "/redfish/v1/AccountService/Accounts/3",
        headers: expect.objectContaining({ "If-Match": 'W/"37"', "X-Auth-Token": "token-1" }),
        body: { Password: NEW_PASSWORD },
      },
    ]);
  });

  it("never quotes the new password in its error, even when the pod manager does", async () => {
    const fake = fakePodManager({
      patchStatus: 400,
      patchMessage: `The password ${NEW_PASSWORD} does not meet the password policy`,
    });
    const error = await changeAccountPassword(connection(), NEW_PASSWORD, { fetch: fake.fetch }).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(PodManagerResponseError);
    expect(String(error)).toContain("PATCH /redfish/v1/AccountService/Accounts/3 (Password) answered 400");
    expect(String(error)).toContain("The password *** does not meet");
    expect(String(error)).not.toContain(NEW_PASSWORD);
  });

  it("says so when no account has the user's name", async () => {
    const fake = fakePodManager();
    await expect(
      changeAccountPassword({ ...connection(), username: "nobody" }, NEW_PASSWORD, { fetch: fake.fetch }),
    ).rejects.toThrow(PodManagerAuthError);
    const basic = fakePodManager({ sessions: false });
    await expect(
      changeAccountPassword({ ...connection(), username: "nobody" }, NEW_PASSWORD, { fetch: basic.fetch }),
    ).rejects.toThrow(/no account with UserName nobody/);
  });
});

describe("checkAccountLogin", () => {
  it("resolves when the credentials open a session, throws PodManagerAuthError when refused", async () => {
    await expect(checkAccountLogin(connection(), { fetch: fakePodManager().fetch })).resolves.toBeUndefined();
    await expect(checkAccountLogin(connection("wrong"), { fetch: fakePodManager().fetch })).rejects.toThrow(
      PodManagerAuthError,
    );
  });
});
