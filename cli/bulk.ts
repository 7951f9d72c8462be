import { STATUS_CODES } from "node:http";
import { SingleBar } from "cli-progress";
import { parse as parseYaml } from "yaml";
import { STATUS_BY_CODE } from "../lib/http/statuses.ts";
import { RegisterNodeBody } from "../lib/nodes/schemas.ts";
import { formatIssue } from "../lib/validation.ts";
import { EXIT, type ExitCode, UsageError } from "./errors.ts";
import type { OperationView } from "./operations.ts";
import { columns, formatList, type Writer } from "./output.ts";

/** One node of a bulk register, with the register body fields it sets for itself. */
export interface BulkItem {
  node: string;
  options: Record<string, unknown>;
}

export interface BulkResult {
  node: string;
  ok: boolean;
  /** The HTTP status, when the API answered. */
  status?: number;
  /** The API's JSON as it came: the registered node, or the error body. */
  response?: unknown;
  /** `title: detail`, why the API could not be reached, or how the node's operation ended. */
  error?: string;
  exitCode: ExitCode;
  /**
   * The operation a register with lifecycle steps started (202), as last seen: at its end when it was followed.
   * One that ended `failed` or `cancelled` makes the result a failure (exit 5).
   */
  operation?: OperationView;
  /** The 202's headers (`Location`, `Retry-After`), to follow the operation. */
  headers?: Headers;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Reads a bulk file: YAML or JSON (JSON is YAML), a list — or `{nodes: [...]}` — whose items are a node name or
 * uuid, or `{node, <register body fields>...}`. Per-node options are checked with the register route's own schema,
 * so a typo fails here, before any node is registered. Every problem is reported at once.
 */
export function parseBulkFile(text: string, source: string): BulkItem[] {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new UsageError(`${source}: neither YAML nor JSON: ${(error as Error).message}`);
  }
  const list = Array.isArray(document)
    ? document
    : isObject(document) && Array.isArray(document.nodes)
      ? document.nodes
      : undefined;
  if (!list) throw new UsageError(`${source}: expected a list of nodes, or {nodes: [...]}`);
  if (list.length === 0) throw new UsageError(`${source}: the list of nodes is empty`);

  const problems: string[] = [];
  const items: BulkItem[] = [];
  const seen = new Set<string>();
  list.forEach((entry: unknown, i: number) => {
    const where = `${source}: item ${i + 1}`;
    let item: BulkItem | undefined;
    if (typeof entry === "string" || typeof entry === "number") {
      item = { node: String(entry).trim(), options: {} };
    } else if (isObject(entry)) {
      const { node, ...options } = entry;
      if ((typeof node !== "string" && typeof node !== "number") || String(node).trim() === "") {
        problems.push(`${where}: "node" (a node name or uuid) is required`);
        return;
      }
      const parsed = RegisterNodeBody.safeParse(options);
      if (!parsed.success) {
        for (const issue of parsed.error.issues)
          problems.push(`${where} (${node}): ${formatIssue(issue, options)}`);
        return;
      }
      item = { node: String(node).trim(), options };
    } else {
      problems.push(`${where}: expected a node name or uuid, or {node: ..., manage: ..., ...}`);
      return;
    }
    if (!item.node) problems.push(`${where}: the node name is empty`);
    else if (seen.has(item.node)) problems.push(`${where}: ${item.node} is listed twice`);
    else {
      seen.add(item.node);
      items.push(item);
    }
  });
  if (problems.length) throw new UsageError(problems.join("\n"));
  return items;
}

/** A node of an enrollment as `GET /v1/operations/{id}` shows it. */
export type EnrollNodeView = NonNullable<OperationView["nodes"]>[number];

/**
 * The body of `POST /v1/nodes/register` for a bulk file's items: the flags as the enrollment's register fields,
 * each item's own fields on it (a bare name when it has none).
 */
export function enrollBody(
  items: readonly BulkItem[],
  defaults: Record<string, unknown>,
  concurrency: number,
): Record<string, unknown> {
  return {
    ...defaults,
    nodes: items.map((item) =>
      Object.keys(item.options).length ? { node: item.node, ...item.options } : item.node,
    ),
    concurrency,
  };
}

/**
 * A node of an enrollment as a bulk result: registered (its own operation, if any, as `operation`), refused at
 * its register (exit 3, or 4 when the code is the service's failure), or its operation failed or was cancelled
 * (exit 5). Undefined while it has not ended.
 */
export function bulkResultOf(node: EnrollNodeView, operation?: OperationView): BulkResult | undefined {
  const response = {
    uuid: node.node_uuid,
    name: node.name,
    ironic_node_uuid: node.ironic_node_uuid,
    ...(node.ironic_node_uuid ? { managed_by: "ironic" } : {}),
    // Registered without lifecycle steps, the Ironic node rests in `enroll` (as a single register answers).
    ...(node.state === "succeeded" && !node.operation_id ? { ironic: { provision_state: "enroll" } } : {}),
  };
  const withOperation = operation ? { operation } : {};
  if (node.state === "succeeded")
    return {
      node: node.name,
      ok: true,
      status: node.operation_id ? 202 : 200,
      response,
      exitCode: EXIT.ok,
      ...withOperation,
    };
  if (node.state !== "failed" && node.state !== "cancelled") return undefined;
  const error = `${node.code ?? node.state}: ${node.detail ?? ""}`;
  if (node.operation_id)
    return {
      node: node.name,
      ok: false,
      status: 202,
      response,
      error,
      exitCode: EXIT.operationFailed,
      ...withOperation,
    };
  const status = (node.code && STATUS_BY_CODE[node.code]?.status) || (node.state === "cancelled" ? 409 : 502);
  return {
    node: node.name,
    ok: false,
    status,
    response: { code: node.code, detail: node.detail },
    // As a refused single register reads: the status's title and the detail.
    error: node.state === "cancelled" ? error : `${STATUS_CODES[status] ?? node.code}: ${node.detail ?? ""}`,
    exitCode:
      status >= 500 ? EXIT.serverError : node.state === "cancelled" ? EXIT.operationFailed : EXIT.clientError,
  };
}

/**
 * Runs `work` over `items`, at most `concurrency` at a time, calling `settled` as each finishes. `work` must not
 * throw: each item's failure is its own result, so one failure never stops the others.
 */
export async function runWithConcurrency<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
  settled: (result: R) => void = () => undefined,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
      settled(results[index] as R);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/**
 * 0 when every node succeeded; else 4 if any failure was the service's or the network's, else 3 if the API
 * refused any register, else 5 (every register was accepted, but an operation failed or was cancelled).
 */
export function bulkExitCode(results: readonly BulkResult[]): ExitCode {
  const failures = results.filter((result) => !result.ok);
  if (failures.length === 0) return EXIT.ok;
  if (failures.some((result) => result.exitCode === EXIT.serverError)) return EXIT.serverError;
  if (failures.some((result) => result.exitCode === EXIT.clientError)) return EXIT.clientError;
  return EXIT.operationFailed;
}

/** `registered`, `registered, operation succeeded`, or `failed: ...`: a node's result in a few words. */
export function describeResult(result: BulkResult): string {
  if (!result.ok) return `failed: ${result.error ?? "unknown error"}`;
  return result.operation ? `registered, operation ${result.operation.state}` : "registered";
}

export interface ProgressReporter {
  settled(result: BulkResult): void;
  stop(): void;
}

/** A progress bar on a terminal; one plain line per node otherwise (logs and CI keep a readable record). */
export function createProgress(
  total: number,
  stream: Writer & { isTTY?: boolean },
  verb = "registering",
): ProgressReporter {
  let done = 0;
  let failed = 0;
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream: stream as NodeJS.WriteStream,
      format: `${verb} [{bar}] {value}/{total} | {failed} failed | {last}`,
      hideCursor: true,
      barsize: 30,
    });
    bar.start(total, 0, { failed: 0, last: "" });
    return {
      settled(result) {
        if (!result.ok) failed++;
        bar.increment(1, { failed, last: `${result.node} ${result.ok ? "ok" : "failed"}` });
      },
      stop: () => bar.stop(),
    };
  }
  return {
    settled(result) {
      done++;
      stream.write(`[${done}/${total}] ${result.node}: ${describeResult(result)}\n`);
    },
    stop: () => undefined,
  };
}

const RESULT_COLUMNS = columns(
  "Node=node, Result=result, Ironic Node=ironic_node_uuid, Provision State=provision_state, Error=error",
);

/** Ironic's provision state as the operation last saw it (its latest step that looked at Ironic). */
function lastProvisionState(operation: OperationView | undefined): string | undefined {
  return operation?.steps.findLast((step) => step.provision_state)?.provision_state ?? undefined;
}

/**
 * The per-node result table that ends a bulk register; with an Operation column (its state) when any register
 * started one.
 */
export function formatBulkResults(results: readonly BulkResult[]): string {
  const withOperations = results.some((result) => result.operation);
  const rows = results.map((result) => {
    // A failed operation is a failure of the node, but its register was accepted.
    const registered = result.ok || result.operation !== undefined;
    const node = (registered ? result.response : undefined) as
      | { ironic_node_uuid?: string | null; ironic?: { provision_state?: string } }
      | undefined;
    return {
      node: result.node,
      result: registered ? "registered" : "failed",
      ironic_node_uuid: node?.ironic_node_uuid ?? "",
      provision_state: lastProvisionState(result.operation) ?? node?.ironic?.provision_state ?? "",
      operation: result.operation?.state ?? "",
      error: result.error ?? "",
    };
  });
  const shown = withOperations
    ? [
        ...RESULT_COLUMNS.slice(0, -1),
        { header: "Operation", path: "operation" },
        ...RESULT_COLUMNS.slice(-1),
      ]
    : RESULT_COLUMNS;
  return formatList(rows, shown);
}
