/**
 * The single DynamoDB table and its indexes: one source for the repositories, the local stack and the CDK stack.
 *
 * Items:
 * - node:          pk `NODE#<uuid>`  sk `NODE`      kind `node`
 * - pod manager:   pk `PODM#<uuid>`  sk `PODM`      kind `podm`
 * - unique claim:  pk `UNIQUE#<scope>#<value>` sk `UNIQUE`, owner `<uuid>` — how names (and pod-manager urls)
 *   stay unique without transactions: claim first with a conditional put, then write the record.
 * - deployment:    pk `DEPLOYMENT` sk `DEPLOYMENT`, `deployment_id` — this deployment's identity, created once
 *   (conditional put) and marked on every Ironic node it creates or adopts (`lib/db/deployment.ts`).
 * - reconcile cursor: pk `RECONCILE` sk `CURSOR` — where an interrupted reconcile pass stopped.
 * - operation:     pk `OP#<id>`      sk `OP` — a long-running operation on a node (`lib/operations/`); every
 *   transition is one conditional update of this item. Its `kind` is the operation's; it has no `name`, so it never
 *   enters `by-kind`.
 * - operation of a node: pk `NODE#<uuid>` sk `OP#<created_at>#<id>`, `operation_id` — written once before the
 *   operation, never changed: a node's operations newest first, one Query away.
 * - operation in flight: pk `OPERATIONS#ACTIVE` sk `<created_at>#<id>`, `operation_id` — written before the
 *   operation, deleted once it ended: what a restart resumes. An index item that names no operation (or one of
 *   another `created_at`) is skipped, one of an ended operation is skipped and deleted.
 */
export const TABLE = {
  /** Default name; deployments pass the real one through `VALENCE_TABLE_NAME`. */
  defaultName: "valence",
  partitionKey: "pk",
  sortKey: "sk",
  indexes: {
    /** Every node (or pod manager) sorted by name: lists without a scan. */
    byKind: { name: "by-kind", partitionKey: "kind", sortKey: "name" },
    /** Nodes by who manages them (`valence` | `ironic`). */
    byManagedBy: { name: "by-managed-by", partitionKey: "managed_by", sortKey: "name" },
    /** Nodes by pod manager. */
    byPodManager: { name: "by-podm", partitionKey: "podm_id", sortKey: "name" },
  },
} as const;

export type IndexDefinition = (typeof TABLE.indexes)[keyof typeof TABLE.indexes];

/** The CreateTable input used by the local stack and the tests (the CDK stack builds the same from `TABLE`). */
export function createTableInput(tableName: string) {
  const indexes = Object.values(TABLE.indexes);
  const attributes = new Set<string>([TABLE.partitionKey, TABLE.sortKey]);
  for (const index of indexes) {
    attributes.add(index.partitionKey);
    attributes.add(index.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST" as const,
    AttributeDefinitions: [...attributes].map((name) => ({
      AttributeName: name,
      AttributeType: "S" as const,
    })),
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: "HASH" as const },
      { AttributeName: TABLE.sortKey, KeyType: "RANGE" as const },
    ],
    GlobalSecondaryIndexes: indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: "HASH" as const },
        { AttributeName: index.sortKey, KeyType: "RANGE" as const },
      ],
      Projection: { ProjectionType: "ALL" as const },
    })),
  };
}
