import { type Command, Option } from "commander";
import { MAX_PAGE_SIZE, NodeActionBody, RESET_TYPES } from "../../lib/nodes/schemas.ts";
import { formatIssue } from "../../lib/validation.ts";
import { collect, integerIn, nodePath, resolvePodManager } from "../args.ts";
import { type CliDependencies, session } from "../context.ts";
import { ApiError, UsageError } from "../errors.ts";
import { formatDetail, formatList, HISTORY_COLUMNS, NODE_COLUMNS } from "../output.ts";
import { addWaitOptions, type LifecycleOptions, runLifecycleCommand, WAIT_HELP_TEXT } from "./operations.ts";

type Json = Record<string, unknown>;

/** Boot targets operators type; the API's schema decides what is valid. */
const BOOT_TARGETS = ["Pxe", "Hdd", "None", "Cd", "Usb", "BiosSetup", "UefiShell"];

function canonical(value: string, choices: readonly string[]): string {
  return choices.find((choice) => choice.toLowerCase() === value.toLowerCase()) ?? value;
}

/** The action body, checked with the route's own schema so a typo is a usage error naming the choices. */
export function actionBody(action: string, value: string, options: { once?: boolean; continuous?: boolean }) {
  let body: unknown;
  switch (action.toLowerCase()) {
    case "reset":
      body = { Reset: { Type: canonical(value, RESET_TYPES) } };
      break;
    case "boot":
      body = {
        Boot: { Enabled: options.continuous ? "Continuous" : "Once", Target: canonical(value, BOOT_TARGETS) },
      };
      break;
    default:
      throw new UsageError(`node-action: unknown action "${action}": use reset or boot`);
  }
  const parsed = NodeActionBody.safeParse(body);
  if (!parsed.success) {
    throw new UsageError(
      `node-action: ${parsed.error.issues.map((issue) => formatIssue(issue, body)).join("; ")}`,
    );
  }
  return body;
}

export function addNodeCommands(program: Command, deps: CliDependencies): void {
  program
    .command("node-show")
    .summary("Show a node")
    .description(
      "Show a node by name or uuid. --refresh also reads its live state from Ironic (when registered).",
    )
    .argument("<node>", "node name or uuid")
    .option(
      "--refresh",
      "also show Ironic's live state (provision_state, power_state, maintenance, last_error)",
    )
    .action(async (node: string, options: { refresh?: boolean }, command: Command) => {
      await session(deps, command).show("GET", nodePath(node), {
        query: { refresh: options.refresh ? "true" : undefined },
      });
    });

  program
    .command("node-list")
    .summary("List nodes")
    .description(
      "List nodes, all of them (following the API's pages) unless --limit. Filters combine: e.g. the nodes of one " +
        "pod manager that Ironic does not manage yet.",
    )
    .addOption(new Option("--managed-by <manager>", "only nodes managed by").choices(["ironic", "valence"]))
    .option("--podm <podm>", "only nodes of this pod manager (name or uuid)")
    .option("--name <name>", "only the node with this name")
    .option("--limit <count>", `at most this many nodes (1-${MAX_PAGE_SIZE})`, integerIn(1, MAX_PAGE_SIZE))
    .action(
      async (
        options: { managedBy?: string; podm?: string; name?: string; limit?: number },
        command: Command,
      ) => {
        const s = session(deps, command);
        const query = {
          managed_by: options.managedBy,
          podm_id: options.podm ? await resolvePodManager(s.client, options.podm) : undefined,
          name: options.name,
          limit: options.limit,
        };
        const { items, more } = await s.client.listAll<Json>("/v1/nodes", query, options.limit);
        s.print(items, () => formatList(items, NODE_COLUMNS));
        if (more) s.note(`more nodes remain: raise --limit, or omit it to list all`);
      },
    );

  program
    .command("node-history")
    .summary("Show a node's history")
    .description(
      "A node's audit trail, newest first: registers, unregisters, and what the reconciler settled.",
    )
    .argument("<node>", "node name or uuid")
    .option("--limit <count>", `at most this many events (1-${MAX_PAGE_SIZE})`, integerIn(1, MAX_PAGE_SIZE))
    .action(async (node: string, options: { limit?: number }, command: Command) => {
      const s = session(deps, command);
      try {
        const { items, more } = await s.client.listAll<Json>(
          nodePath(node, "/history"),
          { limit: options.limit },
          options.limit,
        );
        s.print(items, () => formatList(items, HISTORY_COLUMNS));
        if (more) s.note("more events remain: raise --limit, or omit it to list all");
      } catch (error) {
        // A 404 that is not about the node is the route itself missing: an older server.
        if (error instanceof ApiError && error.status === 404 && error.code !== "NodeNotFound") {
          throw new ApiError(
            404,
            error.body,
            error.code,
            `Not Found: this Valence API has no GET /v1/nodes/{id}/history route (an older server?) — ${error.message}`,
          );
        }
        throw error;
      }
    });

  program
    .command("node-compose")
    .summary("Compose a node on a pod manager")
    .description(
      "Ask a pod manager to compose a system and keep it as a node managed by Valence. Without --resource-block, " +
        "the pod manager picks blocks that meet --memory-mib, --cores and --processor-model.",
    )
    .requiredOption("--name <name>", "node name (letters, digits and -._~)")
    .requiredOption("--podm <podm>", "pod manager (name or uuid)")
    .option("--description <text>", "free text")
    .option("--memory-mib <mib>", "memory the system needs, in MiB", integerIn(1, Number.MAX_SAFE_INTEGER))
    .option("--cores <count>", "CPU cores the system needs", integerIn(1, Number.MAX_SAFE_INTEGER))
    .option("--processor-model <model>", "processor model, as the pod manager names it (needs --cores)")
    .option("--resource-block <path>", "Redfish path of a resource block to use (repeatable)", collect)
    .action(
      async (
        options: {
          name: string;
          podm: string;
          description?: string;
          memoryMib?: number;
          cores?: number;
          processorModel?: string;
          resourceBlock?: string[];
        },
        command: Command,
      ) => {
        if (options.processorModel && options.cores === undefined)
          throw new UsageError("node-compose: --processor-model needs --cores");
        const s = session(deps, command);
        const properties = {
          ...(options.memoryMib === undefined ? {} : { memory: { capacity_mib: options.memoryMib } }),
          ...(options.cores === undefined
            ? {}
            : {
                processor: {
                  total_cores: options.cores,
                  ...(options.processorModel ? { model: options.processorModel } : {}),
                },
              }),
        };
        const body = {
          name: options.name,
          podm_id: await resolvePodManager(s.client, options.podm),
          ...(options.description === undefined ? {} : { description: options.description }),
          ...(Object.keys(properties).length ? { properties } : {}),
          ...(options.resourceBlock ? { resource_blocks: options.resourceBlock } : {}),
        };
        const { body: node } = await s.client.call<Json>("POST", "/v1/nodes", { body });
        s.print(node, () => formatDetail(node));
      },
    );

  const manage = program
    .command("node-manage")
    .summary("Manage a composed system (podm and index), or make a registered node manageable in Ironic")
    .description(
      "Two commands in one, told apart by their arguments:\n\n" +
        "  node-manage <podm> <index> [--name <name>]\n" +
        "    manage, as a node, a system the pod manager composed outside Valence\n" +
        "  node-manage <node> [--no-wait] [--wait-timeout <seconds>]\n" +
        "    Ironic's manage on a registered node (Ironic verifies the BMC): an operation",
    )
    .argument("<podm|node>", "pod manager (name or uuid) with <index>; alone, a registered node")
    .argument("[index]", "the system's id at the pod manager (Redfish Id)")
    .option("--name <name>", "with <podm> <index>: node name (default: the system's id)");
  addWaitOptions(manage)
    .addHelpText("after", `\nnode-manage <node>:${WAIT_HELP_TEXT}`)
    .action(
      async (
        target: string,
        index: string | undefined,
        options: { name?: string } & LifecycleOptions,
        command: Command,
      ) => {
        if (index === undefined) {
          if (options.name !== undefined)
            throw new UsageError("node-manage: --name goes with <podm> <index> (managing a composed system)");
          return runLifecycleCommand(deps, command, target, "manage", options);
        }
        if (!options.wait || options.waitTimeout !== undefined)
          throw new UsageError(
            "node-manage: --no-wait and --wait-timeout go with <node> alone (Ironic's manage), not <podm> <index>",
          );
        const s = session(deps, command);
        const body = {
          podm_id: await resolvePodManager(s.client, target),
          node_index: index,
          ...(options.name ? { name: options.name } : {}),
        };
        const { body: node } = await s.client.call<Json>("POST", "/v1/nodes/manage", { body });
        s.print(node, () => formatDetail(node));
      },
    );

  program
    .command("node-delete")
    .summary("Decompose a node and forget it")
    .description(
      "Give the node's system back to its pod manager and forget the node. Refused while Ironic manages it.",
    )
    .argument("<node>", "node name or uuid")
    .action(async (node: string, _options: unknown, command: Command) => {
      const s = session(deps, command);
      await s.client.call("DELETE", nodePath(node));
      s.say(`Node ${node} deleted.`);
    });

  program
    .command("node-action")
    .summary("Reset a node or set its boot source")
    .description(
      `Reset a node's system, or set the source of its next (or every) boot. Refused while Ironic manages the node.\n\n` +
        `  reset <type>   ${RESET_TYPES.join(", ")}\n` +
        `  boot <target>  Pxe, Hdd, None (and Cd, Usb, BiosSetup, UefiShell where the system has them)`,
    )
    .argument("<node>", "node name or uuid")
    .argument("<action>", "reset or boot")
    .argument("<value>", "the reset type, or the boot target")
    .addOption(new Option("--once", "boot: only the next boot (default)").conflicts("continuous"))
    .addOption(new Option("--continuous", "boot: every boot"))
    .action(
      async (
        node: string,
        action: string,
        value: string,
        options: { once?: boolean; continuous?: boolean },
        command: Command,
      ) => {
        const body = actionBody(action, value, options);
        const s = session(deps, command);
        await s.client.call("POST", nodePath(node, "/action"), { body });
        s.say(`${action.toLowerCase() === "reset" ? "Reset" : "Boot override"} sent to node ${node}.`);
      },
    );

  program
    .command("node-unregister")
    .summary("Remove a node from Ironic")
    .description(
      "Delete the node (and its ports) from Ironic; the node goes back to Valence. A node that is active or has " +
        "an instance is refused unless --force.",
    )
    .argument("<node>", "node name or uuid")
    .option("--force", "also unregister an active node or one with an instance (maintenance on, then delete)")
    .action(async (node: string, options: { force?: boolean }, command: Command) => {
      await session(deps, command).show("POST", nodePath(node, "/unregister"), {
        body: { force: Boolean(options.force) },
      });
    });
}
