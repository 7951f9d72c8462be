/**
 * Real Ironic (and Keystone) for integration tests: `useIronic()` in a test file starts one before its tests and
 * stops it after. Each start takes a few seconds, so start once per file and share it between tests.
 */
import { afterAll, beforeAll } from "vitest";
import { freePort, type IronicService, type StartIronicOptions, startIronic } from "../../local/ironic.ts";
import {
  type IronicServiceUser,
  type KeystoneService,
  registerIronicInKeystone,
  type StartKeystoneOptions,
  startKeystone,
} from "../../local/keystone.ts";

/** A value set by `beforeAll`; reading it earlier is a test bug, said plainly. */
function lazy<T>(what: string): { get(): T; set(value: T): void; peek(): T | undefined } {
  let value: T | undefined;
  return {
    get: () => {
      if (value === undefined) throw new Error(`${what} is not started yet: use it inside a test or hook`);
      return value;
    },
    set: (next) => {
      value = next;
    },
    peek: () => value,
  };
}

export interface IronicFixture {
  readonly ironic: IronicService;
  readonly url: string;
}

/** Start Ironic for this test file (beforeAll) and stop it afterwards (afterAll). */
export function useIronic(options: StartIronicOptions = {}): IronicFixture {
  const ironic = lazy<IronicService>("Ironic");
  beforeAll(async () => {
    ironic.set(await startIronic(options));
  });
  afterAll(async () => {
    await ironic.peek()?.stop();
  });
  return {
    get ironic() {
      return ironic.get();
    },
    get url() {
      return ironic.get().url;
    },
  };
}

export interface KeystoneIronic {
  keystone: KeystoneService;
  ironic: IronicService;
  /** Ironic's service user: role admin on project `service`; good for driver tests too. */
  serviceUser: IronicServiceUser;
  stop(): Promise<void>;
}

/** Keystone, then Ironic with `auth_strategy = keystone`, registered in Keystone's catalog. */
export async function startKeystoneIronic(
  options: {
    keystone?: StartKeystoneOptions;
    ironic?: Omit<StartIronicOptions, "auth" | "keystone" | "port">;
  } = {},
): Promise<KeystoneIronic> {
  const keystone = await startKeystone(options.keystone);
  try {
    const port = await freePort();
    const serviceUser = await registerIronicInKeystone(keystone, { ironicUrl: `http://127.0.0.1:${port}` });
    const ironic = await startIronic({
      ...options.ironic,
      port,
      auth: "keystone",
      keystone: { url: keystone.url, username: serviceUser.username, password: serviceUser.password },
    });
    return {
      keystone,
      ironic,
      serviceUser,
      stop: async () => {
        await ironic.stop();
        await keystone.stop();
      },
    };
  } catch (error) {
    await keystone.stop();
    throw error;
  }
}

/** `startKeystoneIronic` for this test file (beforeAll/afterAll). */
export function useKeystoneIronic(options: Parameters<typeof startKeystoneIronic>[0] = {}): KeystoneIronic {
  const stack = lazy<KeystoneIronic>("Keystone and Ironic");
  beforeAll(async () => {
    stack.set(await startKeystoneIronic(options));
  });
  afterAll(async () => {
    await stack.peek()?.stop();
  });
  return {
    get keystone() {
      return stack.get().keystone;
    },
    get ironic() {
      return stack.get().ironic;
    },
    get serviceUser() {
      return stack.get().serviceUser;
    },
    stop: () => stack.get().stop(),
  };
}

// ---- fakes for unit tests (no network)

export interface RecordedRequest {
  method: string;
  url: URL;
  headers: Headers;
  /** Parsed JSON body, if any. */
  body: unknown;
}

export type FakeFetch = typeof fetch & { calls: RecordedRequest[] };

/** A `fetch` answering from `handler` and recording every request. Throw from `handler` to fake a network error. */
export function fakeFetch(handler: (request: RecordedRequest) => Response | Promise<Response>): FakeFetch {
  const calls: RecordedRequest[] = [];
  const fake = async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const request: RecordedRequest = {
      method: init?.method ?? "GET",
      url,
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    };
    calls.push(request);
    return handler(request);
  };
  return Object.assign(fake as typeof fetch, { calls });
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/** Ironic's error body: a JSON string inside `error_message`. */
export function ironicFault(
  status: number,
  faultstring: string,
  headers: Record<string, string> = {},
): Response {
  const inner = JSON.stringify({
    faultcode: status < 500 ? "Client" : "Server",
    faultstring,
    debuginfo: null,
  });
  return jsonResponse(status, { error_message: inner }, headers);
}

/** `GET /` of an Ironic speaking `min`..`max`. */
export function ironicRoot(max = "1.82", min = "1.1"): Response {
  const version = { id: "v1", status: "CURRENT", min_version: min, version: max, links: [] };
  return jsonResponse(200, { name: "OpenStack Ironic API", default_version: version, versions: [version] });
}

/** A node as Ironic 1.82 shows it. */
export function ironicNode(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uuid: "1be26c0b-03f2-4d2e-ae87-c02d7f33c123",
    name: "node-1",
    driver: "fake-hardware",
    provision_state: "enroll",
    target_provision_state: null,
    power_state: null,
    target_power_state: null,
    maintenance: false,
    maintenance_reason: null,
    last_error: null,
    driver_info: {},
    properties: {},
    extra: {},
    instance_uuid: null,
    resource_class: null,
    network_interface: "noop",
    created_at: "2026-01-01T00:00:00+00:00",
    updated_at: null,
    links: [],
    ...overrides,
  };
}

/** A network failure as Node's fetch reports it (`TypeError: fetch failed`, cause with a code). */
export function connectionRefused(): TypeError {
  const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6385"), { code: "ECONNREFUSED" });
  return new TypeError("fetch failed", { cause });
}
