import { describe, expect, it } from "vitest";
import {
  createIronicDriver,
  type IronicDriver,
  IronicDuplicateNameError,
  IronicInvalidStateError,
  type IronicLogEvent,
  IronicMacAlreadyExistsError,
  IronicNodeNotFoundError,
  IronicPortNotFoundError,
  IronicProvisionFailedError,
  pollSchedule,
} from "../../lib/ironic/index.ts";
import { MAX_IRONIC_TEXT } from "../../lib/ironic/schemas.ts";
import { freePort } from "../../local/ironic.ts";
import { useIronic } from "../support/openstack.ts";

const env = useIronic({ auth: "noauth" });

function driver(options: { log?: (event: IronicLogEvent) => void; fetch?: typeof fetch } = {}): IronicDriver {
  return createIronicDriver({ url: env.url, auth: { type: "none" }, timeoutMs: 10_000, ...options });
}

let counter = 0;
/** Unique per test run, valid for Ironic. */
function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

function uniqueMac(): string {
  counter += 1;
  const hex = (counter + process.pid * 256).toString(16).padStart(6, "0").slice(-6);
  return `52:54:00:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
}

describe("Ironic driver against a real Ironic (noauth)", () => {
  it("negotiates the newest version Ironic and the driver share", async () => {
    expect(await driver().apiVersion()).toBe("1.82");
  });

  it("creates a fake-hardware node, born in enroll", async () => {
    const name = uniqueName("fake");
    const node = await driver().createNode({
      driver: "fake-hardware",
      name,
      properties: { cpus: 4, memory_mb: 8192, local_gb: 100, cpu_arch: "x86_64" },
      resource_class: "baremetal",
      extra: { valence_node: "n-1" },
    });

    expect(node).toMatchObject({
      name,
      driver: "fake-hardware",
      provision_state: "enroll",
      resource_class: "baremetal",
      network_interface: "noop",
      extra: { valence_node: "n-1" },
    });
    expect((await driver().getNode(name)).uuid).toBe(node.uuid);
  });

  it("creates a redfish node whose password Ironic masks on read", async () => {
    const name = uniqueName("redfish");
    const node = await driver().createNode({
      driver: "redfish",
      name,
      driver_info: {
        redfish_address: "http://127.0.0.1:1",
        redfish_system_id: "/redfish/v1/Systems/1",
        redfish_username: "admin",
        redfish_password: "Rf-secret-1",
      },
    });

    expect(node.provision_state).toBe("enroll");
    expect(node.driver_info).toMatchObject({ redfish_username: "admin", redfish_password: "******" });
  });

  it("reads selected fields only", async () => {
    const name = uniqueName("fields");
    await driver().createNode({ driver: "fake-hardware", name });
    const node = await driver().getNode(name, ["uuid", "provision_state"]);
    expect(node.provision_state).toBe("enroll");
    expect(node).not.toHaveProperty("driver_info");
  });

  it("refuses a duplicate name with a typed conflict", async () => {
    const name = uniqueName("dup");
    await driver().createNode({ driver: "fake-hardware", name });
    await expect(driver().createNode({ driver: "fake-hardware", name })).rejects.toBeInstanceOf(
      IronicDuplicateNameError,
    );
  });

  it("creates, finds, lists and deletes ports; refuses a duplicate MAC", async () => {
    const ironic = driver();
    const node = await ironic.createNode({ driver: "fake-hardware", name: uniqueName("ports") });
    const other = await ironic.createNode({ driver: "fake-hardware", name: uniqueName("ports") });
    const mac = uniqueMac();

    const port = await ironic.createPort({
      node_uuid: node.uuid,
      address: mac.toUpperCase(),
      pxe_enabled: true,
    });
    expect(port).toMatchObject({ node_uuid: node.uuid, address: mac, pxe_enabled: true });
    expect((await ironic.getPortByAddress(mac))?.uuid).toBe(port.uuid);
    expect((await ironic.listPorts({ node_uuid: node.uuid })).map((p) => p.uuid)).toEqual([port.uuid]);

    await expect(
      ironic.createPort({ node_uuid: other.uuid, address: mac, pxe_enabled: true }),
    ).rejects.toBeInstanceOf(IronicMacAlreadyExistsError);

    await ironic.deletePort(port.uuid);
    expect(await ironic.getPortByAddress(mac)).toBeUndefined();
    await expect(ironic.deletePort(port.uuid)).rejects.toBeInstanceOf(IronicPortNotFoundError);
  });

  it("manages and provides a fake-hardware node to available", async () => {
    const ironic = driver();
    const node = await ironic.createNode({ driver: "fake-hardware", name: uniqueName("provide") });

    await ironic.setProvisionState(node.uuid, "manage");
    const managed = await ironic.waitForProvisionState(node.uuid, {
      target: "manageable",
      pollMs: 200,
      timeoutMs: 30_000,
    });
    expect(managed.provision_state).toBe("manageable");

    await ironic.setProvisionState(node.uuid, "provide");
    const available = await ironic.waitForProvisionState(node.uuid, {
      target: "available",
      pollMs: 200,
      timeoutMs: 30_000,
    });
    expect(available).toMatchObject({ provision_state: "available", last_error: null });
  });

  it("sees manage and provide within the first GETs of the default backoff, and no GET after", async () => {
    // Every GET of the node, with the state Ironic answered, as the driver's fetch saw it.
    const seen: string[] = [];
    const recording: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = new URL(input instanceof Request ? input.url : String(input));
      if ((init?.method ?? "GET") === "GET" && /^\/v1\/nodes\/[^/]+$/.test(url.pathname)) {
        const node = (await response.clone().json()) as {
          provision_state: string;
          target_provision_state: unknown;
        };
        seen.push(`${node.provision_state}${node.target_provision_state === null ? "" : " →"}`);
      }
      return response;
    };
    const events: IronicLogEvent[] = [];
    const ironic = driver({ fetch: recording, log: (event) => events.push(event) });
    const node = await ironic.createNode({ driver: "fake-hardware", name: uniqueName("backoff") });
    const nodeGets = () =>
      events.filter(
        (event) => event.event === "request" && event.method === "GET" && event.path.includes(node.uuid),
      );

    await ironic.setProvisionState(node.uuid, "manage");
    await ironic.waitForProvisionState(node.uuid, { target: "manageable", timeoutMs: 30_000 });
    const manageGets = nodeGets().length;
    const manageSeen = seen.splice(0);
    await ironic.setProvisionState(node.uuid, "provide");
    await ironic.waitForProvisionState(node.uuid, { target: "available", timeoutMs: 30_000 });
    const provideGets = nodeGets().length - manageGets;

    // The last GET of each wait is the first to see the node at rest in its target.
    expect(manageSeen.at(-1)).toBe("manageable");
    expect(manageSeen.slice(0, -1).every((state) => state !== "manageable")).toBe(true);
    expect(seen.at(-1)).toBe("available");
    expect(seen.slice(0, -1).every((state) => state !== "available")).toBe(true);
    // A fake-hardware transition is over in well under 2 s: bounded by the backoff's first 9 GETs.
    expect(manageGets).toBeGreaterThanOrEqual(1);
    expect(manageGets).toBeLessThanOrEqual(pollSchedule(2_000).length);
    expect(provideGets).toBeGreaterThanOrEqual(1);
    expect(provideGets).toBeLessThanOrEqual(pollSchedule(2_000).length);
    expect(manageSeen).toHaveLength(manageGets);
  });

  it("reports a manage that fails verification (unreachable BMC) with last_error and no password", async () => {
    const ironic = driver();
    const closedPort = await freePort();
    const node = await ironic.createNode({
      driver: "redfish",
      name: uniqueName("unreachable"),
      driver_info: {
        redfish_address: `http://127.0.0.1:${closedPort}`,
        redfish_system_id: "/redfish/v1/Systems/1",
        redfish_username: "admin",
        redfish_password: "Unreachable-pw-7",
      },
    });

    await ironic.setProvisionState(node.uuid, "manage");
    const error = await ironic
      .waitForProvisionState(node.uuid, { target: "manageable", pollMs: 200, timeoutMs: 30_000 })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(IronicProvisionFailedError);
    const failed = error as IronicProvisionFailedError;
    expect(failed.node.provisionState).toBe("enroll");
    expect(failed.node.lastError).toMatch(/connect/i);
    expect(failed.message).not.toContain("Unreachable-pw-7");
  });

  it("refuses a transition the state machine does not allow as an invalid-state conflict", async () => {
    const node = await driver().createNode({ driver: "fake-hardware", name: uniqueName("enrolled") });
    const failure = driver().setProvisionState(node.uuid, "provide");
    await expect(failure).rejects.toBeInstanceOf(IronicInvalidStateError);
    await expect(failure).rejects.toMatchObject({ code: "IronicInvalidState" });
  });

  it("updates a node with JSON patch and sets and clears maintenance", async () => {
    const ironic = driver();
    const node = await ironic.createNode({ driver: "fake-hardware", name: uniqueName("patch") });

    const patched = await ironic.updateNode(node.uuid, [
      { op: "add", path: "/extra/valence_id", value: "v-42" },
      { op: "replace", path: "/properties", value: { cpus: 8 } },
    ]);
    expect(patched.extra).toEqual({ valence_id: "v-42" });
    expect(patched.properties).toEqual({ cpus: 8 });

    await ironic.setMaintenance(node.uuid, "pod manager unreachable");
    expect(await ironic.getNode(node.uuid, ["maintenance", "maintenance_reason"])).toMatchObject({
      maintenance: true,
      maintenance_reason: "pod manager unreachable",
    });
    await ironic.clearMaintenance(node.uuid);
    expect((await ironic.getNode(node.uuid)).maintenance).toBe(false);
  });

  it("reads a node whose maintenance reason is 64 KB of password-like keys: shortened and scrubbed", async () => {
    const ironic = driver();
    const node = await ironic.createNode({ driver: "fake-hardware", name: uniqueName("redos") });
    // The worst shape for a backtracking key=value pattern, with a real credential at its start.
    const reason = `bmc_password=Planted-1c9e ${"password".repeat(8 * 1024)}`;
    await ironic.setMaintenance(node.uuid, reason);

    const read = await ironic.getNode(node.uuid);
    const listed = (
      await ironic.findNodes({ fields: ["uuid", "maintenance_reason"], maintenance: true })
    ).find((item) => item.uuid === node.uuid);

    for (const shown of [read.maintenance_reason, listed?.maintenance_reason]) {
      expect(shown?.startsWith("bmc_password=*** passwordpassword")).toBe(true);
      expect(shown?.length).toBe(MAX_IRONIC_TEXT + 1);
    }
    await ironic.deleteNode(node.uuid);
  });

  it("deletes a node; a second delete is a typed not-found", async () => {
    const ironic = driver();
    const node = await ironic.createNode({ driver: "fake-hardware", name: uniqueName("delete") });

    await ironic.deleteNode(node.uuid);

    await expect(ironic.getNode(node.uuid)).rejects.toBeInstanceOf(IronicNodeNotFoundError);
    await expect(ironic.deleteNode(node.uuid)).rejects.toBeInstanceOf(IronicNodeNotFoundError);
  });

  it("pages through 25 nodes 10 at a time, each exactly once", async () => {
    const resourceClass = uniqueName("page");
    const created = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        driver().createNode({
          driver: "fake-hardware",
          name: `${resourceClass}-${i}`,
          resource_class: resourceClass,
        }),
      ),
    );
    const events: IronicLogEvent[] = [];
    const ironic = driver({ log: (event) => events.push(event) });

    const listed = await ironic.findNodes({ resource_class: resourceClass, limit: 10 });
    const fields = await ironic.findNodes({
      resource_class: resourceClass,
      limit: 10,
      fields: ["uuid", "name"],
    });

    expect(listed.map((node) => node.uuid).sort()).toEqual(created.map((node) => node.uuid).sort());
    expect(new Set(listed.map((node) => node.uuid)).size).toBe(25);
    expect(fields.map((node) => node.uuid).sort()).toEqual(created.map((node) => node.uuid).sort());
    const pages = events.filter((event) => event.event === "request" && event.path.startsWith("/v1/nodes"));
    expect(pages).toHaveLength(6);
  });

  it("recovers from a real 406 by re-negotiating from Ironic's headers", async () => {
    // Stale discovery (as after an Ironic downgrade): GET / claimed 1.99, which the real API then refuses.
    const staleRoot: typeof fetch = async (input, init) => {
      if (new URL(String(input)).pathname === "/") {
        const version = { id: "v1", min_version: "1.1", version: "1.99" };
        return Response.json({ default_version: version, versions: [version] });
      }
      return fetch(input, init);
    };
    const events: IronicLogEvent[] = [];
    const ironic = createIronicDriver({
      url: env.url,
      auth: { type: "none" },
      maxVersion: "1.99",
      fetch: staleRoot,
      log: (event) => events.push(event),
    });

    const node = await ironic.createNode({ driver: "fake-hardware", name: uniqueName("v406") });

    expect(node.provision_state).toBe("enroll");
    const sent = events.flatMap((event) =>
      event.event === "request" ? [[event.apiVersion, event.status]] : [],
    );
    expect(sent).toEqual([
      ["1.99", 406],
      ["1.82", 201],
    ]);
  });

  it("passes our request id to Ironic and reports Ironic's", async () => {
    const events: IronicLogEvent[] = [];
    const requestId = `req-${crypto.randomUUID()}`;
    await driver({ log: (event) => events.push(event) })
      .withRequestId(requestId)
      .createNode({ driver: "fake-hardware", name: uniqueName("reqid") });

    const request = events.find((event) => event.event === "request");
    expect(request).toMatchObject({ requestId, status: 201 });
    expect(request?.event === "request" && request.ironicRequestId).toMatch(/^req-[0-9a-f-]{36}$/);
  });
});
