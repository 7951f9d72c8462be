import { execFile, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/**
 * Ironic's own inspection code (Debian's python3-ironic and sushy) run on one Redfish system over HTTP, as a child
 * process: what Ironic's `redfish` inspect interface would write into the node's properties.
 */

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./ironic-inspect-figures.py", import.meta.url));

const probe = spawnSync(PYTHON, ["-c", "import ironic.drivers.modules.redfish.inspect"], {
  encoding: "utf8",
});
/** Why Ironic's code cannot run here, or undefined when it can. */
export const ironicCodeMissing =
  probe.status === 0
    ? undefined
    : `${PYTHON} cannot import Ironic's redfish inspect (${probe.stderr.trim()})`;
if (ironicCodeMissing)
  console.warn(`skipping the comparisons with Ironic's inspection code: ${ironicCodeMissing}`);

/** A figure Ironic would not write (it keeps the node's value then) is null. */
export interface IronicFigures {
  cpus: number | null;
  memory_mb: number | null;
  local_gb: number;
  cpu_arch: string | null;
}

export async function ironicInspectionFigures(
  url: string,
  username: string,
  password: string,
  systemPath: string,
): Promise<IronicFigures> {
  const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, url, username, password, systemPath], {
    timeout: 60_000,
  });
  return JSON.parse(stdout) as IronicFigures;
}

/** Valence's figures as Ironic would leave them after its inspection. */
export function afterIronicInspection(
  registered: { cpus: number; memory_mb: number; local_gb: number; cpu_arch: string },
  ironic: IronicFigures,
) {
  return {
    cpus: ironic.cpus ?? registered.cpus,
    memory_mb: ironic.memory_mb ?? registered.memory_mb,
    local_gb: ironic.local_gb,
    cpu_arch: ironic.cpu_arch ?? registered.cpu_arch,
  };
}
