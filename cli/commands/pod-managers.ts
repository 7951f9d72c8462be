import { type Command, Option } from "commander";
import { resolvePodManager } from "../args.ts";
import { type CliDependencies, type Session, session } from "../context.ts";
import { UsageError } from "../errors.ts";
import { followHint, type OperationView } from "../operations.ts";
import { formatDetail, formatList, POD_MANAGER_COLUMNS } from "../output.ts";
import { exitUnless, waitForOperation } from "./operations.ts";

type Json = Record<string, unknown>;
const DRIVERS = ["redfish", "rsd", "redfishv1"];

const PASSWORD_IN_ARGV =
  "a password given as --password <value> is visible in the process list and kept in shell history; " +
  "prefer VALENCE_PODM_PASSWORD or the prompt";

const PASSWORD_HELP =
  "read the pod manager's password from VALENCE_PODM_PASSWORD, else ask for it (hidden) on a terminal; " +
  "avoid --password <value>: it shows in ps and shell history";

const PASSWORD_NOTE = `
The password: set VALENCE_PODM_PASSWORD, or run on a terminal and type it at the hidden prompt. A value after
--password is accepted but warned about: command lines are visible in the process list and kept in shell history.`;

/**
 * The password from `VALENCE_PODM_PASSWORD` or a hidden prompt on a terminal. `--password <value>` still works
 * (scripts written for it keep running) but is warned about: argv is visible to every user of the machine (`ps`,
 * /proc) and lands in shell history. The password is only ever sent in the request body: never printed, never
 * in an error message.
 */
async function password(
  deps: CliDependencies,
  given: string | boolean | undefined,
  command: string,
): Promise<string> {
  if (typeof given === "string" && given !== "") {
    deps.io.stderr.write(`${command}: warning: ${PASSWORD_IN_ARGV}\n`);
    return given;
  }
  if (deps.config.podmPassword) return deps.config.podmPassword;
  if (deps.io.stdinIsTTY) {
    const typed = await deps.io.prompt("Pod manager password: ");
    if (typed) return typed;
  }
  throw new UsageError(
    `${command}: a password is needed: set VALENCE_PODM_PASSWORD, or run on a terminal to be asked for it`,
  );
}

function authentication(username: string, secret: string) {
  return [{ type: "basic", auth_items: { username, password: secret } }];
}

/** The pod manager's Ironic placement defaults, as flags: `--conductor-group` for `conductor_group`, and so on. */
const PLACEMENT_FLAGS = [
  ["conductor_group", "the Ironic conductor group that reaches this pod's BMC network (API 1.46)"],
  ["shard", "the Ironic shard (API 1.82)"],
  ["owner", "the Ironic node owner, a project (API 1.50)"],
  ["lessee", "the Ironic node lessee, a project (API 1.65)"],
  ["resource_class", "the default resource class of its nodes"],
  ["boot_interface", "e.g. redfish-virtual-media or pxe, among those Ironic enables"],
  ["deploy_interface", "e.g. direct or ramdisk, among those Ironic enables"],
] as const;
type PlacementFlag = (typeof PLACEMENT_FLAGS)[number][0] | "automated_clean";
const PLACEMENT_NAMES: readonly PlacementFlag[] = [
  ...PLACEMENT_FLAGS.map(([field]) => field),
  "automated_clean",
];

const flagOf = (field: string) => `--${field.replaceAll("_", "-")}`;
const optionKey = (field: string) => field.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

function withPlacementFlags(command: Command): Command {
  for (const [field, help] of PLACEMENT_FLAGS) command.option(`${flagOf(field)} <value>`, help);
  return command
    .option("--automated-clean", "Ironic cleans its nodes on provide (API 1.47)")
    .option("--no-automated-clean", "Ironic does not clean its nodes on provide");
}

/** The placement fields the flags set; with `unset`, those named there are cleared (`null`). */
function placementBody(options: Record<string, unknown>, unset: readonly string[] = []): Json {
  const body: Json = {};
  for (const field of PLACEMENT_NAMES) {
    const value = options[optionKey(field)];
    if (value !== undefined) body[field] = value;
  }
  for (const field of unset) {
    if (!(PLACEMENT_NAMES as readonly string[]).includes(field))
      throw new UsageError(`--unset ${field}: not a placement field (${PLACEMENT_NAMES.join(", ")})`);
    if (field in body) throw new UsageError(`--unset ${field}: also given a value`);
    body[field] = null;
  }
  return body;
}

export function addPodManagerCommands(program: Command, deps: CliDependencies): void {
  /** A command on one pod manager, given by name or uuid: `run` gets its API path. */
  const onePodManager = (
    name: string,
    summary: string,
    description: string,
    run: (s: Session, path: string, podm: string) => Promise<void>,
  ): void => {
    program
      .command(name)
      .summary(summary)
      .description(description)
      .argument("<podm>", "pod manager (name or uuid)")
      .action(async (podm: string, _options: unknown, command: Command) => {
        const s = session(deps, command);
        await run(s, `/v1/pod_managers/${await resolvePodManager(s.client, podm)}`, podm);
      });
  };

  const create = program
    .command("podmanager-create")
    .summary("Add a pod manager")
    .description(
      "Add a Redfish pod manager. The password goes to Valence's secret store and is never shown again.",
    )
    .requiredOption("--name <name>", "unique name")
    .requiredOption("--url <url>", "the Redfish service's base URL, e.g. https://192.0.2.10:8443")
    .addOption(
      new Option("--driver <driver>", "redfish (DMTF composition) or rsd (Intel RSD 2.x)").choices(DRIVERS),
    )
    .requiredOption("--username <username>", "the pod manager's user")
    .option("--password [password]", PASSWORD_HELP)
    .option("--no-verify-ca", "do not verify the pod manager's TLS certificate");
  withPlacementFlags(create)
    .addHelpText("after", PASSWORD_NOTE)
    .action(
      async (
        options: {
          name: string;
          url: string;
          driver?: string;
          username: string;
          password?: string | boolean;
          verifyCa: boolean;
        } & Record<string, unknown>,
        command: Command,
      ) => {
        const secret = await password(deps, options.password, "podmanager-create");
        await session(deps, command).show("POST", "/v1/pod_managers", {
          body: {
            name: options.name,
            url: options.url,
            ...(options.driver ? { driver: options.driver } : {}),
            verify_ca: options.verifyCa,
            authentication: authentication(options.username, secret),
            ...placementBody(options),
          },
        });
      },
    );

  program
    .command("podmanager-list")
    .summary("List pod managers")
    .description("List pod managers (passwords are shown as ***).")
    .action(async (_options: unknown, command: Command) => {
      const s = session(deps, command);
      const { body } = await s.client.call<Json[]>("GET", "/v1/pod_managers");
      s.print(body, () => formatList(body, POD_MANAGER_COLUMNS));
    });

  onePodManager(
    "podmanager-show",
    "Show a pod manager",
    "Show a pod manager; Valence probes it first, so status says whether it answers now.",
    (s, path) => s.show("GET", path),
  );

  const update = program
    .command("podmanager-update")
    .summary("Update a pod manager")
    .description(
      "Change a pod manager's name, url, driver, TLS verification or credentials; what is not given keeps its value. " +
        "--password alone keeps the username. A new --url or --driver, or --no-verify-ca, needs the password again " +
        "(Valence never sends stored credentials to another address or over unchecked TLS), asked for as " +
        "--password does.",
    )
    .argument("<podm>", "pod manager (name or uuid)")
    .option("--name <name>", "new name")
    .option("--url <url>", "new base URL")
    .addOption(new Option("--driver <driver>", "redfish or rsd").choices(DRIVERS))
    .option("--username <username>", "new user (asks for the password as --password does)")
    .option("--password [password]", PASSWORD_HELP)
    .option("--verify-ca", "verify the pod manager's TLS certificate")
    .option("--no-verify-ca", "do not verify it")
    .option("--no-wait", "return once the re-sync of its Ironic nodes started, without following it")
    .option(
      "--unset <field>",
      "clear a placement default (conductor_group, shard, owner, ...); repeatable",
      (value: string, previous: string[] = []) => [...previous, value],
    );
  withPlacementFlags(update)
    .addHelpText("after", PASSWORD_NOTE)
    .addHelpText(
      "after",
      "\nNew credentials or a new url, driver or TLS check are carried into every node of the pod manager registered " +
        "in Ironic by a resync operation, followed until it ends (exit 5 when a node did not follow).",
    )
    .action(
      async (
        podm: string,
        options: {
          name?: string;
          url?: string;
          driver?: string;
          username?: string;
          password?: string | boolean;
          verifyCa?: boolean;
          wait: boolean;
          unset?: string[];
        } & Record<string, unknown>,
        command: Command,
      ) => {
        const s = session(deps, command);
        const id = await resolvePodManager(s.client, podm);
        // The API wants the credentials again with a new url or driver, or with TLS checks turned off: ask now
        // rather than fail with a 400.
        const changesCredentials =
          options.username !== undefined ||
          options.password !== undefined ||
          options.url !== undefined ||
          options.driver !== undefined ||
          options.verifyCa === false;
        let auth: ReturnType<typeof authentication> | undefined;
        if (changesCredentials) {
          const secret = await password(deps, options.password, "podmanager-update");
          let username = options.username;
          if (username === undefined) {
            const { body: current } = await s.client.call<{
              authentication: { auth_items: { username: string } }[];
            }>("GET", `/v1/pod_managers/${id}`);
            username = current.authentication[0]?.auth_items.username ?? "";
          }
          auth = authentication(username, secret);
        }
        const body = {
          ...(options.name === undefined ? {} : { name: options.name }),
          ...(options.url === undefined ? {} : { url: options.url }),
          ...(options.driver === undefined ? {} : { driver: options.driver }),
          ...(options.verifyCa === undefined ? {} : { verify_ca: options.verifyCa }),
          ...(auth ? { authentication: auth } : {}),
          ...placementBody(options, options.unset),
        };
        if (Object.keys(body).length === 0)
          throw new UsageError("podmanager-update: nothing to change; see --help");
        const {
          status,
          body: updated,
          headers,
        } = await s.client.call<Json & { operation?: OperationView }>("PATCH", `/v1/pod_managers/${id}`, {
          body,
        });
        const { operation, ...podManager } = updated;
        s.print(updated, () => formatDetail(podManager));
        if (status !== 202 || !operation) return;
        // The pod manager's registered nodes follow in a `resync` operation: followed unless --no-wait.
        if (!options.wait) {
          s.note(`re-syncing its Ironic nodes: operation ${operation.id}. ${followHint(operation.id)}`);
          return;
        }
        exitUnless(await waitForOperation(deps, s, { operation, headers }), "succeeded");
      },
    );

  onePodManager(
    "podmanager-delete",
    "Remove a pod manager",
    "Forget a pod manager and delete its secret. Refused while it still has nodes.",
    async (s, path, podm) => {
      await s.client.call("DELETE", path);
      s.say(`Pod manager ${podm} deleted.`);
    },
  );
}
