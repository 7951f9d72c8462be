import type { Config } from "../lib/config.ts";
import { logger } from "../lib/log.ts";
import { createPodManagerClient } from "../lib/redfish/index.ts";
import {
  compositionServiceFor,
  nodeServiceFor,
  podManagerAddressPolicyFor,
  podManagerRepositoryFor,
  podManagerServiceFor,
} from "../lib/runtime.ts";
import type { RedfishEmulator } from "./redfish-emulator/index.ts";

export const DEMO_PODM = "demo-podm";
export const DEMO_NODES = ["test-node", "test-node-2"] as const;

/**
 * The local stack's demo: the emulator registered as pod manager `demo-podm`, with two composed systems managed
 * as `test-node` and `test-node-2`, so the spec's `valence node-register test-node` works on a fresh machine.
 * The emulator keeps its pool in the data directory, so after a restart the stored nodes' systems are still
 * there and nothing is composed again; a pool that was lost is composed again in the same order, which gives
 * the same systems (the emulator numbers compositions in order).
 */
export async function seedDemo(
  config: Config,
  emulator: Pick<RedfishEmulator, "url" | "composedSystems">,
  credentials: { username: string; password: string },
): Promise<void> {
  const auth = [
    {
      type: "basic" as const,
      auth_items: { username: credentials.username, password: credentials.password },
    },
  ];
  const podManagers = podManagerServiceFor(config);
  const existing = (await podManagerRepositoryFor(config).list()).find((podm) => podm.name === DEMO_PODM);
  const podm = existing
    ? existing.url === emulator.url
      ? existing
      : (await podManagers.update(existing.uuid, { url: emulator.url, authentication: auth })).podManager
    : await podManagers.create({
        name: DEMO_PODM,
        url: emulator.url,
        driver: "redfish",
        verify_ca: false,
        authentication: auth,
      });

  const client = createPodManagerClient({
    url: emulator.url,
    username: credentials.username,
    password: credentials.password,
    driver: "redfish",
    verifyCa: false,
    addressPolicy: podManagerAddressPolicyFor(config),
  });
  try {
    for (const name of DEMO_NODES) {
      const known = await nodeServiceFor(config)
        .find(name)
        .catch(() => undefined);
      const composed = new Set(emulator.composedSystems().map((system) => system.systemId));
      if (known && composed.has(known.index)) continue;
      // Constrained composition: the emulator takes the first free compute block, the same one every start.
      const system = await client.compose({ name, totalCores: 1 });
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
      await compositionServiceFor(config).manage(
        { podm_id: podm.uuid, node_index: system.index, name },
        "local-demo",
      );
    }
  } finally {
    await client.close();
  }
}
