import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectErrorBody, startTestApi, type TestApi } from "../support/local-api.ts";

interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** A Redfish-looking host on loopback that keeps every request it receives, credentials included. */
async function recordingHost(): Promise<{ url: string; requests: Recorded[]; server: Server }> {
  const requests: Recorded[] = [];
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const path = incoming.url ?? "/";
      requests.push({
        method: incoming.method ?? "",
        path,
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { "content-type": "application/json", ...headers });
        response.end(JSON.stringify(body));
      };
      if (incoming.method === "POST" && path === "/redfish/v1/SessionService/Sessions") {
        json(201, {}, { "x-auth-token": "token-1", location: "/redfish/v1/SessionService/Sessions/1" });
      } else if (incoming.method === "DELETE") {
        response.writeHead(204).end();
      } else if (path === "/redfish/v1" || path === "/redfish/v1/") {
        json(200, { RedfishVersion: "1.8.0", Systems: { "@odata.id": "/redfish/v1/Systems" } });
      } else if (path === "/redfish/v1/Systems") {
        json(200, { Members: [], "Members@odata.count": 0 });
      } else {
        json(404, {});
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, server };
}

/** Every way a password can travel to a Redfish service: a session login body or a Basic header. */
function credentialsSent(requests: Recorded[]): string[] {
  return requests.flatMap((request) => {
    const sent: string[] = [];
    if (request.body.includes("Password"))
      sent.push((JSON.parse(request.body) as { Password: string }).Password);
    const authorization = request.headers.authorization;
    if (authorization?.startsWith("Basic ")) {
      const decoded = Buffer.from(authorization.slice(6), "base64").toString("utf8");
      sent.push(decoded.slice(decoded.indexOf(":") + 1));
    }
    return sent;
  });
}

describe("changing a pod manager's url or driver", () => {
  const STORED = { username: "admin", password: "Stored-7c1e5a90-bmc-password" };
  const FRESH = { username: "operator", password: "Fresh-02b94d1f-given-again" };
  let api: TestApi;
  let oldHost: Awaited<ReturnType<typeof recordingHost>>;
  let newHost: Awaited<ReturnType<typeof recordingHost>>;
  let podmId: string;

  beforeAll(async () => {
    [api, oldHost, newHost] = await Promise.all([startTestApi(), recordingHost(), recordingHost()]);
    const created = await api.call("POST", "/v1/pod_managers", {
      name: "url-change-podm",
      url: oldHost.url,
      verify_ca: false,
      authentication: [{ type: "basic", auth_items: STORED }],
    });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe("online");
    podmId = created.body.uuid;
  });

  afterAll(async () => {
    await api.stop();
    for (const host of [oldHost, newHost]) host.server.close();
  });

  it("refuses a new url without credentials, sends nothing to the new host and leaves the record", async () => {
    const before = await api.call("GET", `/v1/pod_managers/${podmId}`);

    const refused = await api.call("PATCH", `/v1/pod_managers/${podmId}`, { url: newHost.url });

    const error = expectErrorBody(refused, 400);
    expect(error.code).toBe("ValidationError");
    expect(error.detail).toContain("body.authentication");
    expect(newHost.requests).toEqual([]);
    const after = await api.call("GET", `/v1/pod_managers/${podmId}`);
    expect(after.body).toEqual(before.body);
    expect(after.body).toMatchObject({ url: oldHost.url, driver: "redfish" });
    expect(newHost.requests).toEqual([]);
  });

  it("refuses a new driver without credentials", async () => {
    const refused = await api.call("PATCH", `/v1/pod_managers/${podmId}`, { driver: "rsd", name: "renamed" });

    expect(expectErrorBody(refused, 400).detail).toContain("body.authentication");
    const after = await api.call("GET", `/v1/pod_managers/${podmId}`);
    expect(after.body).toMatchObject({ name: "url-change-podm", driver: "redfish" });
  });

  it("sends the new host only the credentials given with the new url", async () => {
    oldHost.requests.length = 0;

    const moved = await api.call("PATCH", `/v1/pod_managers/${podmId}`, {
      url: newHost.url,
      authentication: [{ type: "basic", auth_items: FRESH }],
    });

    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ url: newHost.url, status: "online" });
    const sent = credentialsSent(newHost.requests);
    expect(sent.length).toBeGreaterThan(0);
    expect(new Set(sent)).toEqual(new Set([FRESH.password]));
    const everything = JSON.stringify(newHost.requests);
    expect(everything).not.toContain(STORED.password);
    expect(everything).not.toContain(Buffer.from(`${STORED.username}:${STORED.password}`).toString("base64"));
    expect(oldHost.requests).toEqual([]);
  });
});
