/**
 * Structured JSON logs, one line per entry, in the shape of Powertools' logger (`level`, `message`, `timestamp`,
 * `service`, `xray_trace_id`, then the appended keys and the entry's fields). Our own ~1 KB instead of
 * Powertools' 20 KB: every function bundles it, and bundle size is cold-start time.
 *
 * Never pass a request body or a credential to it: bodies of pod-manager and register requests may hold
 * passwords.
 */

import { logLevelSettings, traceHeader } from "./config.ts";

const LEVELS = { DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20 } as const;
export type LogLevel = keyof typeof LEVELS;
export type LogFields = Record<string, unknown>;

function levelOf(value: string | undefined): LogLevel | undefined {
  const upper = value?.toUpperCase();
  return upper !== undefined && upper in LEVELS ? (upper as LogLevel) : undefined;
}

/** Errors as name, message and stack (JSON.stringify would give `{}`); bigints as text; cycles cut. */
function replacer(): (key: string, value: unknown) => unknown {
  const seen = new WeakSet<object>();
  return (_key, value) => {
    if (typeof value === "bigint") return value.toString();
    if (typeof value !== "object" || value === null) return value;
    if (seen.has(value)) return "[Circular]";
    seen.add(value);
    if (value instanceof Error) {
      return {
        name: value.name,
        message: value.message,
        stack: value.stack,
        ...(value.cause === undefined ? {} : { cause: value.cause }),
      };
    }
    return value;
  };
}

export class Logger {
  private level: LogLevel;
  private keys: LogFields = {};

  constructor(private readonly service: string) {
    // Same precedence as Powertools: its own variable, then Lambda's log-level control, then LOG_LEVEL.
    this.level =
      logLevelSettings()
        .map(levelOf)
        .find((level) => level !== undefined) ?? "INFO";
  }

  debug(message: string, fields?: LogFields): void {
    this.write("DEBUG", message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.write("INFO", message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.write("WARN", message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.write("ERROR", message, fields);
  }

  /** Keys on every following entry until `resetKeys` (e.g. the request id). */
  appendKeys(keys: LogFields): void {
    Object.assign(this.keys, keys);
  }

  resetKeys(): void {
    this.keys = {};
  }

  /** Case-insensitive; an unknown level is ignored. */
  setLogLevel(level: string): void {
    this.level = levelOf(level) ?? this.level;
  }

  getLevelName(): LogLevel {
    return this.level;
  }

  private write(level: LogLevel, message: string, fields?: LogFields): void {
    if (LEVELS[level] < LEVELS[this.level]) return;
    const traceId = traceHeader()?.match(/Root=([^;]+)/)?.[1];
    const entry = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: this.service,
      ...(traceId ? { xray_trace_id: traceId } : {}),
      ...this.keys,
      ...fields,
    };
    const line = `${JSON.stringify(entry, replacer())}\n`;
    // Looked up at each call, not kept: tests (and Lambda's runtime) replace the streams' write.
    if (level === "WARN" || level === "ERROR") process.stderr.write(line);
    else process.stdout.write(line);
  }
}

export const logger = new Logger("valence");
