import { parseArgs } from "node:util";
import { type EmulatorMode, gpuInventory, startRedfishEmulator } from "./index.ts";

/**
 * `npx tsx local/redfish-emulator/main.ts --port 8000 --mode both [--host 127.0.0.1] [--username admin]
 * [--password admin] [--state-file pod.json] [--gpu-blocks]`: a pod manager for the local stack, until Ctrl-C; with
 * `--state-file`, what it composed outlives a restart; with `--gpu-blocks`, two GPU offload blocks
 * (`OffloadBlock1`: 4 × A100, `OffloadBlock2`: 2 × A100) to compose with a compute block.
 */
const MODES: readonly EmulatorMode[] = ["dmtf", "rsd", "both"];

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8000" },
    mode: { type: "string", default: "both" },
    username: { type: "string", default: "admin" },
    password: { type: "string", default: "admin" },
    "state-file": { type: "string" },
    "gpu-blocks": { type: "boolean", default: false },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port must be a port number, got ${values.port}`);
  process.exit(2);
}
const mode = values.mode as EmulatorMode;
if (!MODES.includes(mode)) {
  console.error(`--mode must be one of ${MODES.join(", ")}, got ${values.mode}`);
  process.exit(2);
}

const emulator = await startRedfishEmulator({
  host: values.host,
  port,
  mode,
  username: values.username,
  password: values.password,
  ...(values["state-file"] ? { stateFile: values["state-file"] } : {}),
  ...(values["gpu-blocks"] ? { inventory: gpuInventory() } : {}),
});
console.log(`Redfish pod manager emulator (${mode}) listening on ${emulator.url} as user ${values.username}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
