import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RedfishEmulator, startRedfishEmulator } from "../../local/redfish-emulator/index.ts";

/** The emulator's AccountService over plain HTTP: what a password rotation relies on. */

const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;

async function call(
  emulator: RedfishEmulator,
  method: string,
  path: string,
  options: { body?: unknown; password?: string | null; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.password !== null) headers.Authorization = basic(options.password ?? "admin");
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const login = (emulator: RedfishEmulator, password: string) =>
  call(emulator, "POST", "/redfish/v1/SessionService/Sessions", {
    password: null,
    body: { UserName: "admin", Password: password },
  });

describe("Redfish emulator AccountService", () => {
  let emulator: RedfishEmulator;

  beforeAll(async () => {
    emulator = await startRedfishEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });
  beforeEach(() => {
    emulator.reset();
  });

  it("is linked from the service root and lists the user's account, never its password", async () => {
    const root = await call(emulator, "GET", "/redfish/v1/", { password: null });
    expect(root.body.AccountService).toEqual({ "@odata.id": "/redfish/v1/AccountService" });
    const service = await call(emulator, "GET", "/redfish/v1/AccountService");
    expect(service.status).toBe(200);
    expect(service.body).toMatchObject({
      "@odata.type": expect.stringMatching(/^#AccountService\./),
      Accounts: { "@odata.id": "/redfish/v1/AccountService/Accounts" },
    });
    const accounts = await call(emulator, "GET", "/redfish/v1/AccountService/Accounts");
    expect(accounts.body.Members).toEqual([{ "@odata.id": "/redfish/v1/AccountService/Accounts/1" }]);
    const account = await call(emulator, "GET", "/redfish/v1/AccountService/Accounts/1");
    expect(account.body).toMatchObject({
      "@odata.type": expect.stringMatching(/^#ManagerAccount\./),
      Id: "1",
      UserName: "admin",
      Password: null,
    });
    expect((await call(emulator, "GET", "/redfish/v1/AccountService", { password: null })).status).toBe(401);
  });

  it("changes the password with a PATCH: only the new one opens sessions and passes Basic", async () => {
    const changed = await call(emulator, "PATCH", "/redfish/v1/AccountService/Accounts/1", {
      body: { Password: "n3w-Secret" },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.Password).toBeNull();

    expect((await login(emulator, "admin")).status).toBe(401);
    expect((await call(emulator, "GET", "/redfish/v1/Systems")).status).toBe(401);
    const opened = await login(emulator, "n3w-Secret");
    expect(opened.status).toBe(201);
    expect(
      (
        await call(emulator, "GET", "/redfish/v1/Systems", {
          password: null,
          headers: { "X-Auth-Token": String(opened.headers.get("x-auth-token")) },
        })
      ).status,
    ).toBe(200);
    expect((await call(emulator, "GET", "/redfish/v1/Systems", { password: "n3w-Secret" })).status).toBe(200);

    emulator.reset();
    expect((await login(emulator, "admin")).status).toBe(201);
  });

  it("refuses a PATCH it cannot take and keeps the old password", async () => {
    const path = "/redfish/v1/AccountService/Accounts/1";
    expect((await call(emulator, "PATCH", path, { body: { Password: "" } })).status).toBe(400);
    expect((await call(emulator, "PATCH", path, { body: { UserName: "root" } })).status).toBe(400);
    expect(
      (await call(emulator, "PATCH", "/redfish/v1/AccountService/Accounts/2", { body: {} })).status,
    ).toBe(404);
    expect(
      (await call(emulator, "PATCH", path, { password: "wrong", body: { Password: "n3w-Secret" } })).status,
    ).toBe(401);
    emulator.switches.refusePasswordChange = true;
    expect((await call(emulator, "PATCH", path, { body: { Password: "n3w-Secret" } })).status).toBe(400);

    expect((await login(emulator, "admin")).status).toBe(201);
    expect((await login(emulator, "n3w-Secret")).status).toBe(401);
  });
});
