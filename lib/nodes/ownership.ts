/**
 * Which Valence deployment an Ironic node belongs to. Several deployments (staging and production, two regions,
 * a local stack started again with a fresh data directory) may share one Ironic; each marks the Ironic nodes it
 * creates or adopts with its own identity, kept in its table, and never touches another's.
 */

/** The `extra` key that names the Valence node an Ironic node stands for. */
export const NODE_MARK = "valence_node_uuid";
/** The `extra` key that names the deployment that created or adopted the Ironic node. */
export const DEPLOYMENT_MARK = "valence_deployment";

/** This deployment's stable identity: created once, then the same for every function and every process. */
export interface DeploymentIdentity {
  id(): Promise<string>;
  /** The identity if it exists, never creating it (a dry run writes nothing). @default `id()` */
  peek?(): Promise<string | undefined>;
}

/**
 * - `ours`: marked with this deployment's identity.
 * - `foreign`: marked with another deployment's identity: never adopted, updated or deleted.
 * - `unmarked`: no deployment mark (made by hand, or by a Valence from before the mark).
 */
export type Ownership = "ours" | "foreign" | "unmarked";

export function ownershipOf(extra: Record<string, unknown> | undefined, deploymentId: string): Ownership {
  const mark = extra?.[DEPLOYMENT_MARK];
  if (typeof mark !== "string" || mark === "") return "unmarked";
  return mark === deploymentId ? "ours" : "foreign";
}

/** The Valence node an Ironic node names, if any. */
export function namedNodeOf(extra: Record<string, unknown> | undefined): string | undefined {
  const uuid = extra?.[NODE_MARK];
  return typeof uuid === "string" ? uuid : undefined;
}

/** Ironic uses a node that is deployed or has an instance: only an operator may remove it. */
export function inUse(node: { provision_state: string; instance_uuid?: string | null | undefined }): boolean {
  return node.provision_state === "active" || Boolean(node.instance_uuid);
}

/**
 * What the reconciler does with the Ironic node a register left behind when it died (the node's record still
 * has its stale `registering` intent, and the Ironic node names that record):
 * - `finish`: Ironic has the node with every port, or uses it: the register is recorded as done;
 * - `delete`: incomplete, marked by this deployment and unused: the record proves it is our debris;
 * - `keep`: incomplete but not provably ours (no deployment mark): reported and left for an operator.
 */
export function interruptedRegisterAction(ironicNode: {
  ownership: Exclude<Ownership, "foreign">;
  complete: boolean;
  inUse: boolean;
}): "finish" | "delete" | "keep" {
  if (ironicNode.complete || ironicNode.inUse) return "finish";
  return ironicNode.ownership === "ours" ? "delete" : "keep";
}
