import type { Command } from "commander";
import { ValenceClient } from "./client.ts";
import type { CliConfig } from "./config.ts";
import { UsageError } from "./errors.ts";
import { formatDetail, formatJson, type OutputFormat, type Writer } from "./output.ts";
import { apiGatewayRegion, type SigningCredentials, signRequest } from "./sigv4.ts";

export interface CliIo {
  stdout: Writer & { isTTY?: boolean };
  stderr: Writer & { isTTY?: boolean };
  stdinIsTTY: boolean;
  /** Asks for a secret on the terminal (only called when `stdinIsTTY`). */
  prompt(question: string): Promise<string>;
  readFile(path: string): Promise<string>;
  /**
   * Calls `listener` on Ctrl-C (SIGINT) until the returned function is called; while one is registered, Ctrl-C
   * does not end the process by itself. Absent: Ctrl-C cannot be caught (nothing to register).
   */
  onInterrupt?(listener: () => void): () => void;
}

/** What commands need from outside: configuration, I/O, and the network and credentials (tests replace them). */
export interface CliDependencies {
  config: CliConfig;
  io: CliIo;
  fetch?: typeof fetch;
  /** AWS credentials for SigV4. @default the standard provider chain */
  credentials: () => Promise<SigningCredentials>;
  /** Waits between looks at an operation. @default a timer */
  sleep?: (ms: number) => Promise<void>;
}

export interface GlobalOptions {
  url?: string;
  sigv4?: boolean;
  region?: string;
  format: OutputFormat;
}

/** One command's view: its client (signing when it must) and how to print. */
export interface Session {
  client: ValenceClient;
  format: OutputFormat;
  /** Whether requests are signed with SigV4, and for which region. */
  signing?: { region: string };
  /** Prints the API's JSON as is with `-f json`, else what `table` renders. */
  print(body: unknown, table: () => string): void;
  /** Calls the API and prints the one resource it answers (Field | Value in table mode). */
  show(method: string, path: string, request?: Parameters<ValenceClient["call"]>[2]): Promise<void>;
  /** A message for people: in table mode only, so `-f json` output stays parseable. */
  say(text: string): void;
  /** Notes that are not results (e.g. "more nodes remain"): stderr, in both modes. */
  note(text: string): void;
}

/** Commands whose own `--url` is Valence's (on `podmanager-create`/`-update`, `--url` is the pod manager's). */
export const VALENCE_URL_COMMANDS = new WeakSet<Command>();

/**
 * The connection and output options, given before the command (`valence -f json node-list`) or after it
 * (`valence node-list -f json`); after wins.
 */
export function connectionOptions(command: Command): GlobalOptions {
  const root = (command.parent?.opts() ?? {}) as Partial<GlobalOptions>;
  const own = command.opts() as Partial<GlobalOptions>;
  const url = (VALENCE_URL_COMMANDS.has(command) ? own.url : undefined) ?? root.url;
  const region = own.region ?? root.region;
  return {
    ...(url === undefined ? {} : { url }),
    ...(region === undefined ? {} : { region }),
    sigv4: Boolean(own.sigv4 || root.sigv4),
    format: own.format ?? root.format ?? "table",
  };
}

export function session(deps: CliDependencies, command: Command): Session {
  const globals = connectionOptions(command);
  const url = globals.url ?? deps.config.url;
  let signing: { region: string } | undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    // The client reports the bad URL as a usage error.
  }
  const gatewayRegion = parsed ? apiGatewayRegion(parsed) : undefined;
  if (globals.sigv4 || gatewayRegion) {
    const region = globals.region ?? gatewayRegion ?? deps.config.awsRegion;
    if (!region) throw new UsageError("--sigv4: no region to sign for: pass --region or set AWS_REGION");
    signing = { region };
  }
  let credentials: Promise<SigningCredentials> | undefined;
  const client = new ValenceClient(url, {
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(signing
      ? {
          sign: async (request) => {
            credentials ??= deps.credentials();
            return signRequest(request, {
              region: (signing as { region: string }).region,
              credentials: await credentials,
            });
          },
        }
      : {}),
  });
  const { stdout, stderr } = deps.io;
  const print = (body: unknown, table: () => string) => {
    stdout.write(globals.format === "json" ? formatJson(body) : table());
  };
  return {
    client,
    format: globals.format,
    ...(signing ? { signing } : {}),
    print,
    async show(method, path, request) {
      const { body } = await client.call<Record<string, unknown>>(method, path, request);
      print(body, () => formatDetail(body));
    },
    say(text) {
      if (globals.format !== "json") stdout.write(`${text}\n`);
    },
    note(text) {
      stderr.write(`${text}\n`);
    },
  };
}
