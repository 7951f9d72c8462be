import { ROUTES, routeKey } from "../lib/api/routes.ts";

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

/** The request an error answered: to name the route a refusal was about. */
export interface RequestSent {
  readonly method: string;
  /** The path below the API's base URL (`/v1/nodes/n1`), without the query. */
  readonly path: string;
  /** Whether it was signed with SigV4. */
  readonly signed: boolean;
}

/** The route template (`GET /v1/nodes/{id}`) a request's path falls on, from the route table. */
export function routeOfRequest(method: string, path: string): string | undefined {
  const segments = path.split("/");
  const matches = ROUTES.filter((route) => {
    const template = route.path.split("/");
    return (
      route.method === method &&
      template.length === segments.length &&
      template.every((part, index) => /^\{[^}]+\}$/.test(part) || part === segments[index])
    );
  });
  // A literal segment wins over a parameter (`POST /v1/nodes/manage` is not a node called "manage").
  const params = (template: string) => template.split("{").length;
  matches.sort((a, b) => params(a.path) - params(b.path));
  return matches[0] ? routeKey(matches[0]) : undefined;
}

const IAM_DENIAL =
  /^User: (\S+) is not authorized to perform: (\S+) on resource: (\S+)( with an explicit deny)?/;

/**
 * API Gateway's refusal of a caller IAM does not allow on the route: `{"Message": "User: <arn> is not authorized
 * to perform: execute-api:Invoke on resource: <arn>"}`, or the bare `{"message": "Forbidden"}` an IAM-authorized
 * HTTP API answers. Names the permission and the route, and the stack's policies that grant it.
 */
function describeIamRefusal(body: Record<string, unknown>, request: RequestSent | undefined) {
  const said = typeof body.Message === "string" ? body.Message : body.message;
  if (typeof said !== "string") return undefined;
  const denial = IAM_DENIAL.exec(said.trim());
  if (!denial && said.trim() !== "Forbidden") return undefined;
  const [, principal, action = "execute-api:Invoke", resource, explicit] = denial ?? [];
  const asked = request ? `${request.method} ${request.path}` : undefined;
  const route = request ? routeOfRequest(request.method, request.path) : undefined;
  const target = route ? `route ${route}${asked ? ` (${asked})` : ""}` : asked ? `${asked}` : "this route";
  const who = principal ? principal : "the signing AWS identity";
  const lines = [`Forbidden: ${who} may not call ${target}: it lacks IAM permission ${action}`];
  if (resource) lines[0] += ` on ${resource}`;
  if (explicit) {
    lines.push(
      "An explicit Deny in one of its policies refuses it: attaching another policy does not override it.",
    );
  } else {
    lines.push(
      "Attach the stack's caller policy to that identity (role, user or group): the reader policy (GET routes, " +
        "output ReaderPolicyArn) or the operator policy (every route, output OperatorPolicyArn); see infra/DEPLOY.md.",
    );
  }
  if (request && !request.signed) {
    lines.push("The request was not signed: API Gateway needs SigV4 (pass --sigv4 and --region).");
  }
  return { code: "Forbidden", message: lines.join("\n") };
}

/** `Conflict: node n1 is managed by Ironic; ...` from Valence's body; a readable line from anything else. */
export function describeErrorBody(
  status: number,
  body: unknown,
  text: string,
  request?: RequestSent,
): { code?: string; message: string } {
  if (body && typeof body === "object") {
    const fields = body as Record<string, unknown>;
    if (typeof fields.title === "string" && typeof fields.detail === "string") {
      return {
        ...(typeof fields.code === "string" ? { code: fields.code } : {}),
        message: `${fields.title}: ${fields.detail}`,
      };
    }
    if (status === 403) {
      const refusal = describeIamRefusal(fields, request);
      if (refusal) return refusal;
    }
    // API Gateway's own refusals (e.g. a bad signature) answer `{"message": "..."}`.
    if (typeof fields.message === "string") return { message: `HTTP ${status}: ${fields.message}` };
  }
  const snippet = text.trim().slice(0, 200);
  return { message: snippet ? `HTTP ${status}: ${snippet}` : `HTTP ${status}` };
}
