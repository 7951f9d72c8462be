import { describe, expect, it } from "vitest";
import { resolveCloudConfig } from "../../lib/ironic/clouds.ts";
import {
  createIronicDriver,
  type IronicAuth,
  IronicAuthError,
  type IronicLogEvent,
} from "../../lib/ironic/index.ts";
import { createApplicationCredential, revokeToken } from "../../local/keystone.ts";
import { useKeystoneIronic } from "../support/openstack.ts";

const stack = useKeystoneIronic();

function passwordAuth(password = stack.serviceUser.password): IronicAuth {
  return {
    type: "keystone",
    authUrl: stack.keystone.url,
    credentials: { method: "password", username: "ironic", password, projectName: "service" },
  };
}

/** A fetch that remembers the tokens sent to Ironic and counts Keystone authentications. */
function watchingFetch() {
  const ironicTokens: string[] = [];
  let authentications = 0;
  const watched: typeof fetch = (input, init) => {
    const url = new URL(String(input));
    if (url.pathname.endsWith("/auth/tokens")) authentications += 1;
    const token = new Headers(init?.headers).get("X-Auth-Token");
    if (url.port === String(stack.ironic.port) && token) ironicTokens.push(token);
    return fetch(input, init);
  };
  return { fetch: watched, ironicTokens, authentications: () => authentications };
}

describe("Ironic driver against a real Ironic behind a real Keystone", () => {
  it("authenticates with a password and finds Ironic in the catalog", async () => {
    const events: IronicLogEvent[] = [];
    const ironic = createIronicDriver({ auth: passwordAuth(), log: (event) => events.push(event) });

    const node = await ironic.createNode({ driver: "fake-hardware", name: `ks-password-${process.pid}` });

    expect(node.provision_state).toBe("enroll");
    expect(events).toContainEqual(expect.objectContaining({ event: "token", endpoint: stack.ironic.url }));
    expect(JSON.stringify(events)).not.toContain(stack.serviceUser.password);
  });

  it("authenticates with an application credential", async () => {
    const credential = await createApplicationCredential(
      stack.keystone.url,
      { username: "ironic", password: stack.serviceUser.password, projectName: "service" },
      `valence-${process.pid}`,
    );
    const ironic = createIronicDriver({
      auth: {
        type: "keystone",
        authUrl: stack.keystone.url.replace(/\/v3$/, ""),
        credentials: { method: "application_credential", id: credential.id, secret: credential.secret },
      },
    });

    const node = await ironic.createNode({ driver: "fake-hardware", name: `ks-appcred-${process.pid}` });

    expect(node.provision_state).toBe("enroll");
    expect((await ironic.findNodes({ fields: ["uuid"] })).map((n) => n.uuid)).toContain(node.uuid);
  });

  it("reuses its token, and refreshes it once when Keystone has revoked it", async () => {
    const watch = watchingFetch();
    const ironic = createIronicDriver({ auth: passwordAuth(), fetch: watch.fetch });

    await ironic.findNodes({ fields: ["uuid"] });
    await ironic.findNodes({ fields: ["uuid"] });
    expect(watch.authentications()).toBe(1);
    const firstToken = watch.ironicTokens[0] ?? "";

    await revokeToken(stack.keystone, firstToken);
    await ironic.findNodes({ fields: ["uuid"] });

    expect(watch.authentications()).toBe(2);
    const used = watch.ironicTokens;
    expect(used.slice(0, 3)).toEqual([firstToken, firstToken, firstToken]);
    expect(used[3]).not.toBe(firstToken);
    expect(used).toHaveLength(4);
  });

  it("reports a wrong password as an auth error", async () => {
    const ironic = createIronicDriver({ auth: passwordAuth("Not-the-password") });
    const failure = ironic.findNodes();
    await expect(failure).rejects.toBeInstanceOf(IronicAuthError);
    await expect(failure).rejects.not.toThrow(/Not-the-password/);
  });

  it("connects from OS_* variables like the openstack CLI", async () => {
    const resolved = resolveCloudConfig({
      env: {
        OS_AUTH_URL: stack.keystone.url,
        OS_USERNAME: "ironic",
        OS_PASSWORD: stack.serviceUser.password,
        OS_PROJECT_NAME: "service",
        OS_USER_DOMAIN_NAME: "Default",
        OS_PROJECT_DOMAIN_ID: "default",
        OS_REGION_NAME: "RegionOne",
      },
      readFile: () => undefined,
    });
    const ironic = createIronicDriver({ url: resolved.url, auth: resolved.auth });
    expect(await ironic.apiVersion()).toBe("1.82");
    expect(Array.isArray(await ironic.findNodes({ fields: ["uuid"] }))).toBe(true);
  });
});
