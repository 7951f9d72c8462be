import { spawn } from "node:child_process";

const CHILD = "test/support/register-child.ts";
const WORKFLOW_CHILD = "test/support/workflow-child.ts";

export interface ChildRun {
  child: ReturnType<typeof spawn>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the child wrote (its log lines), stdout and stderr. */
  output(): string;
}

/**
 * Runs `register-child.ts` (one register or unregister by Valence's own service) in a process of its own,
 * with the stack's environment, so that a test can SIGKILL it mid-saga.
 */
export function runRegisterChild(
  env: Record<string, string>,
  operation: "register" | "unregister",
  node: string,
  requestId: string,
  body: Record<string, unknown> = {},
): ChildRun {
  return runChild(env, [CHILD, operation, node, requestId, JSON.stringify(body)]);
}

/** Runs `workflow-child.ts`: one operation's durable workflow in a process of its own, to be killed. */
export function runWorkflowChild(env: Record<string, string>, operationId: string): ChildRun {
  return runChild(env, [WORKFLOW_CHILD, operationId]);
}

function runChild(env: Record<string, string>, args: string[]): ChildRun {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    env: { ...process.env, ...env, POWERTOOLS_LOG_LEVEL: "DEBUG" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => output };
}
