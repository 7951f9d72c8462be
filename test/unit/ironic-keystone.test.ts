import { describe, expect, it } from "vitest";
import {
  createIronicDriver,
  IronicAuthError,
  type IronicDriverOptions,
  IronicEndpointError,
  IronicUnavailableError,
  type KeystoneAuth,
  type KeystoneCatalog,
  selectEndpoint,
  tokensUrl,
} from "../../lib/ironic/index.ts";
import {
  connectionRefused,
  type FakeFetch,
  fakeFetch,
  ironicNode,
  ironicRoot,
  jsonResponse,
  type RecordedRequest,
} from "../support/openstack.ts";

const KEYSTONE = "http://keystone.test:5000";
const HOUR = 3_600_000;

const catalog: KeystoneCatalog = [
  { type: "identity", endpoints: [{ interface: "public", url: `${KEYSTONE}/v3/`, region_id: "RegionOne" }] },
  {
    type: "baremetal",
    endpoints: [
      { interface: "public", url: "http://ironic-public.test:6385", region_id: "RegionOne" },
      { interface: "internal", url: "http://ironic-internal-1.test:6385", region_id: "RegionOne" },
      { interface: "internal", url: "http://ironic-internal-2.test:6385/v1/", region_id: "RegionTwo" },
    ],
  },
];

const passwordAuth: KeystoneAuth = {
  type: "keystone",
  authUrl: `${KEYSTONE}/v3`,
  credentials: { method: "password", username: "valence", password: "ks-Pa55word", projectName: "service" },
};

interface Scenario {
  now: number;
  tokensIssued: number;
  /** Tokens Ironic accepts. */
  valid: Set<string>;
  tokenLifetimeMs: number;
  keystoneStatus?: number;
}

/** Keystone issuing `tok-N` tokens, and an Ironic accepting the valid ones. */
function cloud(scenario: Scenario): FakeFetch {
  return fakeFetch((request: RecordedRequest) => {
    if (request.url.host === "keystone.test:5000") {
      if (scenario.keystoneStatus) {
        return jsonResponse(scenario.keystoneStatus, {
          error: { code: 401, message: "The request you have made requires authentication." },
        });
      }
      const token = `tok-${++scenario.tokensIssued}`;
      scenario.valid.add(token);
      const expires = new Date(scenario.now + scenario.tokenLifetimeMs).toISOString();
      return jsonResponse(201, { token: { expires_at: expires, catalog } }, { "X-Subject-Token": token });
    }
    if (request.url.pathname === "/") return ironicRoot();
    if (!scenario.valid.has(request.headers.get("X-Auth-Token") ?? "")) {
      return jsonResponse(401, {
        error: {
          code: 401,
          title: "Unauthorized",
          message: "The request you have made requires authentication.",
        },
      });
    }
    return jsonResponse(200, ironicNode());
  });
}

function scenario(overrides: Partial<Scenario> = {}): Scenario {
  return {
    now: Date.parse("2026-06-01T12:00:00Z"),
    tokensIssued: 0,
    valid: new Set(),
    tokenLifetimeMs: HOUR,
    ...overrides,
  };
}

function driverFor(fetch: FakeFetch, state: Scenario, options: Partial<IronicDriverOptions> = {}) {
  return createIronicDriver({
    auth: passwordAuth,
    fetch,
    now: () => state.now,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    ...options,
  });
}

const tokenRequests = (fetch: FakeFetch) =>
  fetch.calls.filter((call) => call.url.pathname === "/v3/auth/tokens");
const ironicRequests = (fetch: FakeFetch) =>
  fetch.calls.filter((call) => call.url.pathname.startsWith("/v1/"));

describe("Ironic driver with Keystone", () => {
  it("authenticates with a password, scoped to the project, and uses the catalog's public endpoint", async () => {
    const state = scenario();
    const fetch = cloud(state);

    await driverFor(fetch, state).getNode("n1");

    expect(tokenRequests(fetch)[0]?.body).toEqual({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: "valence", password: "ks-Pa55word", domain: { id: "default" } } },
        },
        scope: { project: { name: "service", domain: { id: "default" } } },
      },
    });
    const call = ironicRequests(fetch)[0];
    expect(call?.url.origin).toBe("http://ironic-public.test:6385");
    expect(call?.headers.get("X-Auth-Token")).toBe("tok-1");
    expect(call?.headers.get("X-OpenStack-Ironic-API-Version")).toBe("1.82");
  });

  it("authenticates with an application credential", async () => {
    const state = scenario();
    const fetch = cloud(state);
    const auth: KeystoneAuth = {
      type: "keystone",
      authUrl: KEYSTONE,
      credentials: { method: "application_credential", id: "ac-id", secret: "ac-secret" },
    };

    await driverFor(fetch, state, { auth }).getNode("n1");

    expect(tokenRequests(fetch)[0]?.url.href).toBe(`${KEYSTONE}/v3/auth/tokens`);
    expect(tokenRequests(fetch)[0]?.body).toEqual({
      auth: {
        identity: {
          methods: ["application_credential"],
          application_credential: { id: "ac-id", secret: "ac-secret" },
        },
      },
    });
  });

  it("caches the token across calls and request-id views", async () => {
    const state = scenario();
    const fetch = cloud(state);
    const driver = driverFor(fetch, state);

    await driver.getNode("n1");
    state.now += 30 * 60_000;
    await driver.withRequestId("req-00000000-0000-4000-8000-000000000001").getNode("n1");

    expect(tokenRequests(fetch)).toHaveLength(1);
    expect(ironicRequests(fetch)).toHaveLength(2);
  });

  it("re-authenticates within a minute of expiry", async () => {
    const state = scenario();
    const fetch = cloud(state);
    const driver = driverFor(fetch, state);

    await driver.getNode("n1");
    state.now += HOUR - 59_000;
    await driver.getNode("n1");

    expect(tokenRequests(fetch)).toHaveLength(2);
    expect(ironicRequests(fetch)[1]?.headers.get("X-Auth-Token")).toBe("tok-2");
  });

  it("shares one authentication between concurrent calls", async () => {
    const state = scenario();
    const fetch = cloud(state);
    const driver = driverFor(fetch, state);

    await Promise.all([driver.getNode("a"), driver.getNode("b"), driver.getNode("c")]);

    expect(tokenRequests(fetch)).toHaveLength(1);
  });

  it("refreshes a token Ironic refuses (revoked) once, then succeeds", async () => {
    const state = scenario();
    const fetch = cloud(state);
    const driver = driverFor(fetch, state);
    await driver.getNode("n1");

    state.valid.clear();
    const node = await driver.getNode("n1");

    expect(node.name).toBe("node-1");
    expect(tokenRequests(fetch)).toHaveLength(2);
    expect(ironicRequests(fetch).map((call) => call.headers.get("X-Auth-Token"))).toEqual([
      "tok-1",
      "tok-1",
      "tok-2",
    ]);
  });

  it("refreshes only once: a second 401 is an auth error", async () => {
    const state = scenario();
    const fetch = fakeFetch((request) => {
      if (request.url.host === "keystone.test:5000") {
        return jsonResponse(
          201,
          { token: { expires_at: new Date(state.now + HOUR).toISOString(), catalog } },
          {
            "X-Subject-Token": `tok-${++state.tokensIssued}`,
          },
        );
      }
      if (request.url.pathname === "/") return ironicRoot();
      return jsonResponse(401, {
        error: { code: 401, message: "The request you have made requires authentication." },
      });
    });

    await expect(driverFor(fetch, state).getNode("n1")).rejects.toBeInstanceOf(IronicAuthError);
    expect(tokenRequests(fetch)).toHaveLength(2);
    expect(ironicRequests(fetch)).toHaveLength(2);
  });

  it("reports refused credentials as an auth error without the password", async () => {
    const state = scenario({ keystoneStatus: 401 });
    const fetch = cloud(state);
    const error = await driverFor(fetch, state)
      .getNode("n1")
      .catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(IronicAuthError);
    expect(error.message).toMatch(/Keystone refused the credentials \(401\)/);
    expect(error.message).not.toContain("ks-Pa55word");
    expect(ironicRequests(fetch)).toHaveLength(0);
  });

  it("retries an unreachable Keystone like an unreachable Ironic", async () => {
    const state = scenario();
    let down = 2;
    const inner = cloud(state);
    const fetch = fakeFetch((request) => {
      if (request.url.host === "keystone.test:5000" && down-- > 0) throw connectionRefused();
      return inner(request.url, { method: request.method, headers: request.headers });
    });
    await expect(driverFor(fetch, state).getNode("n1")).resolves.toMatchObject({ name: "node-1" });

    const failing = fakeFetch(() => {
      throw connectionRefused();
    });
    await expect(
      driverFor(failing, state, { retry: { maxAttempts: 2 } }).getNode("n1"),
    ).rejects.toBeInstanceOf(IronicUnavailableError);
  });

  it("picks the endpoint by interface and region", async () => {
    const state = scenario();
    const fetch = cloud(state);
    const auth: KeystoneAuth = { ...passwordAuth, interface: "internal", region: "RegionTwo" };

    await driverFor(fetch, state, { auth }).getNode("n1");

    // The catalog's `/v1/` suffix is dropped: paths are added by the driver.
    expect(ironicRequests(fetch)[0]?.url.href).toBe("http://ironic-internal-2.test:6385/v1/nodes/n1");
    expect(fetch.calls.find((call) => call.url.pathname === "/")?.url.host).toBe(
      "ironic-internal-2.test:6385",
    );
  });

  it("prefers an explicit URL over the catalog", async () => {
    const state = scenario();
    const fetch = cloud(state);

    await driverFor(fetch, state, { url: "http://override.test:6385" }).getNode("n1");

    expect(ironicRequests(fetch)[0]?.url.host).toBe("override.test:6385");
    expect(ironicRequests(fetch)[0]?.headers.get("X-Auth-Token")).toBe("tok-1");
  });

  it("fails clearly when the catalog has no matching endpoint", async () => {
    const state = scenario();
    const fetch = cloud(state);
    const auth: KeystoneAuth = { ...passwordAuth, interface: "admin" };
    const failure = driverFor(fetch, state, { auth }).getNode("n1");
    await expect(failure).rejects.toBeInstanceOf(IronicEndpointError);
    await expect(failure).rejects.toThrow(
      /no baremetal endpoint in the Keystone catalog for interface admin/,
    );
  });
});

describe("selectEndpoint", () => {
  it("matches type, interface and region", () => {
    expect(selectEndpoint(catalog, { serviceType: "baremetal", interface: "public" })).toBe(
      "http://ironic-public.test:6385",
    );
    expect(
      selectEndpoint(catalog, { serviceType: "baremetal", interface: "internal", region: "RegionOne" }),
    ).toBe("http://ironic-internal-1.test:6385");
    expect(
      selectEndpoint(catalog, { serviceType: "baremetal", interface: "public", region: "RegionTwo" }),
    ).toBeUndefined();
    expect(selectEndpoint(catalog, { serviceType: "compute", interface: "public" })).toBeUndefined();
  });
});

describe("tokensUrl", () => {
  it.each([KEYSTONE, `${KEYSTONE}/`, `${KEYSTONE}/v3`, `${KEYSTONE}/v3/`])("accepts %s", (authUrl) => {
    expect(tokensUrl(authUrl)).toBe(`${KEYSTONE}/v3/auth/tokens`);
  });
});
