import { randomUUID } from "node:crypto";
import type { LookupAddress } from "node:dns";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addressPolicy } from "../../lib/net/address-policy.ts";
import {
  createPodManagerClient,
  PodManagerAddressRefusedError,
  type PodManagerConnection,
  PodManagerOriginRefusedError,
} from "../../lib/redfish/index.ts";
import { LOCAL_ADDRESS_POLICY } from "../support/fixtures.ts";
import { startTestApi, type TestApi } from "../support/local-api.ts";

/**
 * Two real listeners on loopback: a pod manager whose links lead to a second host, and that second host, which
 * must never see a connection — not a request, not a TCP handshake — whatever the pod manager answers.
 */

const PASSWORD = "Origin-Bmc-Pw-4411";
const TOKEN = "origin-session-token-90210";

interface Listener {
  server: Server;
  origin: string;
  hostPort: string;
  connections: number;
  requests: string[];
}

async function listen(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<Listener> {
  const server = createServer(handler);
  const listener: Listener = { server, origin: "", hostPort: "", connections: 0, requests: [] };
  server.on("connection", () => {
    listener.connections += 1;
  });
  server.on("request", (request: IncomingMessage) => {
    listener.requests.push(`${request.method} ${request.url} ${request.headers.authorization ?? ""}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  listener.hostPort = `127.0.0.1:${port}`;
  listener.origin = `http://${listener.hostPort}`;
  return listener;
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { "Content-Type": "application/json", ...headers });
  response.end(body === undefined ? undefined : JSON.stringify(body));
}

describe("pod-manager links that lead to another host", () => {
  let other: Listener;
  let podm: Listener;
  /** How the pod manager writes its links to the other host: set per test. */
  let offOrigin: (path: string) => string;

  beforeAll(async () => {
    other = await listen((_request, response) => sendJson(response, 200, { stolen: true }));
    podm = await listen((request, response) => {
      const path = new URL(request.url ?? "/", "http://podm").pathname;
      if (request.method === "POST" && path === "/redfish/v1/SessionService/Sessions") {
        request.resume();
        return sendJson(
          response,
          201,
          { Id: "1" },
          {
            "X-Auth-Token": TOKEN,
            Location: offOrigin("/redfish/v1/SessionService/Sessions/1"),
          },
        );
      }
      if (request.method === "POST" && path === "/redfish/v1/Nodes/Actions/Allocate") {
        request.resume();
        return sendJson(response, 201, undefined, { Location: offOrigin("/redfish/v1/Nodes/1") });
      }
      if (request.method === "GET" && (path === "/redfish/v1" || path === "/redfish/v1/")) {
        return sendJson(response, 200, {
          RedfishVersion: "1.15.0",
          Systems: { "@odata.id": "/redfish/v1/Systems" },
          Nodes: { "@odata.id": "/redfish/v1/Nodes" },
        });
      }
      if (request.method === "GET" && (path === "/redfish/v1/Systems" || path === "/redfish/v1/Nodes")) {
        return sendJson(response, 200, { Members: [{ "@odata.id": offOrigin(`${path}/S1`) }] });
      }
      return sendJson(response, 404, { error: { message: `${path} not found` } });
    });
  });
  afterAll(async () => {
    for (const listener of [podm, other]) {
      listener?.server.closeAllConnections();
      await new Promise((resolve) => listener?.server.close(resolve));
    }
  });

  const connection = (driver: PodManagerConnection["driver"] = "redfish"): PodManagerConnection => ({
    url: podm.origin,
    username: "admin",
    password: PASSWORD,
    driver,
    verifyCa: true,
    addressPolicy: LOCAL_ADDRESS_POLICY,
  });

  const spellings: Array<[string, (path: string) => string]> = [
    ["a dot segment (/..//host)", (path) => `/..//${other.hostPort}${path}`],
    ["an internal host with a //host path", (path) => `http://bmc.internal//${other.hostPort}${path}`],
  ];

  describe.each(spellings)("written as %s", (_, spelling) => {
    beforeAll(() => {
      offOrigin = spelling;
    });

    it("a collection member: the listing fails with PodManagerOriginRefused", async () => {
      const client = createPodManagerClient(connection());
      const error = await client.listComposedSystems().catch((e: unknown) => e);
      await client.close();

      expect(error).toBeInstanceOf(PodManagerOriginRefusedError);
      expect((error as Error).message).toContain(`leads to ${other.origin}`);
      expect(other.connections).toBe(0);
    });

    it("a session Location: the logout is not sent, least of all with the token", async () => {
      const before = podm.requests.length;
      const client = createPodManagerClient(connection());
      await client.probe();
      await client.close();

      expect(podm.requests.slice(before).filter((line) => line.startsWith("DELETE"))).toEqual([]);
      expect(other.connections).toBe(0);
    });

    it("an RSD Allocate Location: the composition fails, naming the refusal", async () => {
      const client = createPodManagerClient(connection("rsd"));
      const error = await client.compose({ name: "n1", totalCores: 1 }).catch((e: unknown) => e);
      await client.close();

      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain("not the pod manager's origin");
      expect(other.connections).toBe(0);
    });
  });

  describe("through the API of the local stack, with the stored credentials", () => {
    let api: TestApi;
    beforeAll(async () => {
      offOrigin = (path) => `/..//${other.hostPort}${path}`;
      api = await startTestApi();
    });
    afterAll(() => api?.stop());

    it("adds, shows and composes on the pod manager without ever reaching the other host", async () => {
      const created = await api.call("POST", "/v1/pod_managers", {
        name: `origin-${randomUUID().slice(0, 8)}`,
        url: podm.origin,
        driver: "rsd",
        verify_ca: false,
        authentication: [{ type: "basic", auth_items: { username: "admin", password: PASSWORD } }],
      });
      expect(created.status).toBe(201);
      expect(created.body.status).toBe("online");

      const shown = await api.call("GET", `/v1/pod_managers/${created.body.uuid}`);
      expect(shown.status).toBe(200);
      const composed = await api.call("POST", "/v1/nodes", {
        name: `origin-node-${randomUUID().slice(0, 8)}`,
        podm_id: created.body.uuid,
        properties: { processor: { total_cores: 1 } },
      });
      expect(composed.status).toBeGreaterThanOrEqual(400);
      expect(composed.text).toContain("not the pod manager's origin");

      expect(other.connections).toBe(0);
      expect(other.requests).toEqual([]);
      expect(api.logs.join("")).toContain(`"refused_origin":"${other.origin}"`);
    });

    it.each([
      "https://169.254.169.254/latest",
      "http://[fd00:ec2::254]",
      "https://[fe80::1]:8443",
      "https://0.0.0.0:8443",
      "http://[::ffff:169.254.169.254]",
    ])("refuses to add %s with a 400 naming the rule, storing nothing", async (url) => {
      const name = `refused-${randomUUID().slice(0, 8)}`;
      const refused = await api.call("POST", "/v1/pod_managers", {
        name,
        url,
        authentication: [{ type: "basic", auth_items: { username: "admin", password: PASSWORD } }],
      });

      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: "PodManagerUrlRefused" });
      expect(refused.body.detail).toMatch(/metadata|link-local|unspecified/);
      const listed = await api.call("GET", "/v1/pod_managers");
      expect(listed.body.map((item: { name: string }) => item.name)).not.toContain(name);
    });

    it("refuses to move a pod manager to a refused URL, and keeps the old one", async () => {
      const created = await api.call("POST", "/v1/pod_managers", {
        name: `move-${randomUUID().slice(0, 8)}`,
        url: `${podm.origin}/moved`,
        authentication: [{ type: "basic", auth_items: { username: "admin", password: PASSWORD } }],
      });
      expect(created.status).toBe(201);

      const moved = await api.call("PATCH", `/v1/pod_managers/${created.body.uuid}`, {
        url: "https://169.254.169.254",
        authentication: [{ type: "basic", auth_items: { username: "admin", password: PASSWORD } }],
      });

      expect(moved.status).toBe(400);
      expect(moved.body).toMatchObject({ code: "PodManagerUrlRefused" });
      const shown = await api.call("GET", `/v1/pod_managers/${created.body.uuid}`);
      expect(shown.body.url).toBe(`${podm.origin}/moved`);
    });

    it("refuses a 450 KB URL with a 400, not a 500", async () => {
      const refused = await api.call("POST", "/v1/pod_managers", {
        name: `long-${randomUUID().slice(0, 8)}`,
        url: `https://podm.example.net/${"a".repeat(450 * 1024)}`,
        authentication: [{ type: "basic", auth_items: { username: "admin", password: PASSWORD } }],
      });

      expect(refused.status).toBe(400);
      expect(refused.body.detail).toContain("body.url");
    });
  });
});

describe("the address policy at connect time, against a real listener", () => {
  let bmc: Listener;
  beforeAll(async () => {
    // Connection: close, so each request opens a connection and runs the lookup again.
    bmc = await listen((_request, response) => {
      response.setHeader("Connection", "close");
      sendJson(response, 200, { RedfishVersion: "1.15.0", Systems: { "@odata.id": "/redfish/v1/Systems" } });
    });
  });
  afterAll(async () => {
    bmc?.server.closeAllConnections();
    await new Promise((resolve) => bmc?.server.close(resolve));
  });

  it("refuses a name that rebinds to a refused address between two requests", async () => {
    const port = Number(bmc.hostPort.split(":")[1]);
    let answer = "127.0.0.1";
    const asked: string[] = [];
    const resolve = async (hostname: string): Promise<LookupAddress[]> => {
      asked.push(hostname);
      return [{ address: answer, family: 4 }];
    };
    const policy = addressPolicy({ allowHttp: true, allowLoopback: true, allowedCidrs: ["127.0.0.1/32"] });
    const client = createPodManagerClient(
      {
        url: `http://rebinding.test:${port}`,
        username: "admin",
        password: PASSWORD,
        driver: "redfish",
        verifyCa: true,
        addressPolicy: policy,
      },
      { resolve },
    );

    const first = await client.probe().catch((e: unknown) => e);
    const connections = bmc.connections;
    answer = "127.0.0.2";
    const second = await client.probe().catch((e: unknown) => e);
    await client.close();

    expect(first).toMatchObject({ redfishVersion: "1.15.0" });
    expect(connections).toBeGreaterThan(0);
    expect(bmc.connections).toBe(connections);
    expect(second).toBeInstanceOf(PodManagerAddressRefusedError);
    expect((second as Error).message).toContain("127.0.0.2 is outside the allowed networks (127.0.0.1/32)");
    expect(asked.every((name) => name === "rebinding.test")).toBe(true);
  });
});
