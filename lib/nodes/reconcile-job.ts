import { logger } from "../log.ts";
import { publishFigures } from "../metrics.ts";
import type { ReconcileContext, Reconciler, ReconcileSummary } from "./reconciler.ts";

/** One reconcile pass with its report: a structured log line, and the same figures as CloudWatch metrics. */
export async function reconcileAndReport(
  reconciler: Reconciler,
  context: ReconcileContext,
): Promise<ReconcileSummary> {
  const summary = await reconciler.run(context);
  logger.info("reconcile pass", { summary });
  const { partial, ...figures } = summary;
  publishFigures({ ...figures, reconcile_partial: partial ? 1 : 0 });
  return summary;
}
