import { afterEach, describe, expect, it, vi } from "vitest";
import { ConflictError, NotFoundError, UpstreamError, ValidationError } from "../../lib/errors.ts";
import { toErrorBody } from "../../lib/http/errors.ts";
import {
  createIronicDriver,
  deadlineIn,
  IronicAuthError,
  IronicBadResponseError,
  IronicConflictError,
  type IronicDriverOptions,
  IronicDuplicateNameError,
  IronicInvalidStateError,
  type IronicLogEvent,
  IronicMacAlreadyExistsError,
  IronicNameInvalidError,
  IronicNodeAssociatedError,
  IronicNodeLockedError,
  IronicNodeNotFoundError,
  IronicPortNotFoundError,
  IronicProvisionFailedError,
  IronicProvisionTimeoutError,
  IronicRequestError,
  IronicServerError,
  IronicUnavailableError,
  IronicVersionError,
  pollSchedule,
} from "../../lib/ironic/index.ts";
import {
  connectionRefused,
  type FakeFetch,
  fakeFetch,
  ironicFault,
  ironicNode,
  ironicRoot,
  jsonResponse,
  type RecordedRequest,
} from "../support/openstack.ts";

const URL_ = "http://ironic.test:6385";
const NODE_UUID = "1be26c0b-03f2-4d2e-ae87-c02d7f33c123";

/** Root answers 1.82; everything else goes to `handler`. */
function ironic(
  handler: (request: RecordedRequest) => Response | Promise<Response>,
  root = () => ironicRoot(),
) {
  return fakeFetch((request) => (request.url.pathname === "/" ? root() : handler(request)));
}

function driverWith(fetch: FakeFetch, options: Partial<IronicDriverOptions> = {}) {
  return createIronicDriver({
    url: URL_,
    auth: { type: "none" },
    fetch,
    retry: { baseDelayMs: 1, maxDelayMs: 4 },
    ...options,
  });
}

const apiCalls = (fetch: FakeFetch) => fetch.calls.filter((call) => call.url.pathname !== "/");

describe("Ironic driver: API version", () => {
  it("negotiates once from GET / and sends the version on every request", async () => {
    const fetch = ironic(() => jsonResponse(200, ironicNode()));
    const driver = driverWith(fetch);

    await driver.getNode("node-1");
    await driver.withRequestId("req-6f1c7d0e-8a9b-4c3d-9e2f-0a1b2c3d4e5f").getNode("node-1");

    expect(fetch.calls.filter((call) => call.url.pathname === "/")).toHaveLength(1);
    expect(apiCalls(fetch).map((call) => call.headers.get("X-OpenStack-Ironic-API-Version"))).toEqual([
      "1.82",
      "1.82",
    ]);
  });

  it("uses the server's maximum when it is below ours", async () => {
    const fetch = ironic(
      () => jsonResponse(200, ironicNode()),
      () => ironicRoot("1.50"),
    );
    await driverWith(fetch).getNode("node-1");
    expect(apiCalls(fetch)[0]?.headers.get("X-OpenStack-Ironic-API-Version")).toBe("1.50");
  });

  it("never asks for more than maxVersion", async () => {
    const fetch = ironic(() => jsonResponse(200, ironicNode()));
    const driver = driverWith(fetch, { maxVersion: "1.60" });
    expect(await driver.apiVersion()).toBe("1.60");
  });

  it("refuses an Ironic older than 1.11, where nodes are born available", async () => {
    const fetch = ironic(
      () => jsonResponse(200, ironicNode()),
      () => ironicRoot("1.10"),
    );
    const failure = driverWith(fetch).getNode("node-1");
    await expect(failure).rejects.toBeInstanceOf(IronicVersionError);
    await expect(failure).rejects.toThrow(/1\.11/);
    expect(apiCalls(fetch)).toHaveLength(0);
  });

  it("re-negotiates once from the headers of a 406", async () => {
    const fetch = ironic((request) =>
      request.headers.get("X-OpenStack-Ironic-API-Version") === "1.82"
        ? jsonResponse(
            406,
            {
              error_message: JSON.stringify({ code: 406, description: "Version 1.82 was requested but..." }),
            },
            {
              "X-OpenStack-Ironic-API-Minimum-Version": "1.1",
              "X-OpenStack-Ironic-API-Maximum-Version": "1.70",
            },
          )
        : jsonResponse(200, ironicNode()),
    );
    const driver = driverWith(fetch);

    const node = await driver.getNode("node-1");
    await driver.getNode("node-1");

    expect(node.uuid).toBe(NODE_UUID);
    expect(apiCalls(fetch).map((call) => call.headers.get("X-OpenStack-Ironic-API-Version"))).toEqual([
      "1.82",
      "1.70",
      "1.70",
    ]);
  });

  it("gives up on a 406 that offers nothing new instead of looping", async () => {
    const fetch = ironic(() =>
      jsonResponse(
        406,
        { error_message: JSON.stringify({ code: 406, description: "Version 1.82 was requested but no" }) },
        { "X-OpenStack-Ironic-API-Minimum-Version": "1.1", "X-OpenStack-Ironic-API-Maximum-Version": "1.82" },
      ),
    );
    const failure = driverWith(fetch).getNode("node-1");
    await expect(failure).rejects.toBeInstanceOf(IronicRequestError);
    await expect(failure).rejects.toThrow(/Version 1.82 was requested/);
    expect(apiCalls(fetch)).toHaveLength(1);
  });
});

describe("Ironic driver: request ids, auth headers and logs", () => {
  it("sends the caller's request id and reports Ironic's", async () => {
    const events: IronicLogEvent[] = [];
    const fetch = ironic(() =>
      jsonResponse(200, ironicNode(), { "OpenStack-Request-ID": "req-11111111-2222-3333-4444-555555555555" }),
    );
    const driver = driverWith(fetch, { log: (event) => events.push(event) });

    await driver.withRequestId("req-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee").getNode("node-1");

    expect(apiCalls(fetch)[0]?.headers.get("X-OpenStack-Request-ID")).toBe(
      "req-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        event: "request",
        status: 200,
        requestId: "req-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        ironicRequestId: "req-11111111-2222-3333-4444-555555555555",
      }),
    );
  });

  it("generates a req-<uuid> id when the caller gives none", async () => {
    const fetch = ironic(() => jsonResponse(200, ironicNode()));
    await driverWith(fetch).getNode("node-1");
    expect(apiCalls(fetch)[0]?.headers.get("X-OpenStack-Request-ID")).toMatch(/^req-[0-9a-f-]{36}$/);
  });

  it("sends HTTP basic credentials but never logs them", async () => {
    const events: IronicLogEvent[] = [];
    const fetch = ironic(() => jsonResponse(200, ironicNode()));
    const driver = driverWith(fetch, {
      auth: { type: "http_basic", username: "valence", password: "s3cret-basic" },
      log: (event) => events.push(event),
    });

    await driver.getNode("node-1");

    expect(apiCalls(fetch)[0]?.headers.get("Authorization")).toBe(
      `Basic ${Buffer.from("valence:s3cret-basic").toString("base64")}`,
    );
    expect(events.length).toBeGreaterThan(0);
    const logged = JSON.stringify(events);
    expect(logged).not.toContain("s3cret-basic");
    expect(logged).not.toContain(Buffer.from("valence:s3cret-basic").toString("base64"));
  });
});

type ErrorClass = abstract new (...args: never[]) => Error;

describe("Ironic driver: errors", () => {
  const noRetry = { retry: { maxAttempts: 1 } };
  const cases: [string, Response, ErrorClass, ErrorClass, number][] = [
    [
      "node not found",
      ironicFault(404, "Node foo could not be found."),
      IronicNodeNotFoundError,
      NotFoundError,
      // Ironic's 404 is never ours: a caller who reaches it meets a failing gateway.
      502,
    ],
    [
      "duplicate name",
      ironicFault(409, "A node with name n1 already exists."),
      IronicDuplicateNameError,
      ConflictError,
      409,
    ],
    [
      "duplicate MAC",
      ironicFault(409, "A port with MAC address 52:54:00:aa:bb:cc already exists."),
      IronicMacAlreadyExistsError,
      ConflictError,
      409,
    ],
    [
      "node locked",
      ironicFault(
        409,
        "Node n1 is locked by host localhost, please retry after the current operation is completed.",
      ),
      IronicNodeLockedError,
      ConflictError,
      409,
    ],
    [
      "invalid state (400 InvalidStateRequested)",
      ironicFault(
        400,
        'The requested action "provide" can not be performed on node "x" while it is in state "enroll".',
      ),
      IronicInvalidStateError,
      ConflictError,
      409,
    ],
    [
      "instance associated",
      ironicFault(409, "Node n1 is associated with instance 0d9f0c9e-4f5a-4b8e-9f5e-123456789abc."),
      IronicNodeAssociatedError,
      ConflictError,
      409,
    ],
    ["other conflict", ironicFault(409, "Conflict."), IronicConflictError, ConflictError, 409],
    [
      "other 4xx (our bug)",
      ironicFault(400, "Unexpected arguments: fields"),
      IronicRequestError,
      UpstreamError,
      502,
    ],
    [
      "401",
      jsonResponse(401, { error: { code: 401, message: "Incorrect username or password" } }),
      IronicAuthError,
      UpstreamError,
      502,
    ],
    ["503", ironicFault(503, "Service Unavailable"), IronicUnavailableError, UpstreamError, 503],
    ["500", ironicFault(500, "Internal Server Error"), IronicServerError, UpstreamError, 502],
    [
      "invalid name",
      ironicFault(400, "Cannot create node with invalid name 'a b'"),
      IronicNameInvalidError,
      ValidationError,
      400,
    ],
  ];

  it.each(cases)("maps %s to its typed error and status", async (_name, response, type, base, status) => {
    const fetch = ironic(() => response.clone());
    const error = await driverWith(fetch, noRetry)
      .getNode("n1")
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(type);
    expect(error).toBeInstanceOf(base);
    expect(toErrorBody(error, "req").status).toBe(status);
  });

  it("puts Ironic's faultstring, not the JSON wrapper, in the message", async () => {
    const fetch = ironic(() => ironicFault(404, "Node foo could not be found."));
    const failure = driverWith(fetch).getNode("foo");
    await expect(failure).rejects.toThrow("Ironic: Node foo could not be found.");
    await expect(failure).rejects.toMatchObject({ code: "IronicNodeNotFound", details: { status: 404 } });
  });

  it("reads an error_message that is already an object", async () => {
    const fetch = ironic(() =>
      jsonResponse(409, {
        error_message: { faultcode: "Client", faultstring: "A node with name n1 already exists." },
      }),
    );
    await expect(
      driverWith(fetch).createNode({ driver: "fake-hardware", name: "n1" }),
    ).rejects.toBeInstanceOf(IronicDuplicateNameError);
  });

  it("reports a port 404 as a port, not a node", async () => {
    const fetch = ironic(() =>
      ironicFault(404, "Port 0d9f0c9e-4f5a-4b8e-9f5e-123456789abc could not be found."),
    );
    await expect(driverWith(fetch).deletePort("0d9f0c9e-4f5a-4b8e-9f5e-123456789abc")).rejects.toBeInstanceOf(
      IronicPortNotFoundError,
    );
  });

  it("types a 404 on delete so callers can treat it as already deleted", async () => {
    const fetch = ironic(() => ironicFault(404, `Node ${NODE_UUID} could not be found.`));
    await expect(driverWith(fetch).deleteNode(NODE_UUID)).rejects.toBeInstanceOf(IronicNodeNotFoundError);
  });

  it("counts a DELETE Ironic failed after deleting the node as done, and one that left the node as failed", async () => {
    const notLocked = `Node 256ad98e-2ffd-4857-adfb-2f7a7bde64fb found not to be locked on release`;
    let exists = true;
    const fetch = ironic((request) => {
      if (request.method === "DELETE") {
        return ironicFault(400, notLocked);
      }
      return exists
        ? jsonResponse(200, ironicNode())
        : ironicFault(404, `Node ${NODE_UUID} could not be found.`);
    });
    const driver = driverWith(fetch);

    await expect(driver.deleteNode(NODE_UUID)).rejects.toThrow(/found not to be locked on release/);
    exists = false;
    await expect(driver.deleteNode(NODE_UUID)).resolves.toBeUndefined();
    expect(apiCalls(fetch).map((call) => call.method)).toEqual(["DELETE", "GET", "DELETE", "GET"]);
  });

  it("names the field of an unexpected response shape", async () => {
    const fetch = ironic(() => jsonResponse(200, ironicNode({ provision_state: 42 })));
    const failure = driverWith(fetch).getNode("node-1");
    await expect(failure).rejects.toBeInstanceOf(IronicBadResponseError);
    await expect(failure).rejects.toThrow(/provision_state: expected string, received number/);
  });

  it("scrubs the BMC password Ironic echoes back in an error", async () => {
    const fetch = ironic(() =>
      ironicFault(
        400,
        "Invalid driver_info {'redfish_address': 'https://bmc', 'redfish_password': 'hunter2-Pa55', 'x': 1}: bad",
      ),
    );
    const error = await driverWith(fetch)
      .createNode({ driver: "redfish", name: "r1", driver_info: { redfish_password: "hunter2-Pa55" } })
      .catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(IronicRequestError);
    expect(error.message).not.toContain("hunter2-Pa55");
    expect(error.message).toContain("'redfish_password': ***");
  });

  it("scrubs secrets sent by JSON patch", async () => {
    const fetch = ironic(() => ironicFault(400, "cannot use value Patch-Secret-9 for this node"));
    const error = await driverWith(fetch)
      .updateNode("n1", [{ op: "add", path: "/driver_info/redfish_password", value: "Patch-Secret-9" }])
      .catch((caught: Error) => caught);
    expect(error.message).toContain("cannot use value *** for this node");
  });
});

describe("Ironic driver: retries", () => {
  it("retries a locked node and then succeeds", async () => {
    let calls = 0;
    const fetch = ironic(() =>
      ++calls < 3
        ? ironicFault(409, "Node n1 is locked by host h1, please retry")
        : jsonResponse(200, ironicNode()),
    );
    const node = await driverWith(fetch).getNode("n1");
    expect(node.name).toBe("node-1");
    expect(apiCalls(fetch)).toHaveLength(3);
  });

  it("retries 503s and connection failures", async () => {
    let calls = 0;
    const fetch = ironic(() => {
      calls++;
      if (calls === 1) throw connectionRefused();
      if (calls === 2) return ironicFault(503, "Service Unavailable");
      return jsonResponse(201, ironicNode());
    });
    const node = await driverWith(fetch).createNode({ driver: "fake-hardware", name: "node-1" });
    expect(node.uuid).toBe(NODE_UUID);
    expect(apiCalls(fetch)).toHaveLength(3);
  });

  it("reports an unreachable Ironic as unavailable after the last attempt", async () => {
    const fetch = fakeFetch(() => {
      throw connectionRefused();
    });
    const failure = driverWith(fetch, { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } }).getNode(
      "n1",
    );
    await expect(failure).rejects.toBeInstanceOf(IronicUnavailableError);
    await expect(failure).rejects.toMatchObject({ reason: "connect", code: "IronicUnavailable" });
    expect(fetch.calls).toHaveLength(3);
  });

  it.each([
    ["a duplicate name", ironicFault(409, "A node with name n1 already exists.")],
    ["a bad request", ironicFault(400, "Invalid input")],
    ["an internal error", ironicFault(500, "boom")],
    ["an auth failure", jsonResponse(401, { error: { message: "no" } })],
  ])("does not retry %s", async (_name, response) => {
    const fetch = ironic(() => response.clone());
    await expect(driverWith(fetch).createNode({ driver: "fake-hardware", name: "n1" })).rejects.toThrow();
    expect(apiCalls(fetch)).toHaveLength(1);
  });

  it("does not repeat a write that timed out (it may have happened), but repeats a read", async () => {
    const timeout = () => {
      throw new DOMException("The operation was aborted due to timeout", "TimeoutError");
    };
    const writes = ironic(timeout);
    await expect(driverWith(writes).createNode({ driver: "fake-hardware" })).rejects.toMatchObject({
      reason: "timeout",
    });
    expect(apiCalls(writes)).toHaveLength(1);

    let reads = 0;
    const readFetch = ironic(() => (++reads === 1 ? timeout() : jsonResponse(200, ironicNode())));
    await expect(driverWith(readFetch).getNode("n1")).resolves.toMatchObject({ uuid: NODE_UUID });
    expect(apiCalls(readFetch)).toHaveLength(2);
  });

  it("backs off exponentially with full jitter, capped", async () => {
    const events: IronicLogEvent[] = [];
    const fetch = ironic(() => ironicFault(503, "busy"));
    const driver = driverWith(fetch, {
      retry: { maxAttempts: 5, baseDelayMs: 4, maxDelayMs: 20 },
      random: () => 0.99,
      log: (event) => events.push(event),
    });
    await expect(driver.getNode("n1")).rejects.toBeInstanceOf(IronicUnavailableError);
    const delays = events.flatMap((event) => (event.event === "retry" ? [event.delayMs] : []));
    // caps 4, 8, 16, 20 (max) scaled by the jitter draw
    expect(delays).toEqual([3, 7, 15, 19]);
  });

  it("never sleeps past the deadline: gives up with the last error instead", async () => {
    const fetch = ironic(() => ironicFault(409, "Node n1 is locked by host h1"));
    const driver = driverWith(fetch, {
      retry: { maxAttempts: 10, baseDelayMs: 5_000, maxDelayMs: 5_000 },
      random: () => 0.5,
    });
    const started = Date.now();
    const failure = driver.withContext({ deadline: deadlineIn(200) }).getNode("n1");
    await expect(failure).rejects.toBeInstanceOf(IronicNodeLockedError);
    expect(Date.now() - started).toBeLessThan(200);
    expect(apiCalls(fetch)).toHaveLength(1);
  });

  it("retries while the deadline allows, then stops", async () => {
    const fetch = ironic(() => ironicFault(503, "busy"));
    const driver = driverWith(fetch, {
      retry: { maxAttempts: 100, baseDelayMs: 20, maxDelayMs: 20 },
      random: () => 1,
    });
    const started = Date.now();
    await expect(driver.withContext({ deadline: deadlineIn(150) }).getNode("n1")).rejects.toBeInstanceOf(
      IronicUnavailableError,
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(250);
    expect(apiCalls(fetch).length).toBeGreaterThan(2);
    expect(apiCalls(fetch).length).toBeLessThan(100);
  });

  it("does not call Ironic at all once the deadline has passed", async () => {
    const fetch = ironic(() => jsonResponse(200, ironicNode()));
    const failure = driverWith(fetch)
      .withContext({ deadline: () => 0 })
      .getNode("n1");
    await expect(failure).rejects.toMatchObject({ reason: "deadline" });
    expect(fetch.calls).toHaveLength(0);
  });
});

describe("Ironic driver: operations", () => {
  it("validates a node name before calling Ironic", async () => {
    const fetch = ironic(() => jsonResponse(201, ironicNode()));
    await expect(
      driverWith(fetch).createNode({ driver: "fake-hardware", name: "bad name" }),
    ).rejects.toBeInstanceOf(IronicNameInvalidError);
    expect(fetch.calls).toHaveLength(0);
  });

  it("creates a node with a JSON body and parses the answer", async () => {
    const fetch = ironic((request) => jsonResponse(201, ironicNode({ ...(request.body as object) })));
    const node = await driverWith(fetch).createNode({
      driver: "redfish",
      name: "r1",
      driver_info: { redfish_address: "http://bmc" },
      resource_class: "baremetal",
    });
    const call = apiCalls(fetch)[0];
    expect(call?.method).toBe("POST");
    expect(call?.url.pathname).toBe("/v1/nodes");
    expect(call?.headers.get("Content-Type")).toBe("application/json");
    expect(node).toMatchObject({ name: "r1", driver: "redfish", resource_class: "baremetal" });
  });

  it("asks only for the requested fields and types the result", async () => {
    const fetch = ironic(() => jsonResponse(200, { uuid: NODE_UUID, provision_state: "enroll", links: [] }));
    const node = await driverWith(fetch).getNode("n1", ["uuid", "provision_state"]);
    expect(apiCalls(fetch)[0]?.url.searchParams.get("fields")).toBe("uuid,provision_state");
    expect(node).toMatchObject({ uuid: NODE_UUID, provision_state: "enroll" });
  });

  it("follows pagination markers and yields every node once", async () => {
    const all = Array.from({ length: 25 }, (_, i) =>
      ironicNode({ uuid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, name: `n${i}` }),
    );
    const fetch = ironic((request) => {
      const limit = Number(request.url.searchParams.get("limit"));
      const marker = request.url.searchParams.get("marker");
      const start = marker ? all.findIndex((node) => node.uuid === marker) + 1 : 0;
      const nodes = all.slice(start, start + limit);
      const last = nodes.at(-1);
      const more = start + limit < all.length && last;
      return jsonResponse(200, {
        nodes,
        ...(more ? { next: `${URL_}/v1/nodes/detail?limit=${limit}&marker=${last.uuid}` } : {}),
      });
    });

    const names: string[] = [];
    for await (const node of driverWith(fetch).listNodes({ limit: 10 })) names.push(node.name ?? "");

    expect(names).toEqual(all.map((node) => node.name));
    expect(apiCalls(fetch).map((call) => call.url.pathname)).toEqual(Array(3).fill("/v1/nodes/detail"));
  });

  it("refuses a page size above Ironic's maximum", async () => {
    const fetch = ironic(() => jsonResponse(200, { nodes: [] }));
    await expect(driverWith(fetch).listNodesPage({ limit: 1001 })).rejects.toBeInstanceOf(RangeError);
  });

  it("finds a port by MAC address (lower-cased)", async () => {
    const port = {
      uuid: "0d9f0c9e-4f5a-4b8e-9f5e-123456789abc",
      address: "52:54:00:aa:bb:cc",
      node_uuid: NODE_UUID,
      pxe_enabled: true,
      extra: {},
      created_at: "2026-01-01T00:00:00+00:00",
      updated_at: null,
    };
    const fetch = ironic((request) =>
      jsonResponse(200, { ports: request.url.searchParams.get("address") === port.address ? [port] : [] }),
    );
    const driver = driverWith(fetch);
    expect(await driver.getPortByAddress("52:54:00:AA:BB:CC")).toEqual(port);
    expect(await driver.getPortByAddress("52:54:00:00:00:01")).toBeUndefined();
  });

  it("sets provision state and maintenance with the documented bodies", async () => {
    const fetch = ironic(() => new Response(null, { status: 202 }));
    const driver = driverWith(fetch);
    await driver.setProvisionState(NODE_UUID, "manage");
    await driver.setMaintenance(NODE_UUID, "BMC unreachable");
    expect(apiCalls(fetch).map((call) => [call.method, call.url.pathname, call.body])).toEqual([
      ["PUT", `/v1/nodes/${NODE_UUID}/states/provision`, { target: "manage" }],
      ["PUT", `/v1/nodes/${NODE_UUID}/maintenance`, { reason: "BMC unreachable" }],
    ]);
  });
});

describe("Ironic driver: waitForProvisionState", () => {
  function sequence(...states: Record<string, unknown>[]) {
    let index = 0;
    return ironic(() => jsonResponse(200, ironicNode(states[Math.min(index++, states.length - 1)])));
  }

  it("returns the node once it rests in the target state", async () => {
    const fetch = sequence(
      { provision_state: "verifying", target_provision_state: "manageable" },
      { provision_state: "manageable", target_provision_state: null, power_state: "power off" },
    );
    const node = await driverWith(fetch).waitForProvisionState(NODE_UUID, {
      target: "manageable",
      pollMs: 1,
    });
    expect(node).toMatchObject({ provision_state: "manageable", power_state: "power off" });
  });

  it("fails when a failed manage falls back to enroll with last_error", async () => {
    const fetch = sequence(
      { provision_state: "verifying", target_provision_state: "manageable" },
      {
        provision_state: "enroll",
        target_provision_state: null,
        last_error: "Failed to get power state: Unable to connect to https://admin:pw-in-url@bmc/redfish/v1/",
      },
    );
    const error = await driverWith(fetch)
      .waitForProvisionState(NODE_UUID, { target: "manageable", pollMs: 1 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IronicProvisionFailedError);
    expect((error as IronicProvisionFailedError).node).toMatchObject({ provisionState: "enroll" });
    expect((error as Error).message).toMatch(/is enroll, not manageable: Failed to get power state/);
    expect((error as Error).message).not.toContain("pw-in-url");
  });

  it("fails on a failure state", async () => {
    const fetch = sequence({ provision_state: "clean failed", target_provision_state: "available" });
    await expect(
      driverWith(fetch).waitForProvisionState(NODE_UUID, { target: "available", pollMs: 1 }),
    ).rejects.toBeInstanceOf(IronicProvisionFailedError);
  });

  it("times out with the state it was in", async () => {
    const fetch = sequence({ provision_state: "cleaning", target_provision_state: "available" });
    const failure = driverWith(fetch).waitForProvisionState(NODE_UUID, {
      target: "available",
      pollMs: 5,
      timeoutMs: 30,
    });
    await expect(failure).rejects.toBeInstanceOf(IronicProvisionTimeoutError);
    await expect(failure).rejects.toThrow(/it is cleaning on its way to available/);
  });

  describe("on a clock", () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /**
     * Ironic's node moves to `manageable` `transitionMs` after the wait starts (on a fake clock); counts the
     * driver's GETs of the node through its log hook and when (fake time) the wait returned.
     */
    async function waitOnClock(transitionMs: number, options: { pollMs?: number; maxPollMs?: number } = {}) {
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
      const started = Date.now();
      const fetch = ironic(() =>
        jsonResponse(
          200,
          ironicNode(
            Date.now() - started >= transitionMs
              ? { provision_state: "manageable", target_provision_state: null }
              : { provision_state: "verifying", target_provision_state: "manageable" },
          ),
        ),
      );
      const events: IronicLogEvent[] = [];
      const driver = driverWith(fetch, { log: (event) => events.push(event), random: () => 0 });
      let returnedAtMs = Number.NaN;
      const waiting = driver
        .waitForProvisionState(NODE_UUID, { target: "manageable", timeoutMs: 3_600_000, ...options })
        .then((node) => {
          returnedAtMs = Date.now() - started;
          return node;
        });
      await vi.advanceTimersByTimeAsync(transitionMs + 10_000);
      const node = await waiting;
      const gets = events.filter(
        (event) =>
          event.event === "request" && event.method === "GET" && event.path === `/v1/nodes/${NODE_UUID}`,
      ).length;
      return { node, gets, returnedAtMs };
    }

    it("sees a transition of 300 ms at the 5th GET, within one short interval of its end", async () => {
      const { node, gets, returnedAtMs } = await waitOnClock(300);
      expect(node.provision_state).toBe("manageable");
      // GETs at 0, 50, 125, 238 and 407 ms of the fake clock (a fixed 1 s poll saw it at 1000 ms).
      expect(gets).toBe(5);
      expect(returnedAtMs).toBe(407);
    });

    it("makes a bounded number of GETs over a long transition", async () => {
      const { gets } = await waitOnClock(600_000);
      expect(gets).toBe(pollSchedule(600_000).length);
      expect(gets).toBeLessThanOrEqual(210);
    });

    it("keeps a first delay longer than the default cap, as callers of the fixed poll passed", async () => {
      const { gets, returnedAtMs } = await waitOnClock(4_000, { pollMs: 5_000 });
      expect(gets).toBe(2);
      expect(returnedAtMs).toBe(5_000);
    });

    it("polls at a fixed interval on request", async () => {
      const { gets, returnedAtMs } = await waitOnClock(1_000, { pollMs: 400, maxPollMs: 400 });
      expect(gets).toBe(4);
      expect(returnedAtMs).toBe(1_200);
    });
  });

  it("stops at the caller's deadline even with a longer timeout", async () => {
    const fetch = sequence({ provision_state: "cleaning", target_provision_state: "available" });
    const started = Date.now();
    await expect(
      driverWith(fetch)
        .withContext({ deadline: deadlineIn(60) })
        .waitForProvisionState(NODE_UUID, { target: "available", pollMs: 10, timeoutMs: 60_000 }),
    ).rejects.toBeInstanceOf(IronicProvisionTimeoutError);
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe("Ironic listings that page with next links", () => {
  const port = (n: number) => ({
    uuid: `port-${n}`,
    address: `52:54:00:00:00:0${n}`,
    node_uuid: NODE_UUID,
    pxe_enabled: true,
    extra: {},
    created_at: "2026-01-01T00:00:00+00:00",
    updated_at: "2026-01-01T00:00:00+00:00",
  });
  const next = (resource: string, marker: string) => `${URL_}/v1/${resource}?marker=${marker}`;

  it("lists every port, following next until a page has none, and passes the filter on each page", async () => {
    const fetch = ironic((request) => {
      const marker = request.url.searchParams.get("marker");
      if (marker === null)
        return jsonResponse(200, { ports: [port(1), port(2)], next: next("ports", "port-2") });
      if (marker === "port-2") return jsonResponse(200, { ports: [port(3)], next: next("ports", "port-3") });
      return jsonResponse(200, { ports: [] });
    });
    const ports = await driverWith(fetch).listPorts({ node_uuid: NODE_UUID, address: "52:54:00:AA:BB:CC" });
    expect(ports.map((p) => p.uuid)).toEqual(["port-1", "port-2", "port-3"]);
    const pages = apiCalls(fetch);
    expect(pages.map((call) => call.url.searchParams.get("marker"))).toEqual([null, "port-2", "port-3"]);
    for (const call of pages) {
      expect(call.url.pathname).toBe("/v1/ports/detail");
      expect(call.url.searchParams.get("node_uuid")).toBe(NODE_UUID);
      expect(call.url.searchParams.get("address")).toBe("52:54:00:aa:bb:cc");
    }
  });

  it("stops at a next link that points back to a marker already followed", async () => {
    const fetch = ironic(() =>
      jsonResponse(200, {
        conductors: [{ hostname: "c1", conductor_group: "", alive: true }],
        next: next("conductors", "c1"),
      }),
    );
    const conductors = await driverWith(fetch).listConductors();
    // The first page, then the page at marker c1 that links to c1 again: two requests, not a loop.
    expect(apiCalls(fetch)).toHaveLength(2);
    expect(conductors).toHaveLength(2);
    expect(apiCalls(fetch)[0]?.url.searchParams.get("detail")).toBe("true");
  });
});
