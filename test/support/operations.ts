import type { OperationView } from "../../lib/operations/model.ts";
import type { ApiResponse } from "./local-api.ts";

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

// biome-ignore lint/suspicious/noExplicitAny: tests read loosely typed JSON bodies
type Call = <T = any>(method: string, path: string, body?: unknown) => Promise<ApiResponse<T>>;

/** Polls `GET /v1/operations/{id}` (as a client would) until the operation ends, or `until` holds. */
export async function followOperation(
  call: Call,
  id: string,
  until: (operation: OperationView) => boolean = (operation) => FINAL.has(operation.state),
  timeoutMs = 120_000,
): Promise<OperationView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await call<OperationView>("GET", `/v1/operations/${id}`);
    if (response.status !== 200) throw new Error(`GET operation ${id}: ${response.status} ${response.text}`);
    if (until(response.body)) return response.body;
    if (Date.now() > deadline) throw new Error(`operation ${id} still ${JSON.stringify(response.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Registers through the API and, when the register answered 202, follows its operation to the end: the register
 * response, the operation as it ended (if any), and the node as it is then.
 */
export async function registerAndSettle(call: Call, node: string, body: Record<string, unknown> = {}) {
  const response = await call("POST", `/v1/nodes/${node}/register`, body);
  if (response.status !== 202) return { response, operation: undefined, node: response.body };
  const operation = await followOperation(call, response.body.operation.id);
  const settled = await call("GET", `/v1/nodes/${node}?refresh=true`);
  return { response, operation, node: settled.body };
}
