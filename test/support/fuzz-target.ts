import { readFile } from "node:fs/promises";
import type { Node } from "../../lib/nodes/model.ts";
import { freePort } from "../../local/ironic.ts";
import type { FuzzTarget } from "./api-fuzz.ts";
import type { NodeBody, ReliabilityStack } from "./reliability-stack.ts";

const PODM_NAME = "reliability-podm";

/**
 * The fuzzer's view of a reliability stack: two fixture nodes (one `valence`, one registered in Ironic) whose
 * ids the generators use, and a `restore` that puts them and the pod manager back after a case that
 * succeeded and changed them.
 */
export async function fuzzTargetOf(
  stack: ReliabilityStack,
  credentials: { username: string; password: string },
): Promise<FuzzTarget> {
  const valence = await stack.compose("fz-valence");
  const ironic = await stack.compose("fz-ironic");
  const registered = await stack.call("POST", `/v1/nodes/${ironic.uuid}/register`);
  if (registered.status !== 200) throw new Error(`cannot register the fixture: ${registered.text}`);
  const podmUrl = stack.proxies.podm.url;

  const restore = async () => {
    const podms = (await stack.call<Array<{ uuid: string }>>("GET", "/v1/pod_managers")).body;
    for (const podm of podms) {
      if (podm.uuid !== stack.podmId) await stack.call("DELETE", `/v1/pod_managers/${podm.uuid}`);
    }
    // Driver, TLS check and credentials cannot all be read back (the password is masked): set them all.
    await stack.call("PATCH", `/v1/pod_managers/${stack.podmId}`, {
      name: PODM_NAME,
      url: podmUrl,
      driver: "redfish",
      verify_ca: false,
      authentication: [{ type: "basic", auth_items: credentials }],
    });
    // New credentials start a re-sync of the registered fixture's driver_info: it ends before the next case.
    await stack.stack.operations.settled();
    const node = async (uuid: string) => (await stack.call<Node>("GET", `/v1/nodes/${uuid}`)).body;
    if ((await node(valence.uuid)).managed_by === "ironic") {
      await stack.call("POST", `/v1/nodes/${valence.uuid}/unregister`, { force: true });
    }
    if ((await node(ironic.uuid)).managed_by === "valence") {
      await stack.call("POST", `/v1/nodes/${ironic.uuid}/register`);
    }
  };

  return {
    apiUrl: stack.apiUrl,
    proxies: stack.proxies,
    fixtures: {
      podmId: stack.podmId,
      podmUrl,
      closedUrl: `http://127.0.0.1:${await freePort()}`,
      valenceNode: {
        uuid: valence.uuid,
        name: valence.name,
        index: valence.index,
        macs: (valence as NodeBody).hardware.nics.map((nic) => nic.mac),
      },
      ironicNode: { uuid: ironic.uuid, name: ironic.name },
    },
    scan: stack.scan,
    secrets: async () => {
      try {
        return JSON.parse(await readFile(stack.secretsFile, "utf8")) as Record<string, unknown>;
      } catch {
        return {};
      }
    },
    restore,
    async settled() {
      for (const uuid of [valence.uuid, ironic.uuid]) {
        const listed = await stack.call<Array<{ id: string; state: string }>>(
          "GET",
          `/v1/nodes/${uuid}/operations`,
        );
        // A case may have deleted the node: then it runs nothing.
        if (listed.status !== 200) continue;
        for (const operation of listed.body) {
          if (!["succeeded", "failed", "cancelled"].includes(operation.state))
            await stack.call("POST", `/v1/operations/${operation.id}/cancel`);
        }
      }
      await stack.stack.operations.settled();
    },
  };
}
