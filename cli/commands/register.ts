import { type Command, Option } from "commander";
import { integerIn, nodePath, resolvePodManager } from "../args.ts";
import {
  type BulkItem,
  type BulkResult,
  bulkExitCode,
  createProgress,
  formatBulkResults,
  type ProgressReporter,
  parseBulkFile,
  runWithConcurrency,
} from "../bulk.ts";
import { retryAfterMs, type ValenceClient } from "../client.ts";
import { type CliDependencies, type Session, session } from "../context.ts";
import { ApiError, EXIT, ExitWith, exitCodeOf, UsageError } from "../errors.ts";
import {
  followHint,
  followOperation,
  formatOperation,
  isFinished,
  type OperationView,
  outcomeLine,
} from "../operations.ts";
import { formatDetail } from "../output.ts";
import { addWaitOptions, exitUnless, WAIT_HELP_TEXT, waitForOperation } from "./operations.ts";

interface RegisterOptions {
  manage?: boolean;
  inspect?: boolean;
  provide?: boolean;
  /** Commander's `--no-wait`: false when given. */
  wait: boolean;
  resourceClass?: string;
  waitTimeout?: number;
  bootMac?: string;
  ports?: "all" | "boot";
  file?: string;
  all?: boolean;
  podm?: string;
  concurrency: number;
  dryRun?: boolean;
  addTrait?: string[];
  removeTrait?: string[];
}

/** The register body from the flags: only what was given, so the API's defaults stay the API's. */
export function registerBody(
  options: Omit<RegisterOptions, "concurrency" | "wait">,
): Record<string, unknown> {
  return {
    ...(options.resourceClass === undefined ? {} : { resource_class: options.resourceClass }),
    ...(options.ports === undefined ? {} : { ports: options.ports }),
    ...(options.bootMac === undefined ? {} : { boot_mac: options.bootMac }),
    ...(options.manage ? { manage: true } : {}),
    ...(options.inspect ? { inspect: true } : {}),
    ...(options.provide ? { provide: true } : {}),
    ...(options.waitTimeout === undefined ? {} : { wait_timeout: options.waitTimeout }),
    ...(options.addTrait?.length || options.removeTrait?.length
      ? { traits: { add: options.addTrait ?? [], remove: options.removeTrait ?? [] } }
      : {}),
  };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** One register; never throws — a failure is this node's result, not the batch's end. */
export async function registerOne(client: ValenceClient, item: BulkItem): Promise<BulkResult> {
  try {
    const response = await client.call<{ operation?: OperationView }>(
      "POST",
      nodePath(item.node, "/register"),
      {
        body: item.options,
      },
    );
    const operation = response.status === 202 ? response.body?.operation : undefined;
    return {
      node: item.node,
      ok: true,
      status: response.status,
      response: response.body,
      exitCode: EXIT.ok,
      ...(operation ? { operation, headers: response.headers } : {}),
    };
  } catch (error) {
    return {
      node: item.node,
      ok: false,
      ...(error instanceof ApiError ? { status: error.status, response: error.body } : {}),
      error: (error as Error).message,
      exitCode: exitCodeOf(error),
    };
  }
}

async function bulkItems(
  s: Session,
  deps: CliDependencies,
  options: RegisterOptions,
  defaults: Record<string, unknown>,
) {
  if (options.file) {
    let text: string;
    try {
      text = await deps.io.readFile(options.file);
    } catch (error) {
      throw new UsageError(
        `--file: cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
    }
    return parseBulkFile(text, options.file).map((item) => ({
      node: item.node,
      options: { ...defaults, ...item.options },
    }));
  }
  const podmId = await resolvePodManager(s.client, options.podm as string);
  const { items } = await s.client.listAll<{ name: string }>("/v1/nodes", {
    managed_by: "valence",
    podm_id: podmId,
  });
  return items.map((node) => ({ node: node.name, options: { ...defaults } }));
}

/** The register's answer: the node, Ironic's view, and (202) the operation running its lifecycle steps. */
type Registered = Record<string, unknown> & { uuid?: string; operation?: OperationView };

/** A node with its operation: the node's Field | Value table, then the operation's. */
function formatRegistered(body: Registered): string {
  const { operation, ...node } = body;
  return `${formatDetail(node)}${operation ? formatOperation(operation) : ""}`;
}

/** One node's register: 200 printed as is; 202 followed to the operation's end unless `--no-wait`. */
async function registerSingle(deps: CliDependencies, s: Session, node: string, options: RegisterOptions) {
  if (options.dryRun) {
    // The plan only: the service changes nothing in Ironic or in its store.
    const { body } = await s.client.call<Record<string, unknown>>("POST", nodePath(node, "/register"), {
      query: { dry_run: "true" },
      body: registerBody(options),
    });
    s.print(body, () => formatDetail(body));
    return;
  }
  const { status, body, headers } = await s.client.call<Registered>("POST", nodePath(node, "/register"), {
    body: registerBody(options),
  });
  const operation = body.operation;
  if (status !== 202 || !operation) {
    s.print(body, () => formatDetail(body));
    return;
  }
  if (!options.wait) {
    s.print(body, () => formatRegistered(body));
    s.note(followHint(operation.id));
    return;
  }
  s.note(
    `${operation.node_name}: registered in Ironic as ${String(body.ironic_node_uuid ?? "?")}; operation ` +
      `${operation.id} runs ${operation.steps.map((step) => step.name).join(", ")}`,
  );
  const ended = await waitForOperation(deps, s, { operation, headers });
  // The node as it is now: Ironic's live state, or back with Valence if a failed verification rolled it back.
  let now: Registered = body;
  try {
    now = (
      await s.client.call<Registered>("GET", nodePath(body.uuid ?? node), { query: { refresh: "true" } })
    ).body;
  } catch (error) {
    s.note(`could not read the node again: ${(error as Error).message}`);
  }
  const result = { ...now, operation: ended };
  s.print(result, () => formatRegistered(result));
  exitUnless(ended, "succeeded");
}

/**
 * Follows the operations a bulk register started, `concurrency` at a time, quietly (a line per node as each
 * ends, not per step). Answers false when Ctrl-C stopped it; the operations not seen to end are left as they were.
 */
async function followAll(
  deps: CliDependencies,
  s: Session,
  results: BulkResult[],
  concurrency: number,
  progress: ProgressReporter,
): Promise<boolean> {
  const pending = results.filter((result) => result.operation && !isFinished(result.operation));
  if (pending.length === 0) return true;
  s.note(`following ${pending.length} operation(s) until they end (Ctrl-C stops following; they go on)`);
  let interrupt: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => {
    interrupt = resolve;
  });
  let stopped = false;
  const unregister =
    deps.io.onInterrupt?.(() => {
      stopped = true;
      interrupt();
    }) ?? (() => undefined);
  try {
    await runWithConcurrency(pending, concurrency, async (result) => {
      if (stopped) return;
      const operation = result.operation as OperationView;
      try {
        const followed = await followOperation({
          client: s.client,
          url: result.headers?.get("location")
            ? s.client.linked(result.headers.get("location") as string)
            : s.client.url(`/v1/operations/${operation.id}`),
          initial: operation,
          retryAfterMs: retryAfterMs(result.headers?.get("retry-after") ?? null),
          sleep: deps.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
          interrupted,
        });
        result.operation = followed.operation;
        if (!followed.ended) return;
        if (followed.operation.state !== "succeeded") {
          result.ok = false;
          result.error = outcomeLine(followed.operation);
          result.exitCode = EXIT.operationFailed;
        }
      } catch (error) {
        result.ok = false;
        result.error = `${(error as Error).message} (stopped following; operation ${operation.id} goes on)`;
        result.exitCode = exitCodeOf(error);
      }
      progress.settled(result);
    });
  } finally {
    unregister();
  }
  return !stopped;
}

export function addRegisterCommand(program: Command, deps: CliDependencies): void {
  const command = program
    .command("node-register")
    .summary("Register nodes in Ironic (one, a file of them, or all of a pod manager's)")
    .description(
      "Register a composed node in Ironic: the redfish driver with the pod manager's credentials, and one port per " +
        "enabled NIC. --manage, --inspect and --provide then move it on to manageable, through inspection, and to " +
        "available (Ironic cleaning it first): an operation the command follows until it ends.\n\n" +
        "Bulk: --file registers the nodes a YAML or JSON file lists, --all --podm every node of a pod manager that " +
        "Valence still manages; --concurrency at a time, with a progress bar on a terminal, then a table of " +
        "results. One failure does not stop the others; the exit code is 0 only if every node registered. " +
        "The flags apply to every node; a file's per-node fields override them.",
    )
    .argument("[node]", "node name or uuid (omit with --file or --all)")
    .option("--manage", "move the Ironic node to manageable (Ironic verifies the BMC)")
    .option("--inspect", "have Ironic inspect the node's hardware (implies the manage step)")
    .option("--provide", "move it on to available, Ironic cleaning it first (implies the manage step)")
    .option("--resource-class <class>", "Ironic resource_class (default: the service's, baremetal)")
    .option("--boot-mac <mac>", "the NIC to PXE boot from (default: the first enabled NIC)")
    .addOption(
      new Option("--ports <ports>", "ports to create: all enabled NICs, or only the boot NIC").choices([
        "all",
        "boot",
      ]),
    )
    .option(
      "--add-trait <trait>",
      "an Ironic trait to add to what the hardware rules give (repeatable)",
      collect,
    )
    .option("--remove-trait <trait>", "a trait the hardware rules give to leave out (repeatable)", collect)
    .option("--dry-run", "show the plan (node fields, traits, ports) and change nothing; one node only")
    .option("--file <path>", "bulk: register the nodes listed in this YAML/JSON file")
    .option("--all", "bulk: register every node of --podm that Valence manages (not yet in Ironic)")
    .option("--podm <podm>", "with --all: the pod manager (name or uuid)")
    .option("--concurrency <count>", "bulk: registers running at once (1-64)", integerIn(1, 64), 4);
  addWaitOptions(command)
    .addHelpText(
      "after",
      `\nWith --manage, --inspect or --provide the register starts an operation.${WAIT_HELP_TEXT}
In bulk, each node's operation is followed (a line per node as it ends); exit 5 if any failed.`,
    )
    .addHelpText(
      "after",
      `
Examples:
  valence node-register test-node --manage --provide
  valence node-register test-node --dry-run --add-trait CUSTOM_RACK_7
  valence node-register --file nodes.yaml --concurrency 8
  valence node-register --all --podm podm1 --resource-class gold -f json

A bulk file lists node names or uuids, or objects with "node" and any register body field
(resource_class, properties, driver_info, ports, boot_mac, manage, inspect, provide, wait_timeout):
  - node-1
  - node: node-2
    resource_class: gold
    manage: true`,
    )
    .action(async (node: string | undefined, options: RegisterOptions, command: Command) => {
      const sources = [node !== undefined, Boolean(options.file), Boolean(options.all)].filter(
        Boolean,
      ).length;
      if (sources !== 1) throw new UsageError("node-register: give exactly one of <node>, --file or --all");
      if (options.all && !options.podm) throw new UsageError("node-register: --all needs --podm");
      if (options.podm && !options.all) throw new UsageError("node-register: --podm goes with --all");
      if (options.dryRun && node === undefined)
        throw new UsageError("node-register: --dry-run plans one <node>, not --file or --all");
      const s = session(deps, command);
      const defaults = registerBody(options);

      if (node !== undefined) return registerSingle(deps, s, node, options);

      const items = await bulkItems(s, deps, options, defaults);
      if (items.length === 0) {
        s.note("no nodes to register");
        s.print([], () => "");
        return;
      }
      const progress = createProgress(items.length, deps.io.stderr);
      // A register that started an operation settles when the operation ends, unless nothing will follow it.
      const settlesNow = (result: BulkResult) =>
        !options.wait || !result.operation || isFinished(result.operation);
      const results = await runWithConcurrency(
        items,
        options.concurrency,
        (item) => registerOne(s.client, item),
        (result) => {
          if (settlesNow(result)) progress.settled(result);
        },
      );
      const followedAll = options.wait
        ? await followAll(deps, s, results, options.concurrency, progress)
        : true;
      progress.stop();
      s.print(
        results.map(({ node: name, ok, status, response, error, operation }) => ({
          node: name,
          ok,
          ...(status === undefined ? {} : { status }),
          ...(response === undefined ? {} : { response }),
          ...(error === undefined ? {} : { error }),
          ...(operation === undefined ? {} : { operation }),
        })),
        () => formatBulkResults(results),
      );
      const refused = results.filter((result) => !result.ok && !result.operation).length;
      if (refused) s.note(`${refused} of ${results.length} nodes failed to register`);
      const unsuccessful = results.filter((result) => !result.ok && result.operation).length;
      if (unsuccessful) s.note(`${unsuccessful} operation(s) did not succeed`);
      const goingOn = results.filter((result) => result.operation && !isFinished(result.operation));
      for (const result of goingOn) s.note(`${result.node}: ${followHint(result.operation?.id as string)}`);
      if (!followedAll) throw new ExitWith(EXIT.interrupted);
      const exitCode = bulkExitCode(results);
      if (exitCode !== EXIT.ok) throw new ExitWith(exitCode);
    });
}
