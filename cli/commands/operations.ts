import type { Command } from "commander";
import { MAX_PAGE_SIZE, MAX_WAIT_SECONDS } from "../../lib/nodes/schemas.ts";
import { LifecycleActionBody } from "../../lib/operations/schemas.ts";
import { formatIssue } from "../../lib/validation.ts";
import { integerIn, nodePath } from "../args.ts";
import { retryAfterMs } from "../client.ts";
import { type CliDependencies, type Session, session } from "../context.ts";
import { EXIT, ExitWith, exitCodeOf, UsageError } from "../errors.ts";
import {
  type FollowResult,
  followHint,
  followOperation,
  formatOperation,
  formatOperationList,
  type OperationView,
  outcomeLine,
} from "../operations.ts";

/** Help for `--wait-timeout` where it sets an operation's deadline. */
export const WAIT_TIMEOUT_HELP =
  `the operation's deadline, in seconds: how long Valence keeps waiting on Ironic before it fails the ` +
  `operation (1-${MAX_WAIT_SECONDS}; default the service's, 2 h)`;

export const NO_WAIT_HELP = "print the operation and return at once (exit 0); it goes on in the service";

export const WAIT_HELP_TEXT = `
Waits until the operation ends, printing each step as it changes on stderr (its state, Ironic's
provision_state → target_provision_state, last_error), then the result on stdout. Exit 0 when it
succeeded, 5 when it failed or was cancelled. Ctrl-C stops waiting (exit 130); the operation goes on:
follow it again with "valence operation-show <id> --wait".`;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The operation's URL: the 202's `Location` (on our origin), else its canonical path. */
function operationUrl(s: Session, operation: { id: string }, location: string | null | undefined): URL {
  return location
    ? s.client.linked(location)
    : s.client.url(`/v1/operations/${encodeURIComponent(operation.id)}`);
}

export interface Waiting {
  /** The operation as the API last answered it. */
  operation: OperationView;
  /** The answer's `Location` and `Retry-After`, when it was a 202. */
  headers?: Headers;
}

/**
 * Follows an operation to its end for a command that waits: each change as a line on stderr (prefixed with the
 * node), and on Ctrl-C a note on how to follow it again and exit 130 — the operation is left running.
 */
export async function waitForOperation(
  deps: CliDependencies,
  s: Session,
  { operation, headers }: Waiting,
): Promise<OperationView> {
  let stopFollowing: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => {
    stopFollowing = resolve;
  });
  const unregister = deps.io.onInterrupt?.(() => stopFollowing()) ?? (() => undefined);
  let result: FollowResult;
  try {
    result = await followOperation({
      client: s.client,
      url: operationUrl(s, operation, headers?.get("location")),
      initial: operation,
      retryAfterMs: retryAfterMs(headers?.get("retry-after") ?? null),
      sleep: deps.sleep ?? defaultSleep,
      progress: (line) => s.note(`${operation.node_name}: ${line}`),
      interrupted,
    });
  } catch (error) {
    // The operation is the service's to finish whatever happened to our looks at it.
    s.note(`${(error as Error).message}\nStopped following. ${followHint(operation.id)}`);
    throw new ExitWith(exitCodeOf(error));
  } finally {
    unregister();
  }
  if (!result.ended) {
    s.note(`Interrupted. ${followHint(operation.id)}`);
    throw new ExitWith(EXIT.interrupted);
  }
  s.note(outcomeLine(result.operation));
  return result.operation;
}

/** Ends the command with exit 5 unless the operation ended in `expected` (what was printed stays printed). */
export function exitUnless(operation: OperationView, expected: OperationView["state"]): void {
  if (operation.state !== expected) throw new ExitWith(EXIT.operationFailed);
}

/**
 * What a command that started (or looked up) an operation shows: the operation as it is, with a hint how to
 * follow it when `hint`; or, when told to wait, the operation as it ended, exiting 5 unless it ended `expected`.
 */
export async function printOrFollow(
  deps: CliDependencies,
  s: Session,
  waiting: Waiting,
  options: { wait: boolean | undefined; expected: OperationView["state"]; hint?: boolean },
): Promise<void> {
  const { operation } = waiting;
  if (!options.wait) {
    s.print(operation, () => formatOperation(operation));
    if (options.hint) s.note(followHint(operation.id));
    return;
  }
  const ended = await waitForOperation(deps, s, waiting);
  s.print(ended, () => formatOperation(ended));
  exitUnless(ended, options.expected);
}

export const LIFECYCLE_COMMANDS = ["manage", "provide", "inspect", "clean"] as const;
export type LifecycleCommand = (typeof LIFECYCLE_COMMANDS)[number];

export interface LifecycleOptions {
  /** Commander's `--no-wait`: false when given. */
  wait: boolean;
  waitTimeout?: number;
  cleanSteps?: string;
}

/** `--clean-steps`: JSON text, or `@file` holding it, checked with the route's own schema. */
async function cleanSteps(deps: CliDependencies, value: string): Promise<unknown> {
  let text = value;
  if (value.startsWith("@")) {
    try {
      text = await deps.io.readFile(value.slice(1));
    } catch (error) {
      throw new UsageError(
        `--clean-steps: cannot read ${value.slice(1)}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--clean-steps: not JSON: ${(error as Error).message}`);
  }
}

/** The action's body from the flags, checked with the route's schema so a mistake is a usage error (exit 2). */
export async function lifecycleBody(
  deps: CliDependencies,
  action: LifecycleCommand,
  options: LifecycleOptions,
): Promise<Record<string, unknown>> {
  if (action === "clean" && options.cleanSteps === undefined)
    throw new UsageError(
      "node-clean: --clean-steps is required (Ironic's manual cleaning runs exactly those)",
    );
  const body = {
    ...(options.cleanSteps === undefined ? {} : { clean_steps: await cleanSteps(deps, options.cleanSteps) }),
    ...(options.waitTimeout === undefined ? {} : { wait_timeout: options.waitTimeout }),
  };
  const parsed = LifecycleActionBody.safeParse(body);
  if (!parsed.success) {
    throw new UsageError(
      `node-${action}: ${parsed.error.issues.map((issue) => formatIssue(issue, body)).join("; ")}`,
    );
  }
  return body;
}

/** `node-manage <node>`, `node-provide`, `node-inspect`, `node-clean`: start Ironic's verb, then wait unless told. */
export async function runLifecycleCommand(
  deps: CliDependencies,
  command: Command,
  node: string,
  action: LifecycleCommand,
  options: LifecycleOptions,
): Promise<void> {
  const body = await lifecycleBody(deps, action, options);
  const s = session(deps, command);
  const { body: operation, headers } = await s.client.call<OperationView>(
    "POST",
    nodePath(node, `/${action}`),
    {
      body,
    },
  );
  await printOrFollow(
    deps,
    s,
    { operation, headers },
    { wait: options.wait, expected: "succeeded", hint: true },
  );
}

const LIFECYCLE_HELP: Record<
  Exclude<LifecycleCommand, "manage">,
  { summary: string; description: string }
> = {
  provide: {
    summary: "Make a registered node available in Ironic (Ironic cleans it first)",
    description:
      "Ironic's provide: from manageable (or a failed clean) to available. With automated cleaning on (Ironic's " +
      "default), Ironic boots the node's ramdisk and cleans it first, which takes minutes on real hardware.",
  },
  inspect: {
    summary: "Have Ironic inspect a registered node",
    description:
      "Ironic's inspect: from manageable, Ironic reads the node's hardware and back to manageable.",
  },
  clean: {
    summary: "Run Ironic's manual cleaning on a registered node",
    description:
      "Ironic's manual clean: from manageable, Ironic runs exactly the given clean steps and goes back to " +
      'manageable. --clean-steps is a JSON list like [{"interface": "deploy", "step": "erase_devices_metadata"}], ' +
      "or @file holding one.",
  },
};

/** Adds `--no-wait` and `--wait-timeout` (the operation's deadline) to a command that starts operations. */
export function addWaitOptions(command: Command): Command {
  return command
    .option("--no-wait", NO_WAIT_HELP)
    .option("--wait-timeout <seconds>", WAIT_TIMEOUT_HELP, integerIn(1, MAX_WAIT_SECONDS));
}

export function addOperationCommands(program: Command, deps: CliDependencies): void {
  for (const action of ["provide", "inspect", "clean"] as const) {
    const help = LIFECYCLE_HELP[action];
    const command = program
      .command(`node-${action}`)
      .summary(help.summary)
      .description(`${help.description}\n\nRuns as an operation (see operation-show).`)
      .argument("<node>", "node name or uuid (registered in Ironic)");
    if (action === "clean") command.option("--clean-steps <json>", "the clean steps, as JSON (or @file)");
    addWaitOptions(command)
      .addHelpText("after", WAIT_HELP_TEXT)
      .action((node: string, options: LifecycleOptions, cmd: Command) =>
        runLifecycleCommand(deps, cmd, node, action, options),
      );
  }

  program
    .command("operation-show")
    .summary("Show an operation: its steps, Ironic's progress, its outcome")
    .description(
      "Show an operation by id. --wait follows it until it ends, printing each step as it changes (exit 0 when " +
        "it succeeded, 5 when it failed or was cancelled; Ctrl-C stops following, exit 130).",
    )
    .argument("<id>", "operation id")
    .option("--wait", "follow the operation until it ends")
    .action(async (id: string, options: { wait?: boolean }, command: Command) => {
      const s = session(deps, command);
      const { body: operation } = await s.client.call<OperationView>(
        "GET",
        `/v1/operations/${encodeURIComponent(id)}`,
      );
      await printOrFollow(deps, s, { operation }, { wait: options.wait, expected: "succeeded" });
    });

  program
    .command("operation-list")
    .summary("List a node's operations")
    .description(
      "A node's operations, newest first (all of them, following the API's pages, unless --limit).",
    )
    .argument("<node>", "node name or uuid")
    .option(
      "--limit <count>",
      `at most this many operations (1-${MAX_PAGE_SIZE})`,
      integerIn(1, MAX_PAGE_SIZE),
    )
    .action(async (node: string, options: { limit?: number }, command: Command) => {
      const s = session(deps, command);
      const { items, more } = await s.client.listAll<OperationView>(
        nodePath(node, "/operations"),
        { limit: options.limit },
        options.limit,
      );
      s.print(items, () => formatOperationList(items));
      if (more) s.note("more operations remain: raise --limit, or omit it to list all");
    });

  program
    .command("operation-cancel")
    .summary("Cancel an operation")
    .description(
      "Ask an operation to stop: Valence aborts in Ironic where Ironic allows it (clean wait, inspect wait), " +
        "otherwise the operation stops at its next step boundary. Then waits until it has ended, unless " +
        "--no-wait: exit 0 when it ended cancelled, 5 when it ended otherwise (it finished first).",
    )
    .argument("<id>", "operation id")
    .option("--no-wait", "print the operation (cancelling) and return at once")
    .action(async (id: string, options: { wait: boolean }, command: Command) => {
      const s = session(deps, command);
      const { body: operation, headers } = await s.client.call<OperationView>(
        "POST",
        `/v1/operations/${encodeURIComponent(id)}/cancel`,
      );
      await printOrFollow(deps, s, { operation, headers }, { wait: options.wait, expected: "cancelled" });
    });
}
