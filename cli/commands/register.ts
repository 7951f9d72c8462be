import { type Command, Option } from "commander";
import { integerIn, nodePath, resolvePodManager } from "../args.ts";
import {
  type BulkItem,
  type BulkResult,
  bulkExitCode,
  bulkResultOf,
  createProgress,
  enrollBody,
  formatBulkResults,
  parseBulkFile,
} from "../bulk.ts";
import { retryAfterMs } from "../client.ts";
import { type CliDependencies, type Session, session } from "../context.ts";
import { ApiError, EXIT, ExitWith, exitCodeOf, UsageError } from "../errors.ts";
import { followHint, followOperation, formatOperation, type OperationView } from "../operations.ts";
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

/** The nodes a bulk file lists, the flags as defaults under each item's own fields (checked before anything). */
async function fileItems(deps: CliDependencies, file: string): Promise<BulkItem[]> {
  let text: string;
  try {
    text = await deps.io.readFile(file);
  } catch (error) {
    throw new UsageError(`--file: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  return parseBulkFile(text, file);
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
 * A bulk register: one `POST /v1/nodes/register` (the file's nodes, or the pod manager's through the selector),
 * then the enrollment followed to its end, the progress bar moving as each node ends in it (each node's own
 * operation read once, when it ended). Ctrl-C stops following; the enrollment goes on.
 */
async function enrollBulk(
  deps: CliDependencies,
  s: Session,
  options: RegisterOptions,
  defaults: Record<string, unknown>,
): Promise<void> {
  const body = options.file
    ? enrollBody(await fileItems(deps, options.file), defaults, options.concurrency)
    : {
        ...defaults,
        selector: {
          podm_id: await resolvePodManager(s.client, options.podm as string),
          managed_by: "valence",
        },
        concurrency: options.concurrency,
      };
  let accepted: { body: OperationView; headers: Headers };
  try {
    accepted = await s.client.call<OperationView>("POST", "/v1/nodes/register", { body });
  } catch (error) {
    if (error instanceof ApiError && error.code === "NothingToEnroll") {
      s.note("no nodes to register");
      s.print([], () => "");
      return;
    }
    throw error;
  }
  const enrollment = accepted.body;
  const nodes = enrollment.nodes ?? [];
  if (!options.wait) {
    s.print(enrollment, () => formatOperation(enrollment));
    s.note(followHint(enrollment.id));
    return;
  }
  const progress = createProgress(nodes.length, deps.io.stderr);
  const results = new Map<string, BulkResult>();
  const settle = async (operation: OperationView) => {
    for (const node of operation.nodes ?? []) {
      if (results.has(node.node_uuid)) continue;
      const ended = bulkResultOf(node);
      if (!ended) continue;
      let child: OperationView | undefined;
      if (node.operation_id) {
        try {
          child = (await s.client.call<OperationView>("GET", `/v1/operations/${node.operation_id}`)).body;
        } catch {
          // The node's result stands without its operation's detail.
        }
      }
      const result = bulkResultOf(node, child) as BulkResult;
      results.set(node.node_uuid, result);
      progress.settled(result);
    }
  };
  let stopFollowing: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => {
    stopFollowing = resolve;
  });
  const unregister = deps.io.onInterrupt?.(() => stopFollowing()) ?? (() => undefined);
  let followed: Awaited<ReturnType<typeof followOperation>>;
  try {
    await settle(enrollment);
    followed = await followOperation({
      client: s.client,
      url: accepted.headers.get("location")
        ? s.client.linked(accepted.headers.get("location") as string)
        : s.client.url(`/v1/operations/${enrollment.id}`),
      initial: enrollment,
      retryAfterMs: retryAfterMs(accepted.headers.get("retry-after")),
      sleep: deps.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
      seen: settle,
      interrupted,
    });
  } catch (error) {
    progress.stop();
    s.note(`${(error as Error).message}\nStopped following. ${followHint(enrollment.id)}`);
    throw new ExitWith(exitCodeOf(error));
  } finally {
    unregister();
  }
  progress.stop();
  const ordered = (followed.operation.nodes ?? nodes).map(
    (node): BulkResult =>
      results.get(node.node_uuid) ?? {
        node: node.name,
        ok: false,
        error: `still ${node.state} (stopped following)`,
        exitCode: EXIT.interrupted,
      },
  );
  s.print(
    ordered.map(({ node: name, ok, status, response, error, operation }) => ({
      node: name,
      ok,
      ...(status === undefined ? {} : { status }),
      ...(response === undefined ? {} : { response }),
      ...(error === undefined ? {} : { error }),
      ...(operation === undefined ? {} : { operation }),
    })),
    () => formatBulkResults(ordered),
  );
  const refused = ordered.filter((result) => !result.ok && !result.operation && result.status).length;
  if (refused) s.note(`${refused} of ${ordered.length} nodes failed to register`);
  const unsuccessful = ordered.filter((result) => !result.ok && result.operation).length;
  if (unsuccessful) s.note(`${unsuccessful} operation(s) did not succeed`);
  if (!followed.ended) {
    s.note(`Interrupted. ${followHint(enrollment.id)}`);
    throw new ExitWith(EXIT.interrupted);
  }
  const exitCode = bulkExitCode(ordered);
  if (exitCode !== EXIT.ok) throw new ExitWith(exitCode);
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
        "Valence still manages, in one enrollment (POST /v1/nodes/register) that the service runs --concurrency " +
        "nodes at a time, followed with a progress bar on a terminal, then a table of results. One failure does not stop the others; the exit code is 0 only if every node registered. " +
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
    .option("--concurrency <count>", "bulk: nodes the service enrolls at once (1-64)", integerIn(1, 64), 4);
  addWaitOptions(command)
    .addHelpText(
      "after",
      `\nWith --manage, --inspect or --provide the register starts an operation.${WAIT_HELP_TEXT}
In bulk, the enrollment is followed (a line per node as it ends); exit 5 if any node's operation failed.`,
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

      return enrollBulk(deps, s, options, defaults);
    });
}
