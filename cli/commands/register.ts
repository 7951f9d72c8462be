import { type Command, Option } from "commander";
import { MAX_WAIT_SECONDS } from "../../lib/nodes/schemas.ts";
import { integerIn, nodePath, resolvePodManager } from "../args.ts";
import {
  type BulkItem,
  type BulkResult,
  bulkExitCode,
  createProgress,
  formatBulkResults,
  parseBulkFile,
  runWithConcurrency,
} from "../bulk.ts";
import type { ValenceClient } from "../client.ts";
import { type CliDependencies, type Session, session } from "../context.ts";
import { ApiError, EXIT, ExitWith, exitCodeOf, UsageError } from "../errors.ts";
import { formatDetail } from "../output.ts";

interface RegisterOptions {
  manage?: boolean;
  provide?: boolean;
  resourceClass?: string;
  waitTimeout?: number;
  bootMac?: string;
  ports?: "all" | "boot";
  file?: string;
  all?: boolean;
  podm?: string;
  concurrency: number;
}

/** The register body from the flags: only what was given, so the API's defaults stay the API's. */
export function registerBody(options: Omit<RegisterOptions, "concurrency">): Record<string, unknown> {
  return {
    ...(options.resourceClass === undefined ? {} : { resource_class: options.resourceClass }),
    ...(options.ports === undefined ? {} : { ports: options.ports }),
    ...(options.bootMac === undefined ? {} : { boot_mac: options.bootMac }),
    ...(options.manage ? { manage: true } : {}),
    ...(options.provide ? { provide: true } : {}),
    ...(options.waitTimeout === undefined ? {} : { wait_timeout: options.waitTimeout }),
  };
}

/** One register; never throws — a failure is this node's result, not the batch's end. */
export async function registerOne(client: ValenceClient, item: BulkItem): Promise<BulkResult> {
  try {
    const response = await client.call("POST", nodePath(item.node, "/register"), { body: item.options });
    return { node: item.node, ok: true, status: response.status, response: response.body, exitCode: EXIT.ok };
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

export function addRegisterCommand(program: Command, deps: CliDependencies): void {
  program
    .command("node-register")
    .summary("Register nodes in Ironic (one, a file of them, or all of a pod manager's)")
    .description(
      "Register a composed node in Ironic: the redfish driver with the pod manager's credentials, and one port per " +
        "enabled NIC. --manage and --provide move it on to manageable and available, waiting for Ironic.\n\n" +
        "Bulk: --file registers the nodes a YAML or JSON file lists, --all --podm every node of a pod manager that " +
        "Valence still manages; --concurrency at a time, with a progress bar on a terminal, then a table of " +
        "results. One failure does not stop the others; the exit code is 0 only if every node registered. " +
        "The flags apply to every node; a file's per-node fields override them.",
    )
    .argument("[node]", "node name or uuid (omit with --file or --all)")
    .option("--manage", "move the Ironic node to manageable (Ironic verifies the BMC)")
    .option("--provide", "move it on to available (implies the manage step)")
    .option("--resource-class <class>", "Ironic resource_class (default: the service's, baremetal)")
    .option(
      "--wait-timeout <seconds>",
      `seconds to wait for each provision state (1-${MAX_WAIT_SECONDS}; API default 300)`,
      integerIn(1, MAX_WAIT_SECONDS),
    )
    .option("--boot-mac <mac>", "the NIC to PXE boot from (default: the first enabled NIC)")
    .addOption(
      new Option("--ports <ports>", "ports to create: all enabled NICs, or only the boot NIC").choices([
        "all",
        "boot",
      ]),
    )
    .option("--file <path>", "bulk: register the nodes listed in this YAML/JSON file")
    .option("--all", "bulk: register every node of --podm that Valence manages (not yet in Ironic)")
    .option("--podm <podm>", "with --all: the pod manager (name or uuid)")
    .option("--concurrency <count>", "bulk: registers running at once (1-64)", integerIn(1, 64), 4)
    .addHelpText(
      "after",
      `
Examples:
  valence node-register test-node --manage --provide
  valence node-register --file nodes.yaml --concurrency 8
  valence node-register --all --podm podm1 --resource-class gold -f json

A bulk file lists node names or uuids, or objects with "node" and any register body field
(resource_class, properties, driver_info, ports, boot_mac, manage, provide, wait_timeout):
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
      const s = session(deps, command);
      const defaults = registerBody(options);

      if (node !== undefined) {
        const { body } = await s.client.call<Record<string, unknown>>("POST", nodePath(node, "/register"), {
          body: defaults,
        });
        s.print(body, () => formatDetail(body));
        return;
      }

      const items = await bulkItems(s, deps, options, defaults);
      if (items.length === 0) {
        s.note("no nodes to register");
        s.print([], () => "");
        return;
      }
      const progress = createProgress(items.length, deps.io.stderr);
      const results = await runWithConcurrency(
        items,
        options.concurrency,
        (item) => registerOne(s.client, item),
        (result) => progress.settled(result),
      );
      progress.stop();
      s.print(
        results.map(({ node: name, ok, status, response, error }) => ({
          node: name,
          ok,
          ...(status === undefined ? {} : { status }),
          ...(response === undefined ? {} : { response }),
          ...(error === undefined ? {} : { error }),
        })),
        () => formatBulkResults(results),
      );
      const failed = results.filter((result) => !result.ok).length;
      if (failed) s.note(`${failed} of ${results.length} nodes failed to register`);
      const exitCode = bulkExitCode(results);
      if (exitCode !== EXIT.ok) throw new ExitWith(exitCode);
    });
}
