/**
 * Exit codes are part of the CLI's contract: scripts tell a mistake in the command (2) from a refusal by the API
 * (3), from a failure of the service or the network (4), and from an operation that ran but did not succeed (5).
 */
export const EXIT = {
  ok: 0,
  /** Bad arguments or options, an unreadable bulk file. */
  usage: 2,
  /** The API answered 4xx. */
  clientError: 3,
  /** The API answered 5xx, or could not be reached. */
  serverError: 4,
  /**
   * An operation the command waited for ended `failed` or `cancelled` (for `operation-cancel`: ended otherwise
   * than `cancelled`). The request itself was accepted.
   */
  operationFailed: 5,
  /** Ctrl-C while the command waited for an operation: the operation goes on (128 + SIGINT, as shells report). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A mistake in the command line: exit 2 before anything is sent. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The API answered an error. `message` is Valence's `title: detail`. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    /** The body as the API sent it (Valence's error body, or whatever a gateway answered). */
    readonly body: unknown,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** No HTTP answer at all: connection refused, DNS, TLS, timeout. */
export class UnreachableError extends Error {
  override readonly name = "UnreachableError";
}

/** Ends the command with this code; what to say was said already (e.g. a bulk register's result table). */
export class ExitWith extends Error {
  override readonly name = "ExitWith";
  constructor(readonly exitCode: ExitCode) {
    super(`exit ${exitCode}`);
  }
}

export function exitCodeForStatus(status: number): ExitCode {
  return status >= 500 ? EXIT.serverError : EXIT.clientError;
}

/** The exit code an error ends the CLI with. Anything unexpected counts as a failure on our side (4). */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof ExitWith) return error.exitCode;
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof ApiError) return exitCodeForStatus(error.status);
  return EXIT.serverError;
}

/** `Conflict: node n1 is managed by Ironic; ...` from Valence's body; a readable line from anything else. */
export function describeErrorBody(
  status: number,
  body: unknown,
  text: string,
): { code?: string; message: string } {
  if (body && typeof body === "object") {
    const fields = body as Record<string, unknown>;
    if (typeof fields.title === "string" && typeof fields.detail === "string") {
      return {
        ...(typeof fields.code === "string" ? { code: fields.code } : {}),
        message: `${fields.title}: ${fields.detail}`,
      };
    }
    // API Gateway's own refusals (e.g. a bad signature) answer `{"message": "..."}`.
    if (typeof fields.message === "string") return { message: `HTTP ${status}: ${fields.message}` };
  }
  const snippet = text.trim().slice(0, 200);
  return { message: snippet ? `HTTP ${status}: ${snippet}` : `HTTP ${status}` };
}
