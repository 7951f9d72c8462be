import { Command, Option } from "commander";
import packageJson from "../package.json" with { type: "json" };
import { addNodeCommands } from "./commands/nodes.ts";
import { addOperationCommands } from "./commands/operations.ts";
import { addPodManagerCommands } from "./commands/pod-managers.ts";
import { addRegisterCommand } from "./commands/register.ts";
import { DEFAULT_URL } from "./config.ts";
import { type CliDependencies, VALENCE_URL_COMMANDS } from "./context.ts";

const URL_HELP = `the Valence API (default: $VALENCE_URL, else ${DEFAULT_URL})`;
const SIGV4_HELP =
  "sign requests with AWS SigV4 (automatic for https://<id>.execute-api.<region>.amazonaws.com)";
const REGION_HELP = "AWS region to sign for (default: the URL's, else $AWS_REGION)";

function formatOption() {
  return new Option("-f, --format <format>", "output: a table, or the API's JSON as is").choices([
    "table",
    "json",
  ]);
}

/** Every command also takes the connection and output options after its name, as OpenStack's clients do. */
function addConnectionOptions(command: Command): void {
  command.addOption(formatOption());
  if (!command.options.some((option) => option.long === "--url")) {
    command.option("--url <url>", URL_HELP);
    VALENCE_URL_COMMANDS.add(command);
  } else {
    command.addHelpText(
      "after",
      "\nHere --url is the pod manager's. Valence's URL goes before the command (valence --url <url> " +
        `${command.name()} ...) or in VALENCE_URL.`,
    );
  }
  command.option("--sigv4", SIGV4_HELP).option("--region <region>", REGION_HELP);
}

const ROOT_HELP = `
Register a node in Ironic and take it back (the Valence register flow), on the local stack
(npm start adds the demo nodes test-node and test-node-2):
  valence node-register test-node
  valence node-show test-node
  valence node-unregister test-node

Register it and wait while Ironic verifies, cleans and makes it available, each step shown as it goes
(--no-wait returns at once with the operation to follow):
  valence node-register test-node --manage --provide
  valence operation-list test-node
  valence operation-show <id> --wait

Environment:
  VALENCE_URL             the Valence API (default ${DEFAULT_URL})
  VALENCE_PODM_PASSWORD   pod-manager password for podmanager-create/-update (safer than
                          --password <value>, which shows in ps and shell history)
  AWS_REGION              region to sign for when the URL does not name one
  AWS_ACCESS_KEY_ID, AWS_PROFILE, ...  credentials for SigV4 (the standard AWS chain)

Exit codes:
  0  success
  2  usage error (bad arguments, unreadable bulk file)
  3  the API refused the request (4xx)
  4  the API failed (5xx), or could not be reached
  5  an operation the command waited for failed or was cancelled
     (operation-cancel: the operation ended otherwise than cancelled)
  130  Ctrl-C while waiting for an operation (the operation goes on)

Run "valence <command> --help" for a command's options.`;

/** The `valence` command line. Pure: everything outside (I/O, network, credentials) comes in `deps`. */
export function buildProgram(deps: CliDependencies): Command {
  const program = new Command("valence")
    .description(
      "Valence's command line: compose nodes on Redfish pod managers and register them into OpenStack Ironic.",
    )
    .version(packageJson.version, "-v, --version")
    .enablePositionalOptions()
    .addOption(formatOption().default("table"))
    .option("--url <url>", URL_HELP)
    .option("--sigv4", SIGV4_HELP)
    .option("--region <region>", REGION_HELP)
    .addHelpText("after", ROOT_HELP)
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (text) => deps.io.stdout.write(text),
      writeErr: (text) => deps.io.stderr.write(text),
    })
    .exitOverride();

  addRegisterCommand(program, deps);
  addNodeCommands(program, deps);
  addOperationCommands(program, deps);
  addPodManagerCommands(program, deps);
  for (const command of program.commands) {
    addConnectionOptions(command);
    command.showHelpAfterError("(run with --help for usage)");
  }
  return program;
}
