import { freePort, type RunningProcess, spawnUntil } from "./processes.ts";
import { watchChildApi } from "./request-limits.ts";

export interface NpmStart {
  /** `http://127.0.0.1:<port>` of the API. */
  base: string;
  process: RunningProcess;
  /** What `npm start` printed as its Ironic: a URL, or "as configured (...)". */
  ironic: string;
  /** The embedded dynalite's endpoint, from the "local stack up" log line. */
  dynamoEndpoint: string;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * The environment a user's shell would hand `npm start`: this process's, minus anything that configures
 * Valence, Ironic or OpenStack (the test says what it wants), plus `env`.
 */
export function userEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(VALENCE_|IRONIC_|OS_|DYNAMODB_|POWERTOOLS_|LOG_LEVEL$)/.test(name),
    ),
  );
  return { ...clean, VALENCE_RECONCILE_SECONDS: "0", POWERTOOLS_LOG_LEVEL: "INFO", ...env };
}

/**
 * `npm start`'s entry (`local/start.ts`) as a child process, as a user runs it, with its own data directory and
 * free ports; resolves once the API listens.
 */
export async function startNpmStart(options: {
  dataDir: string;
  env?: Record<string, string>;
  apiPort?: number;
  emulatorPort?: number;
  /** In a process group of its own, so that `process.crash()` kills it with its Ironic. */
  group?: boolean;
}): Promise<NpmStart> {
  const apiPort = options.apiPort ?? (await freePort());
  const emulatorPort = options.emulatorPort ?? (await freePort());
  const running = await spawnUntil("node_modules/.bin/tsx", ["local/start.ts"], {
    env: userEnvironment({
      VALENCE_DATA_DIR: options.dataDir,
      VALENCE_API_PORT: String(apiPort),
      VALENCE_EMULATOR_PORT: String(emulatorPort),
      ...options.env,
    }),
    ready: /listening on http:\/\/127\.0\.0\.1:\d+/,
    timeoutMs: 120_000,
    ...(options.group ? { group: true } : {}),
  });
  const output = running.output();
  watchChildApi(`npm start on port ${apiPort}`, () => running.output());
  return {
    base: `http://127.0.0.1:${apiPort}`,
    process: running,
    ironic: /Ironic on (.+)/.exec(output)?.[1] ?? "",
    dynamoEndpoint: /"dynamodb":"([^"]+)"/.exec(output)?.[1] ?? "",
    output: () => running.output(),
    stop: (signal) => running.stop(signal),
  };
}

/** A JSON call to the API; the body parsed when there is one. */
export async function callApi(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, text, body: parsed };
}
