import { config } from "../lib/config.ts";
import { logger } from "../lib/log.ts";
import { startLocalStack } from "./stack.ts";

/** `npm start`: the local stack on 127.0.0.1:8181 (VALENCE_API_PORT), data under .valence (VALENCE_DATA_DIR). */
const { VALENCE_API_PORT, VALENCE_DATA_DIR, VALENCE_EMULATOR_PORT, IRONIC_URL, VALENCE_RECONCILE_SECONDS } =
  config();
const stack = await startLocalStack({
  dataDir: VALENCE_DATA_DIR,
  apiPort: VALENCE_API_PORT,
  demo: true,
  emulatorPort: VALENCE_EMULATOR_PORT,
  ironic: IRONIC_URL ?? "start",
  reconcileSeconds: VALENCE_RECONCILE_SECONDS,
});
process.stdout.write(
  `Redfish emulator (demo-podm) on ${stack.emulator?.url}\nIronic on ${stack.ironicUrl}\nValence API listening on ${stack.apiUrl}\n`,
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
