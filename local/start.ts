import { parseConfig } from "../lib/config.ts";
import { logger } from "../lib/log.ts";
import { startLocalStack } from "./stack.ts";

/**
 * `npm start`: the local stack on 127.0.0.1:8181 (VALENCE_API_PORT), data under .valence (VALENCE_DATA_DIR),
 * configured by this process's environment as the README's Configuration table says. It starts its own Ironic
 * unless one is configured: IRONIC_URL, IRONIC_SECRET_ARN, or OS_CLOUD, OS_AUTH_URL or an endpoint override
 * (with the other OS_* settings) as the openstack CLI reads them.
 */
const env = process.env;
const settings = parseConfig(env);
/** What says where Ironic is: anything else alone (`OS_REGION_NAME`, say) does not. */
const IRONIC_LOCATORS = ["OS_CLOUD", "OS_AUTH_URL", "OS_BAREMETAL_ENDPOINT_OVERRIDE", "OS_ENDPOINT_OVERRIDE"];
const ironicConfigured =
  settings.IRONIC_URL !== undefined ||
  settings.IRONIC_SECRET_ARN !== undefined ||
  IRONIC_LOCATORS.some((name) => settings.openstack[name] !== undefined);
const stack = await startLocalStack({
  env,
  dataDir: settings.VALENCE_DATA_DIR,
  apiPort: settings.VALENCE_API_PORT,
  demo: true,
  emulatorPort: settings.VALENCE_EMULATOR_PORT,
  ...(ironicConfigured ? {} : { ironic: "start" }),
  reconcileSeconds: settings.VALENCE_RECONCILE_SECONDS,
});
const ironic =
  stack.config.IRONIC_URL ?? `as configured (${stack.config.openstack.OS_CLOUD ? "OS_CLOUD" : "OS_*"})`;
process.stdout.write(
  `Redfish emulator (demo-podm) on ${stack.emulator?.url}\nIronic on ${ironic}\nValence API listening on ${stack.apiUrl}\n`,
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    logger.info("stopping local stack", { signal });
    await stack.stop();
    process.exit(0);
  });
}
