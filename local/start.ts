import { parseConfig } from "../lib/config.ts";
import { logger } from "../lib/log.ts";
import { startLocalStack } from "./stack.ts";

/**
 * `npm start`: the local stack on 127.0.0.1:8181 (VALENCE_API_PORT), data under .valence (VALENCE_DATA_DIR),
 * configured by this process's environment as the README's Configuration table says. It starts its own Ironic
 * unless one is configured: IRONIC_URL, IRONIC_SECRET_ARN, or OS_* settings (OS_CLOUD, OS_AUTH_URL, an endpoint
 * override) as the openstack CLI reads them.
 */
const env = process.env;
const settings = parseConfig(env);
const ironicConfigured =
  settings.IRONIC_URL !== undefined ||
  settings.IRONIC_SECRET_ARN !== undefined ||
  Object.keys(settings.openstack).some((name) => name.startsWith("OS_"));
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
