import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createPodManagerClient,
  type PodManagerConnection,
  PodManagerOriginRefusedError,
  PodManagerResponseTooLargeError,
} from "../../lib/redfish/index.ts";

// ---------------------------------------------------------------------------------------------------------------
// A pod manager behind `deps.fetch` that records every URL asked for, host included. No network.
// ---------------------------------------------------------------------------------------------------------------

const POD = "https://podm.test:8443";
const OTHER = "other.test:9";
const PASSWORD = "Origin-Secret-Pw";
const TOKEN = "token-origin-31337";

/** Links whose path starts with `//`: resolved against the pod manager, they name another host. */
const OFF_ORIGIN = [
  ["a dot segment", `/..//${OTHER}/redfish/v1/Systems/S1`],
  ["an internal host with a // path", `http://bmc.internal//${OTHER}/redfish/v1/Systems/S1`],
];

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body === null ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

function fakePodManager(
  resources: Record<string, unknown>,
  options: { sessionLocation?: string; allocateLocation?: string } = {},
) {
  const urls: string[] = [];
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? "GET";
    urls.push(`${method} ${url.href}`);
    if (url.origin !== POD) throw new Error(`the fake pod manager was asked for ${url.href}`);
    if (method === "POST" && url.pathname === "/redfish/v1/SessionService/Sessions") {
      return json({ Id: "7" }, 201, {
        "X-Auth-Token": TOKEN,
        Location: options.sessionLocation ?? "/redfish/v1/SessionService/Sessions/7",
      });
    }
    if (method === "POST" && url.pathname === "/redfish/v1/Nodes/Actions/Allocate") {
      return json(null, 201, { Location: options.allocateLocation ?? "/redfish/v1/Nodes/1" });
    }
    if (method === "DELETE") return json(null, 204);
    if (method === "GET" && url.pathname in resources) return json(resources[url.pathname]);
    return json({ error: { message: `${url.pathname} not found` } }, 404);
  };
  return { fetch: fetchImpl as typeof fetch, urls };
}

function connect(fake: { fetch: typeof fetch }, overrides: Partial<PodManagerConnection> = {}) {
  return createPodManagerClient(
    { url: POD, username: "valence", password: PASSWORD, driver: "redfish", verifyCa: true, ...overrides },
    { fetch: fake.fetch },
  );
}

/** Log lines at WARN and above (the logger writes those to stderr). */
function captureWarnings(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  });
  return lines;
}

const ROOT = {
  "/redfish/v1/": { RedfishVersion: "1.15.0", Systems: { "@odata.id": "/redfish/v1/Systems" } },
  "/redfish/v1/Systems": { Members: [] },
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe("RedfishTransport: every request goes to the pod manager's origin", () => {
  it.each(OFF_ORIGIN)(
    "refuses a collection member behind %s, and logs the refused origin",
    async (_, link) => {
      const warnings = captureWarnings();
      const fake = fakePodManager({ ...ROOT, "/redfish/v1/Systems": { Members: [{ "@odata.id": link }] } });
      const client = connect(fake);

      const error = await client.listComposedSystems().catch((e: unknown) => e);
      await client.close();

      expect(error).toBeInstanceOf(PodManagerOriginRefusedError);
      expect(error).toMatchObject({ code: "PodManagerOriginRefused" });
      expect((error as Error).message).toContain(`https://${OTHER}`);
      expect(fake.urls.filter((url) => !url.includes("//podm.test:8443/"))).toEqual([]);
      const warning = warnings.find((line) => line.includes("off the pod manager's origin"));
      expect(JSON.parse(warning ?? "{}")).toMatchObject({
        level: "WARN",
        refused_origin: `https://${OTHER}`,
      });
    },
  );

  it("reads a scheme-relative //other-host link as a path on the pod manager", async () => {
    const fake = fakePodManager({
      ...ROOT,
      "/redfish/v1/Systems": { Members: [{ "@odata.id": `//${OTHER}/redfish/v1/Systems/S1` }] },
      "/redfish/v1/Systems/S1": { Id: "S1", SystemType: "Composed" },
    });
    const client = connect(fake);

    await expect(client.listComposedSystems()).resolves.toMatchObject([
      { index: "S1", resourceUri: "/redfish/v1/Systems/S1" },
    ]);
    await client.close();
    expect(fake.urls.some((url) => url.includes(OTHER))).toBe(false);
  });

  it.each(OFF_ORIGIN)("never sends the session token to a session Location behind %s", async (_, link) => {
    const warnings = captureWarnings();
    const location = link.replace("/redfish/v1/Systems/S1", "/redfish/v1/SessionService/Sessions/7");
    const fake = fakePodManager(ROOT, { sessionLocation: location });
    const client = connect(fake);

    await client.probe();
    await client.close(); // Best effort: the logout is refused, not sent elsewhere.

    expect(fake.urls).not.toContainEqual(expect.stringContaining(OTHER));
    expect(fake.urls.filter((url) => url.startsWith("DELETE"))).toEqual([]);
    expect(warnings.join("")).toContain(`"refused_origin":"https://${OTHER}"`);
  });

  it.each(OFF_ORIGIN)("fails an RSD composition whose Allocate Location is behind %s", async (_, link) => {
    captureWarnings();
    const fake = fakePodManager(
      { "/redfish/v1/": { RedfishVersion: "1.0.0", Nodes: { "@odata.id": "/redfish/v1/Nodes" } } },
      { allocateLocation: link.replace("/redfish/v1/Systems/S1", "/redfish/v1/Nodes/1") },
    );
    const client = connect(fake, { driver: "rsd" });

    const error = await client.compose({ name: "n1", totalCores: 1 }).catch((e: unknown) => e);
    await client.close();

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain("not the pod manager's origin");
    expect(fake.urls.filter((url) => url.includes(OTHER))).toEqual([]);
    expect(fake.urls.filter((url) => !url.includes("//podm.test:8443/"))).toEqual([]);
  });
});

describe("RedfishTransport: response size", () => {
  const big = (bytes: number) => ({ ...ROOT["/redfish/v1/"], Padding: "x".repeat(bytes) });

  it("refuses an answer larger than the cap, and stops reading there", async () => {
    let pulled = 0;
    const chunk = new Uint8Array(1024).fill(32);
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(chunk);
      },
    });
    const fetchImpl = (async () =>
      new Response(endless, {
        status: 200,
        headers: { "Content-Type": "application/json" },
      })) as typeof fetch;
    const client = createPodManagerClient(
      {
        url: POD,
        username: "u",
        password: "p",
        driver: "redfish",
        verifyCa: true,
        maxResponseBytes: 64 * 1024,
      },
      { fetch: fetchImpl },
    );

    const error = await client.probe().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PodManagerResponseTooLargeError);
    expect(error).toMatchObject({ code: "PodManagerResponseTooLarge" });
    expect((error as Error).message).toContain("more than 65536 bytes");
    expect(pulled).toBeLessThan(80); // the stream never ends: reading stopped at the cap
  });

  it("refuses a declared Content-Length above the cap without reading the body", async () => {
    const fake = fakePodManager({ "/redfish/v1/": big(10) });
    const declared = (async (input: string | URL | Request, init?: RequestInit) => {
      const response = await fake.fetch(input, init);
      return new Response(response.body, {
        status: response.status,
        headers: { "Content-Type": "application/json", "Content-Length": String(5 * 1024 * 1024) },
      });
    }) as typeof fetch;
    const client = createPodManagerClient(
      { url: POD, username: "u", password: "p", driver: "redfish", verifyCa: true },
      { fetch: declared },
    );

    await expect(client.probe()).rejects.toBeInstanceOf(PodManagerResponseTooLargeError);
  });

  it("reads an answer up to the default cap", async () => {
    const fake = fakePodManager({
      ...ROOT,
      "/redfish/v1/": big(3 * 1024 * 1024),
      "/redfish/v1/Systems": { Members: [] },
    });
    const client = connect(fake);
    await expect(client.probe()).resolves.toMatchObject({ redfishVersion: "1.15.0" });
    await client.close();
  });
});
