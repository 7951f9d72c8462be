import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import type { OperationView } from "../../lib/operations/model.ts";
import { secretStore } from "../../lib/runtime/secrets.ts";
import { podManagerRepository } from "../../lib/runtime/store.ts";
import { type RedfishEmulator, startRedfishEmulator } from "../../local/redfish-emulator/index.ts";
import { powers } from "../support/ironic-power.ts";
import { composeNode, expectErrorBody, startTestApi, type TestApi } from "../support/local-api.ts";
import { followOperation } from "../support/operations.ts";

const FIRST = { username: "admin", password: "First-3f9c2a-bmc-password" };
const SECOND = { username: "admin", password: "Second-7b41de-bmc-password" };
const NODES = ["resync-a", "resync-b", "resync-c"];

const basic = (credentials: { username: string; password: string }) => [
  { type: "basic", auth_items: credentials },
];

/**
 * A pod manager whose password and address change, against the real Ironic, the emulator over HTTP and dynalite:
 * the PATCH tries the new credentials first, then a `resync` operation carries them into every registered node's
 * driver_info, after which Ironic really drives the nodes with them (a power action through the emulator).
 */
describe("a pod manager's new credentials and address follow into Ironic (real Ironic, emulator, dynalite)", () => {
  let api: TestApi;
  let ironic: IronicDriver;
  let emulator: RedfishEmulator;
  let stateDir: string;
  let podmId: string;
  const ironicNodes = new Map<string, string>();

  /**
   * The pod manager changes its password or moves: the emulator starts again on `port` with `credentials` and
   * its compositions kept (its state file); its sessions end with it, as a BMC's do when its password changes.
   */
  async function restartEmulator(credentials: typeof FIRST, port: number): Promise<void> {
    await emulator?.close();
    emulator = await startRedfishEmulator({ port, ...credentials, stateFile: join(stateDir, "pod.json") });
  }

  /** Whether the emulator takes these credentials at a Redfish login (a session POST). */
  async function logsIn(credentials: typeof FIRST): Promise<number> {
    const response = await fetch(`${emulator.url}/redfish/v1/SessionService/Sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ UserName: credentials.username, Password: credentials.password }),
    });
    await response.body?.cancel();
    return response.status;
  }

  const ironicPowers = (ironicNodeUuid: string, target: "power on" | "power off") =>
    powers(api.stack.ironicUrl as string, ironic, ironicNodeUuid, target);

  async function storedCredentials() {
    const podm = await podManagerRepository().get(podmId);
    return secretStore().get(podm?.credentials_ref as string);
  }

  const resyncOf = async (response: { status: number; body: { operation: OperationView }; text: string }) => {
    expect(response.status, response.text).toBe(202);
    return followOperation(api.call, response.body.operation.id);
  };

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "valence-resync-"));
    await restartEmulator(FIRST, 0);
    api = await startTestApi({ ironic: "start" });
    ironic = createIronicDriver({ url: api.stack.ironicUrl as string, auth: { type: "none" } });
    const created = await api.call("POST", "/v1/pod_managers", {
      name: "resync-podm",
      url: emulator.url,
      verify_ca: false,
      authentication: basic(FIRST),
    });
    expect(created.status, created.text).toBe(201);
    podmId = created.body.uuid;
    for (const name of NODES) {
      await composeNode(api, podmId, name);
      const registered = await api.call("POST", `/v1/nodes/${name}/register`, {});
      expect(registered.status, registered.text).toBe(200);
      ironicNodes.set(name, registered.body.ironic_node_uuid);
    }
  });

  afterAll(async () => {
    await api?.stop();
    await emulator?.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it("refuses credentials the pod manager does not take with 400 naming its 401, and changes nothing", async () => {
    const before = await api.call("GET", `/v1/pod_managers/${podmId}`);
    const ironicBefore = await Promise.all(
      NODES.map((name) => ironic.getNode(ironicNodes.get(name) as string)),
    );

    const refused = await api.call("PATCH", `/v1/pod_managers/${podmId}`, {
      authentication: basic({ username: "admin", password: "Wrong-password" }),
    });

    const error = expectErrorBody(refused, 400);
    expect(error.code).toBe("PodManagerLoginFailed");
    expect(error.detail).toContain("401");
    expect(refused.text).not.toContain("Wrong-password");
    const after = await api.call("GET", `/v1/pod_managers/${podmId}`);
    expect({ ...after.body, status: "x", updated_at: "x" }).toEqual({
      ...before.body,
      status: "x",
      updated_at: "x",
    });
    expect(after.body.updated_at).toBe(before.body.updated_at);
    expect(await storedCredentials()).toEqual(FIRST);
    const ironicAfter = await Promise.all(
      NODES.map((name) => ironic.getNode(ironicNodes.get(name) as string)),
    );
    expect(ironicAfter.map((node) => node.updated_at)).toEqual(ironicBefore.map((node) => node.updated_at));
    expect((await api.call("GET", `/v1/pod_managers/${podmId}/operations`)).status).not.toBe(500);
  });

  it("refuses a new address that does not answer with 400, and changes nothing", async () => {
    const refused = await api.call("PATCH", `/v1/pod_managers/${podmId}`, {
      url: "http://127.0.0.1:9",
      authentication: basic(FIRST),
    });

    expect(expectErrorBody(refused, 400).code).toBe("PodManagerLoginFailed");
    expect((await api.call("GET", `/v1/pod_managers/${podmId}`)).body.url).toBe(emulator.url);
  });

  it("carries a password change into every registered node: Ironic powers them with it, the old one is refused", async () => {
    const port = Number(new URL(emulator.url).port);
    await restartEmulator(SECOND, port);
    expect(await logsIn(FIRST)).toBe(401);

    const response = await api.call("PATCH", `/v1/pod_managers/${podmId}`, { authentication: basic(SECOND) });

    expect(response.headers.get("location")).toBe(
      `${api.stack.apiUrl}/v1/operations/${response.body.operation.id}`,
    );
    expect(response.body).toMatchObject({ uuid: podmId, status: "online" });
    const ended = await resyncOf(response);
    expect(ended).toMatchObject({ kind: "resync", state: "succeeded", pod_manager_uuid: podmId });
    expect(ended.results?.map((result) => [result.name, result.state])).toEqual(
      NODES.map((name) => [name, "succeeded"]),
    );
    expect(await storedCredentials()).toEqual(SECOND);
    for (const name of NODES) {
      const uuid = ironicNodes.get(name) as string;
      expect((await ironic.getNode(uuid)).driver_info).toMatchObject({
        redfish_address: emulator.url,
        redfish_username: SECOND.username,
      });
      await ironicPowers(uuid, "power on");
    }
    expect(emulator.composedSystems().map((system) => system.powerState)).toEqual(NODES.map(() => "On"));
    expect(await logsIn(FIRST)).toBe(401);
    expect(await logsIn(SECOND)).toBe(201);
  });

  it("carries an address change into every registered node: Ironic drives them at the new address", async () => {
    const oldUrl = emulator.url;
    await restartEmulator(SECOND, 0);
    expect(emulator.url).not.toBe(oldUrl);

    const response = await api.call("PATCH", `/v1/pod_managers/${podmId}`, {
      url: emulator.url,
      authentication: basic(SECOND),
    });

    const ended = await resyncOf(response);
    expect(ended.state).toBe("succeeded");
    expect(ended.arguments?.pod_manager_urls).toEqual([oldUrl, emulator.url]);
    for (const name of NODES) {
      const uuid = ironicNodes.get(name) as string;
      expect((await ironic.getNode(uuid)).driver_info.redfish_address).toBe(emulator.url);
      await ironicPowers(uuid, "power off");
    }
    expect(emulator.composedSystems().map((system) => system.powerState)).toEqual(NODES.map(() => "Off"));
    const listed = await api.call("GET", `/v1/pod_managers/${podmId}/operations`);
    expect(listed.status).toBe(200);
    expect(listed.body.map((operation: OperationView) => operation.id)).toContain(ended.id);
  });

  it("re-applies placement the pod manager sets to every registered node; a cleared default starts nothing", async () => {
    const before = await ironic.getNode(ironicNodes.get(NODES[0] as string) as string);
    expect(before.lessee ?? null).toBeNull();

    const response = await api.call("PATCH", `/v1/pod_managers/${podmId}`, {
      lessee: "tenant-b",
      resource_class: "baremetal-gold",
    });

    const ended = await resyncOf(response);
    expect(ended.state, JSON.stringify(ended.steps)).toBe("succeeded");
    for (const name of NODES) {
      const node = await ironic.getNode(ironicNodes.get(name) as string);
      expect({ lessee: node.lessee, resource_class: node.resource_class }).toEqual({
        lessee: "tenant-b",
        resource_class: "baremetal-gold",
      });
    }
    expect(ended.steps.map((step) => step.detail)).toEqual(
      NODES.map(() => expect.stringContaining("placement lessee, resource_class")),
    );

    // Cleared, the default is gone from the pod manager, and the nodes keep what Ironic has: no re-sync.
    const cleared = await api.call("PATCH", `/v1/pod_managers/${podmId}`, { lessee: null });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body.lessee).toBeNull();
  });
});
