import { logger } from "../lib/log.ts";
import { createPodManagerClient } from "../lib/redfish/index.ts";
import {
  compositionService,
  nodeService,
  podManagerAddressPolicy,
  podManagerRepository,
  podManagerService,
} from "../lib/runtime.ts";

export const DEMO_PODM = "demo-podm";
export const DEMO_NODES = ["test-node", "test-node-2"] as const;

/**
 * The local stack's demo: the emulator registered as pod manager `demo-podm`, with two composed systems managed
 * as `test-node` and `test-node-2`, so the spec's `valence node-register test-node` works on a fresh machine.
 * The emulator keeps its pool in memory and numbers compositions in order, so composing again after a restart
 * gives the same systems the stored nodes point at.
 */
export async function seedDemo(emulator: { url: string; username: string; password: string }): Promise<void> {
  const auth = [
    { type: "basic" as const, auth_items: { username: emulator.username, password: emulator.password } },
  ];
  const existing = (await podManagerRepository().list()).find((podm) => podm.name === DEMO_PODM);
  const podm = existing
    ? existing.url === emulator.url
      ? existing
      : await podManagerService().update(existing.uuid, { url: emulator.url, authentication: auth })
    : await podManagerService().create({
        name: DEMO_PODM,
        url: emulator.url,
        driver: "redfish",
        verify_ca: false,
        authentication: auth,
      });

  const client = createPodManagerClient({
    url: emulator.url,
    username: emulator.username,
    password: emulator.password,
    driver: "redfish",
    verifyCa: false,
    addressPolicy: podManagerAddressPolicy(),
  });
  try {
    for (const name of DEMO_NODES) {
      // Constrained composition: the emulator takes the first free compute block, the same one every start.
      const system = await client.compose({ name, totalCores: 1 });
      const known = await nodeService()
        .find(name)
        .catch(() => undefined);
      if (known) {
        if (known.index !== system.index) {
          logger.warn("demo node points at another system than the emulator composed", {
            name,
            stored: known.index,
            composed: system.index,
          });
        }
        continue;
      }
      await compositionService().manage({ podm_id: podm.uuid, node_index: system.index, name }, "local-demo");
    }
  } finally {
    await client.close();
  }
}
