/**
 * An HTTP proxy that fails on command: put it between Valence and Ironic, a pod manager or DynamoDB, and make
 * one chosen request (method + path pattern + nth occurrence, optionally a predicate on headers or body) fail
 * the way real services and networks fail. Everything else passes through untouched.
 */
import {
  createServer,
  request as forwardRequest,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** What happens to a request a rule catches. */
export type Fault =
  /** The proxy answers (the body may echo the request); the upstream never sees the request. */
  | {
      type: "status";
      status: number;
      body?: string | ((request: ProxiedRequest) => string);
      headers?: Record<string, string>;
    }
  /** Forwarded, and the upstream's answer body rewritten: an upstream that says something else than usual. */
  | { type: "rewrite"; transform: (body: string, request: ProxiedRequest) => string }
  /** The connection is cut before anything reaches the upstream. */
  | { type: "reset" }
  /** Held for `ms`, then forwarded: a slow upstream that does the work after the caller gave up. */
  | { type: "delay"; ms: number }
  /** Forwarded; the upstream's answer is thrown away and `answer` is sent instead: done, but the caller cannot know. */
  | { type: "after"; answer: Extract<Fault, { type: "status" | "reset" }> }
  /** Held until the rule is released; a process-death test kills the caller meanwhile. */
  | { type: "hold" };

/** A request as rules see it. */
export interface ProxiedRequest {
  method: string;
  /** Path with its query string, as sent. */
  url: string;
  /** Path without the query string. */
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface FaultRule {
  /** HTTP method, any case. @default any */
  method?: string;
  /** A string matches the path exactly (without the query); a RegExp is tested against path and query. */
  path: string | RegExp;
  /** Further condition, e.g. on a header or the body. */
  when?: (request: ProxiedRequest) => boolean;
  /** The first matching request that fails (1-based); earlier ones pass. @default 1 */
  nth?: number;
  /** How many matching requests fail from the nth on. @default 1; `Infinity` fails every one */
  times?: number;
  fault: Fault;
  /** Shown in the exchange log. */
  label?: string;
}

export interface ArmedRule {
  readonly rule: FaultRule;
  /** Matching requests seen so far. */
  readonly matched: number;
  /** Requests this rule failed so far. */
  readonly fired: number;
  /** Resolves with the first request the rule fails. */
  readonly firstFired: Promise<ProxiedRequest>;
  /**
   * For `hold`: let the held requests go on. `forward: true` sends them to the upstream and resolves with its
   * status once it answered (the caller, if still alive, never gets that answer); `false` drops them.
   */
  release(options: { forward: boolean }): Promise<number[]>;
}

export interface Exchange {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  /** What the caller got: a status, `reset`, or nothing (`dropped`: held, then cut); `pending` until then. */
  outcome: number | "reset" | "dropped" | "pending";
  /** The status the upstream answered, when the request reached it. */
  upstreamStatus?: number;
  fault?: string;
  ms: number;
}

export interface FaultProxy {
  url: string;
  /** Arms a rule; rules are tried in the order they were armed. */
  inject(rule: FaultRule): ArmedRule;
  /** Disarms every rule (held requests are dropped). */
  clear(): void;
  /** Every request seen, in order. */
  readonly exchanges: readonly Exchange[];
  /** Number of requests seen so far, optionally only those matching `filter`. */
  count(filter?: (exchange: Exchange) => boolean): number;
  /** Calls `listener` with every upstream answer the proxy receives (e.g. to learn the uuid Ironic gave). */
  observe(listener: (request: ProxiedRequest, answer: { status: number; body: string }) => void): void;
  /** Resolves once no request is in progress (held ones excepted): delayed requests have landed. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface Held {
  request: ProxiedRequest;
  release: (forward: boolean) => Promise<number | undefined>;
}

interface RuleState extends ArmedRule {
  matched: number;
  fired: number;
  held: Held[];
  resolveFirst: (request: ProxiedRequest) => void;
}

/** Ironic's error body: a JSON string inside `error_message`, as its API (WSME) writes it. */
export function ironicErrorBody(faultstring: string, faultcode: "Client" | "Server" = "Client"): string {
  return JSON.stringify({ error_message: JSON.stringify({ faultstring, faultcode, debuginfo: null }) });
}

/** Ready-made faults with the bodies the real services send. */
export const faults = {
  /** Ironic's 500; `echo` is appended to its text, as Ironic quotes what it failed on (driver_info too). */
  ironicServerError(echo = ""): Fault {
    return {
      type: "status",
      status: 500,
      body: ironicErrorBody(`Unexpected error while processing the request.${echo}`, "Server"),
      headers: { "content-type": "application/json" },
    };
  },
  ironicUnavailable(): Fault {
    return {
      type: "status",
      status: 503,
      body: ironicErrorBody("Service temporarily unavailable.", "Server"),
      headers: { "content-type": "application/json" },
    };
  },
  ironicNodeLocked(node = "the node"): Fault {
    return {
      type: "status",
      status: 409,
      body: ironicErrorBody(
        `Node ${node} is locked by host localhost, please retry after the current operation is completed.`,
      ),
      headers: { "content-type": "application/json" },
    };
  },
  /** A Redfish service's 500, with its `error` body. */
  redfishServerError(): Fault {
    return {
      type: "status",
      status: 500,
      body: JSON.stringify({
        error: { code: "Base.1.0.InternalError", message: "The request failed due to an internal error." },
      }),
      headers: { "content-type": "application/json" },
    };
  },
  /** DynamoDB's 500 (the SDK retries it, then gives up). */
  dynamoInternalError(): Fault {
    return {
      type: "status",
      status: 500,
      body: JSON.stringify({
        __type: "com.amazonaws.dynamodb.v20120810#InternalServerError",
        message: "Internal server error",
      }),
      headers: { "content-type": "application/x-amz-json-1.0" },
    };
  },
  status(status: number, body: string | ((request: ProxiedRequest) => string) = ""): Fault {
    return { type: "status", status, body };
  },
  reset(): Fault {
    return { type: "reset" };
  },
  delay(ms: number): Fault {
    return { type: "delay", ms };
  },
  /** Forwarded, then the answer is lost to a 500. */
  afterThen500(): Fault {
    return { type: "after", answer: { type: "status", status: 500, body: "" } };
  },
  /** Forwarded, then the connection is cut before the answer. */
  afterThenReset(): Fault {
    return { type: "after", answer: { type: "reset" } };
  },
  hold(): Fault {
    return { type: "hold" };
  },
};

function describeFault(fault: Fault): string {
  switch (fault.type) {
    case "status":
      return `status ${fault.status}`;
    case "delay":
      return `delay ${fault.ms} ms`;
    case "after":
      return `forward, then ${describeFault(fault.answer)}`;
    default:
      return fault.type;
  }
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts a fault proxy in front of `target` (`http://host:port`). */
export async function startFaultProxy(options: { target: string; host?: string }): Promise<FaultProxy> {
  const target = new URL(options.target);
  const rules: RuleState[] = [];
  const exchanges: Exchange[] = [];
  const sockets = new Set<Socket>();
  const listeners: Array<(request: ProxiedRequest, answer: { status: number; body: string }) => void> = [];
  let inFlight = 0;
  let idleWaiters: Array<() => void> = [];
  const settle = () => {
    if (inFlight > 0) return;
    for (const wake of idleWaiters) wake();
    idleWaiters = [];
  };

  /** Sends the request upstream; resolves with the upstream's answer. */
  async function upstream(
    incoming: IncomingMessage,
    body: Buffer,
    request: ProxiedRequest,
  ): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> {
    const answer = await send(incoming, body);
    const text = answer.body.toString("utf8");
    for (const listener of listeners) listener(request, { status: answer.status, body: text });
    return answer;
  }

  function send(
    incoming: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | string[] | undefined> = {
        ...incoming.headers,
        host: target.host,
      };
      delete headers.connection;
      delete headers["keep-alive"];
      const outgoing = forwardRequest(
        {
          host: target.hostname,
          port: target.port,
          method: incoming.method,
          path: incoming.url,
          headers,
          agent: false,
        },
        (response) => {
          readAll(response).then(
            (data) => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: data }),
            reject,
          );
        },
      );
      outgoing.once("error", reject);
      outgoing.end(body);
    });
  }

  function reply(
    response: ServerResponse,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer | string,
  ) {
    if (response.destroyed || response.headersSent) return;
    const clean: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      if (["connection", "keep-alive", "transfer-encoding", "content-length"].includes(name)) continue;
      clean[name] = value;
    }
    response.writeHead(status, clean);
    response.end(body);
  }

  function cut(response: ServerResponse) {
    response.socket?.destroy();
  }

  function pick(request: ProxiedRequest): RuleState | undefined {
    for (const rule of rules) {
      const { method, path, when } = rule.rule;
      if (method && method.toUpperCase() !== request.method) continue;
      if (typeof path === "string" ? path !== request.path : !path.test(request.url)) continue;
      if (when && !when(request)) continue;
      rule.matched++;
      const nth = rule.rule.nth ?? 1;
      const times = rule.rule.times ?? 1;
      if (rule.matched >= nth && rule.matched < nth + times) return rule;
    }
    return undefined;
  }

  /** Answers one request; resolves when the caller got its answer (or was cut, or the request is held). */
  async function handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = Date.now();
    const body = await readAll(incoming);
    const url = incoming.url ?? "/";
    const request: ProxiedRequest = {
      method: (incoming.method ?? "GET").toUpperCase(),
      url,
      path: url.split("?")[0] ?? url,
      headers: incoming.headers,
      body: body.toString("utf8"),
    };
    const exchange: Exchange = {
      method: request.method,
      url,
      headers: incoming.headers,
      outcome: "pending",
      ms: 0,
    };
    exchanges.push(exchange);
    const done = (outcome: Exchange["outcome"]) => {
      exchange.outcome = outcome;
      exchange.ms = Date.now() - started;
    };
    const pass = async () => {
      try {
        const answer = await upstream(incoming, body, request);
        exchange.upstreamStatus = answer.status;
        reply(response, answer.status, answer.headers, answer.body);
        done(answer.status);
      } catch {
        cut(response);
        done("reset");
      }
    };

    const rule = pick(request);
    if (!rule) return pass();
    rule.fired++;
    rule.resolveFirst(request);
    const fault = rule.rule.fault;
    exchange.fault = rule.rule.label ?? describeFault(fault);
    switch (fault.type) {
      case "status": {
        const text = typeof fault.body === "function" ? fault.body(request) : (fault.body ?? "");
        reply(response, fault.status, fault.headers ?? {}, text);
        return done(fault.status);
      }
      case "rewrite":
        try {
          const answer = await upstream(incoming, body, request);
          exchange.upstreamStatus = answer.status;
          const text = fault.transform(answer.body.toString("utf8"), request);
          reply(response, answer.status, answer.headers, text);
          return done(answer.status);
        } catch {
          cut(response);
          return done("reset");
        }
      case "reset":
        cut(response);
        return done("reset");
      case "delay":
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        return pass();
      case "after": {
        try {
          exchange.upstreamStatus = (await upstream(incoming, body, request)).status;
        } catch {
          // The upstream failed too: the caller's fault stands.
        }
        if (fault.answer.type === "reset") {
          cut(response);
          return done("reset");
        }
        const text =
          typeof fault.answer.body === "function" ? fault.answer.body(request) : (fault.answer.body ?? "");
        reply(response, fault.answer.status, fault.answer.headers ?? {}, text);
        return done(fault.answer.status);
      }
      case "hold":
        rule.held.push({
          request,
          release: async (forward) => {
            let status: number | undefined;
            if (forward) {
              inFlight++;
              try {
                status = (await upstream(incoming, body, request)).status;
                exchange.upstreamStatus = status;
              } catch {
                // The upstream failed: nothing happened there.
              } finally {
                inFlight--;
                settle();
              }
            }
            // Whoever sent it is gone (killed) or must not learn the outcome: cut.
            cut(response);
            done("dropped");
            return status;
          },
        });
        return;
    }
  }

  const server = createServer((incoming, response) => {
    inFlight++;
    handle(incoming, response)
      .catch(() => cut(response))
      .finally(() => {
        inFlight--;
        settle();
      });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  // A caller that cuts its own connection (a timeout, a killed process) is no error of the proxy's.
  server.on("clientError", (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;

  const dropHeld = () => {
    for (const rule of rules) for (const held of rule.held.splice(0)) void held.release(false);
  };

  return {
    url: `http://${address.address}:${address.port}`,
    exchanges,
    inject(rule) {
      let resolveFirst: (request: ProxiedRequest) => void = () => undefined;
      const firstFired = new Promise<ProxiedRequest>((resolve) => {
        resolveFirst = resolve;
      });
      firstFired.catch(() => undefined);
      const state: RuleState = {
        rule,
        matched: 0,
        fired: 0,
        held: [],
        firstFired,
        resolveFirst,
        release: async ({ forward }) => {
          const held = state.held.splice(0);
          const statuses = await Promise.all(held.map((h) => h.release(forward)));
          return statuses.filter((s): s is number => s !== undefined);
        },
      };
      rules.push(state);
      return state;
    },
    clear() {
      dropHeld();
      rules.splice(0);
    },
    observe(listener) {
      listeners.push(listener);
    },
    idle() {
      if (inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    count(filter) {
      return filter ? exchanges.filter(filter).length : exchanges.length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropHeld();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
