import { logger } from "../log.ts";
import type { ComposedSystem } from "../redfish/index.ts";

/** Says what the pod manager listed that Valence skipped (an interface without a MAC Ironic can take). */
export function warnSkipped(podmId: string, system: Pick<ComposedSystem, "index" | "warnings">): void {
  if (!system.warnings?.length) return;
  logger.warn("skipped what the pod manager lists but Ironic cannot use", {
    podm_id: podmId,
    node_index: system.index,
    skipped: system.warnings,
  });
}
