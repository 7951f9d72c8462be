import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { ExpandQueryError, expandResource, parseExpand } from "./expand.ts";
import { buildInventory, defaultInventory, type InventorySpec } from "./inventory.ts";
import { type Composition, type Demand, type EmulatorMode, Pod, PodError, type PodState } from "./pod.ts";
import {
  ACCOUNTS,
  account,
  accountService,
  BLOCKS,
  blockStorage,
  capabilities,
  chassis,
  chassisPathOf,
  collection,
  compositionService,
  type DeviceKind,
  device,
  errorBody,
  hasDmtf,
  hasRsd,
  type Json,
  manager,
  node,
  nodePath,
  nodesCollection,
  ROOT,
  resourceBlock,
  SESSIONS,
  serviceRoot,
  session,
  sessionService,
  system,
  systemChassisResource,
  systemCollection,
  systemPath,
  systemStorage,
  systemStorageCollection,
  systemsCollection,
  type View,
  zone,
} from "./resources.ts";
import { type Params, type RouteRequest, Router } from "./router.ts";

const ZONES = "/redfish/v1/CompositionService/ResourceZones";

export interface EmulatorOptions {
  /** @default "127.0.0.1" */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** @default "both" */
  mode?: EmulatorMode;
  /** @default "admin" */
  username?: string;
  /** @default "admin" */
  password?: string;
  /** @default defaultInventory() */
  inventory?: InventorySpec;
  /**
   * Keep the pod's compositions in this JSON file (mode 0600), read at start and written after every change,
   * so what was composed outlives a restart (the local stack's data directory). @default in memory only
   */
  stateFile?: string;
}

/** Failure injection; tests flip these on the running emulator. */
export interface EmulatorSwitches {
  /** Composition (DMTF POST, RSD Allocate) answers 409. */
  refuseComposition: boolean;
  /** RSD Assemble answers 500 and leaves the node `Failed`; a DMTF compose answers 500 with nothing allocated. */
  failAssembly: boolean;
  /** Added before every response. */
  latencyMs: number;
  /** `false`: creating a session answers 405, so clients fall back to Basic. */
  sessionsEnabled: boolean;
  /** MACs (any case) whose EthernetInterface shows `Status.State: "Disabled"`. */
  disabledMacs: Set<string>;
  /** A PATCH of an account's `Password` answers 400 (a password policy refusing it) and changes nothing. */
  refusePasswordChange: boolean;
  /**
   * Composed systems (and their blocks and RSD nodes) list no EthernetInterfaces; each system links its own
   * chassis, whose network adapter lists the NICs as `Ports` and older `NetworkPorts`.
   */
  nicsUnderChassis: boolean;
  /** `false`: the service root advertises no `$expand`, and a GET with one answers 501, as Redfish has it. */
  expandEnabled: boolean;
}

export interface RequestRecord {
  method: string;
  /** Without the query string. */
  path: string;
  status: number;
  auth: "none" | "basic" | "session";
}

/** A composition as a test sees it. */
export interface EmulatedComposition {
  systemId: string;
  systemUri: string;
  nodeId: string;
  nodeUri: string;
  name: string;
  origin: "dmtf" | "rsd";
  nodeState: string;
  powerState: string;
  boot: { enabled: string; target: string; mode: string };
  resourceBlocks: string[];
  /** Lower-case, in the order the system lists them. */
  macs: string[];
}

export interface RedfishEmulator {
  url: string;
  mode: EmulatorMode;
  readonly switches: EmulatorSwitches;
  close(): Promise<void>;
  composedSystems(): EmulatedComposition[];
  /** Decomposes behind the client's back (by System or Node id), as another pod-manager user would. */
  decomposeOutOfBand(index: string): boolean;
  /** Every request answered, in order. */
  readonly requests: readonly RequestRecord[];
  clearRequests(): void;
  /** Ids of the open Redfish sessions. */
  sessions(): string[];
  resourceBlocks(): Array<{ id: string; kind: "compute" | "storage" | "offload"; composedInto?: string }>;
  /** Back to a fresh start: no compositions, sessions or log; default switches; the initial password. */
  reset(): void;
  /**
   * Calls `listener` after every reset action a client makes on a composed system (power on, off, restart), with
   * the system as it is afterwards: what boots next (a ramdisk agent, say) is up to the listener. Returns an
   * unsubscribe function.
   */
  onReset(listener: (system: EmulatedComposition, resetType: string) => void): () => void;
}

const defaultSwitches = (): EmulatorSwitches => ({
  refuseComposition: false,
  failAssembly: false,
  latencyMs: 0,
  sessionsEnabled: true,
  disabledMacs: new Set(),
  refusePasswordChange: false,
  nicsUnderChassis: false,
  expandEnabled: true,
});

interface Reply {
  status: number;
  body?: Json;
  headers?: Record<string, string>;
}

type Request = RouteRequest;

const MAX_BODY = 1024 * 1024;

/**
 * Starts a Redfish pod manager on a local port. Good enough for OpenStack's sushy (and so Ironic) and for
 * Valence's client: sessions or Basic, composition, power and boot — with switches to make each of them fail.
 */
export async function startRedfishEmulator(options: EmulatorOptions = {}): Promise<RedfishEmulator> {
  const mode = options.mode ?? "both";
  const username = options.username ?? "admin";
  const initialPassword = options.password ?? "admin";
  /** The one account's password: `PATCH /redfish/v1/AccountService/Accounts/1` changes it, and only it works. */
  let password = initialPassword;
  const pod = new Pod(buildInventory(options.inventory ?? defaultInventory()));
  const { stateFile } = options;
  if (stateFile && existsSync(stateFile))
    pod.restore(JSON.parse(readFileSync(stateFile, "utf8")) as PodState);
  /** Written whole, through a temporary file and a rename, so a crash never leaves half of it. */
  const save = () => {
    if (!stateFile) return;
    const temporary = `${stateFile}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(pod.snapshot()), { mode: 0o600 });
    renameSync(temporary, stateFile);
  };
  const switches = defaultSwitches();
  const sessions = new Map<string, { id: string; userName: string }>();
  const requests: RequestRecord[] = [];
  let sessionCounter = 0;

  const view = (): View => ({
    mode,
    pod,
    sessionsEnabled: switches.sessionsEnabled,
    disabledMacs: switches.disabledMacs,
    nicsUnderChassis: switches.nicsUnderChassis,
    expandEnabled: switches.expandEnabled,
  });

  function authOf(request: IncomingMessage): RequestRecord["auth"] | "invalid" {
    const token = request.headers["x-auth-token"];
    if (typeof token === "string") {
      return [...sessions.keys()].includes(token) ? "session" : "invalid";
    }
    const header = request.headers.authorization;
    if (header?.startsWith("Basic ")) {
      const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
      return decoded === `${username}:${password}` ? "basic" : "invalid";
    }
    return header ? "invalid" : "none";
  }

  /** The service root and session login are open, as Redfish requires; everything else needs credentials. */
  function isPublic(method: string, segments: string[]): boolean {
    if (method === "GET" && segments.length === 0) return true;
    return method === "POST" && segments.join("/") === "SessionService/Sessions";
  }

  async function handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const method = incoming.method ?? "GET";
    const url = new URL(incoming.url ?? "/", "http://emulator");
    const path = url.pathname;
    let auth: RequestRecord["auth"] = "none";
    let reply: Reply;
    try {
      if (switches.latencyMs > 0) await sleep(switches.latencyMs);
      const raw = await readBody(incoming);
      const found = authOf(incoming);
      if (found !== "invalid") auth = found;
      if (path === "/redfish" || path === "/redfish/") {
        reply =
          method === "GET"
            ? { status: 200, body: { v1: ROOT } }
            : fail(405, `${method} not allowed on ${path}`);
      } else if (path !== "/redfish/v1" && !path.startsWith("/redfish/v1/")) {
        reply = fail(404, `${path} is not a Redfish resource`);
      } else {
        const segments = path.slice("/redfish/v1".length).split("/").filter(Boolean).map(decodeURIComponent);
        if (!isPublic(method, segments) && (found === "invalid" || found === "none")) {
          reply = {
            status: 401,
            body: errorBody("authentication required: use a session token or Basic credentials", 401),
            headers: { "WWW-Authenticate": 'Basic realm="Redfish emulator"' },
          };
        } else {
          reply = route({ method, segments, body: parseJson(raw) });
          const expand = url.searchParams.get("$expand");
          if (expand !== null && method === "GET" && reply.status === 200 && reply.body) {
            reply = expanded(reply.body, expand);
          }
        }
      }
    } catch (error) {
      const status = error instanceof PodError ? error.status : 500;
      // sushy retries a 5xx on GET ten times, 3 s apart; a GET never answers one.
      reply = fail(
        method === "GET" && status >= 500 ? 400 : status,
        error instanceof Error ? error.message : String(error),
      );
    }
    requests.push({ method, path, status: reply.status, auth });
    if (method !== "GET") save();
    send(outgoing, reply, method);
  }

  /** A GET with `$expand`: the resource with the hyperlinks it asks for replaced by their resources. */
  function expanded(body: Json, value: string): Reply {
    if (!switches.expandEnabled) return fail(501, "$expand is not implemented by this service");
    let request: ReturnType<typeof parseExpand>;
    try {
      request = parseExpand(value);
    } catch (error) {
      if (error instanceof ExpandQueryError) return fail(400, error.message);
      throw error;
    }
    return json(
      expandResource(body, request, (path) => {
        if (!path.startsWith("/redfish/v1/")) return undefined;
        const segments = path.slice("/redfish/v1".length).split("/").filter(Boolean).map(decodeURIComponent);
        const target = route({ method: "GET", segments, body: undefined });
        return target.status === 200 ? target.body : undefined;
      }),
    );
  }

  const composed = (params: Params) => pod.bySystemId(params.id ?? "");
  /** The composed system a route's `:id` names; its `exists` check has made sure there is one. */
  const systemOf = (params: Params) => composed(params) as Composition;
  const rsdNodeOf = (params: Params) => pod.byNodeId(params.id ?? "") as Composition;
  const blockOf = (params: Params) => pod.block(params.id ?? "") as NonNullable<ReturnType<Pod["block"]>>;
  const SYSTEM_DEVICES = new Set(["Processors", "Memory", "EthernetInterfaces"]);
  const BLOCK_DEVICES = new Set(["Processors", "Memory", "EthernetInterfaces", "Drives"]);
  const dmtf = () => hasDmtf(mode);
  const rsd = () => hasRsd(mode);

  const router = new Router<Reply>({ notFound, notAllowed }).add(
    { pattern: "", GET: () => json(serviceRoot(view())) },

    // Sessions: the login is open, as Redfish requires.
    { pattern: "SessionService", GET: () => json(sessionService(view())) },
    {
      pattern: "SessionService/Sessions",
      GET: () =>
        json(
          collection(
            "SessionCollection",
            SESSIONS,
            "Session Collection",
            [...sessions.values()].map((entry) => `${SESSIONS}/${entry.id}`),
          ),
        ),
      POST: (_params, request) => login(request.body),
    },
    {
      pattern: "SessionService/Sessions/:id",
      exists: (params) => sessionToken(params.id) !== undefined,
      GET: (params) => json(session(params.id ?? "", username)),
      DELETE: (params) => {
        sessions.delete(sessionToken(params.id) as string);
        return { status: 204 };
      },
    },

    // One account, the emulator's user, as id `1`.
    { pattern: "AccountService", GET: () => json(accountService()) },
    {
      pattern: "AccountService/Accounts",
      GET: () =>
        json(collection("ManagerAccountCollection", ACCOUNTS, "Accounts Collection", [`${ACCOUNTS}/1`])),
    },
    {
      pattern: "AccountService/Accounts/:id",
      exists: (params) => params.id === "1",
      GET: (params) => json(account(params.id ?? "", username)),
      PATCH: (params, request) => changePassword(params.id ?? "", request.body),
    },

    // Systems: DMTF composition, and the ComputerSystems behind RSD nodes.
    {
      pattern: "Systems",
      GET: () => json(systemsCollection(view())),
      ...(hasDmtf(mode)
        ? { POST: (_params: Params, request: RouteRequest) => composeDmtf(request.body) }
        : {}),
    },
    { pattern: "Systems/Capabilities", enabled: dmtf, GET: () => json(capabilities("Capabilities")) },
    {
      pattern: "Systems/ConstrainedCompositionCapabilities",
      enabled: dmtf,
      GET: () => json(capabilities("ConstrainedCompositionCapabilities")),
    },
    {
      pattern: "Systems/:id",
      exists: (params) => composed(params) !== undefined,
      GET: (params) => json(system(view(), systemOf(params))),
      PATCH: (params, request) =>
        patch(systemOf(params), request.body, () => system(view(), systemOf(params))),
      ...(hasDmtf(mode)
        ? {
            DELETE: (params: Params) => {
              pod.decompose(systemOf(params));
              return { status: 204 };
            },
          }
        : {}),
    },
    {
      pattern: "Systems/:id/Actions/:action",
      exists: (params) =>
        composed(params) !== undefined &&
        (params.action === "ComputerSystem.Reset" ||
          (hasDmtf(mode) &&
            (params.action === "ComputerSystem.AddResourceBlock" ||
              params.action === "ComputerSystem.RemoveResourceBlock"))),
      POST: (params, request) => systemAction(systemOf(params), params.action ?? "", request.body),
    },
    {
      pattern: "Systems/:id/Storage",
      exists: (params) => composed(params) !== undefined,
      GET: (params) => json(systemStorageCollection(view(), systemOf(params))),
    },
    {
      pattern: "Systems/:id/Storage/:storage",
      exists: (params) => composed(params) !== undefined && params.storage === "Local",
      GET: (params) => json(systemStorage(systemOf(params))),
    },
    {
      pattern: "Systems/:id/Storage/:storage/Drives/:device",
      exists: (params) => composed(params) !== undefined && params.storage === "Local",
      GET: (params, request) => deviceReply(request, systemOf(params), "Drives", params.device ?? ""),
    },
    {
      pattern: "Systems/:id/:kind",
      exists: (params) => composed(params) !== undefined && SYSTEM_DEVICES.has(params.kind ?? ""),
      GET: (params) =>
        json(systemCollection(view(), systemOf(params), params.kind as Exclude<DeviceKind, "Drives">)),
    },
    {
      pattern: "Systems/:id/:kind/:device",
      exists: (params) => composed(params) !== undefined && SYSTEM_DEVICES.has(params.kind ?? ""),
      GET: (params, request) =>
        deviceReply(request, systemOf(params), params.kind as DeviceKind, params.device ?? ""),
    },

    // RSD composed nodes.
    { pattern: "Nodes", enabled: rsd, GET: () => json(nodesCollection(view())) },
    {
      pattern: "Nodes/Actions/Allocate",
      enabled: rsd,
      POST: (_params, request) => allocate(request.body),
    },
    {
      pattern: "Nodes/:id",
      enabled: rsd,
      exists: (params) => pod.byNodeId(params.id ?? "") !== undefined,
      GET: (params) => json(node(view(), rsdNodeOf(params))),
      PATCH: (params, request) =>
        patch(rsdNodeOf(params), request.body, () => node(view(), rsdNodeOf(params))),
      DELETE: (params) => {
        pod.decompose(rsdNodeOf(params));
        return { status: 204 };
      },
    },
    {
      pattern: "Nodes/:id/Actions/:action",
      enabled: rsd,
      exists: (params) =>
        pod.byNodeId(params.id ?? "") !== undefined &&
        (params.action === "ComposedNode.Reset" || params.action === "ComposedNode.Assemble"),
      POST: (params, request) => {
        if (params.action === "ComposedNode.Assemble") return assemble(rsdNodeOf(params));
        pod.reset(rsdNodeOf(params), String(objectBody(request.body).ResetType));
        return { status: 204 };
      },
    },

    // DMTF composition service: resource blocks and zones, read-only.
    { pattern: "CompositionService", enabled: dmtf, GET: () => json(compositionService()) },
    {
      pattern: "CompositionService/ResourceZones",
      enabled: dmtf,
      GET: () => json(collection("ZoneCollection", ZONES, "Resource Zone Collection", [`${ZONES}/1`])),
    },
    {
      pattern: "CompositionService/ResourceZones/:id",
      enabled: dmtf,
      exists: (params) => params.id === "1",
      GET: () => json(zone(view())),
    },
    {
      pattern: "CompositionService/ResourceBlocks",
      enabled: dmtf,
      GET: () =>
        json(
          collection(
            "ResourceBlockCollection",
            BLOCKS,
            "Resource Block Collection",
            pod.blocks.map((block) => `${BLOCKS}/${block.id}`),
          ),
        ),
    },
    {
      pattern: "CompositionService/ResourceBlocks/:id",
      enabled: dmtf,
      exists: (params) => pod.block(params.id ?? "") !== undefined,
      GET: (params) => json(resourceBlock(view(), blockOf(params))),
    },
    {
      pattern: "CompositionService/ResourceBlocks/:id/Storage/:storage",
      enabled: dmtf,
      exists: (params) => params.storage === "Local" && (pod.block(params.id ?? "")?.drives.length ?? 0) > 0,
      GET: (params) => json(blockStorage(blockOf(params))),
    },
    {
      pattern: "CompositionService/ResourceBlocks/:id/:kind/:device",
      enabled: dmtf,
      exists: (params) => pod.block(params.id ?? "") !== undefined && BLOCK_DEVICES.has(params.kind ?? ""),
      GET: (params, request) => {
        const path = `/redfish/v1/${request.segments.join("/")}`;
        const body = device(view(), params.kind as DeviceKind, blockOf(params), params.device ?? "", path);
        return body ? json(body) : notFound(request);
      },
    },

    // The pod manager itself, and the chassis: the pod's, and (NICs under chassis) one per composed system.
    {
      pattern: "Managers",
      GET: () =>
        json(
          collection("ManagerCollection", "/redfish/v1/Managers", "Manager Collection", [
            "/redfish/v1/Managers/PodManager",
          ]),
        ),
    },
    { pattern: "Managers/PodManager", GET: () => json(manager(view())) },
    {
      pattern: "Chassis",
      GET: () =>
        json(
          collection("ChassisCollection", "/redfish/v1/Chassis", "Chassis Collection", [
            "/redfish/v1/Chassis/Pod",
            ...ownChassis().map(chassisPathOf),
          ]),
        ),
    },
    { pattern: "Chassis/Pod", GET: () => json(chassis(view())) },
    {
      pattern: "Chassis/:id/*rest",
      exists: (params) => ownChassis().some((candidate) => candidate.systemId === params.id),
      GET: (params, request) => {
        const composition = ownChassis().find((candidate) => candidate.systemId === params.id) as Composition;
        const body = systemChassisResource(
          view(),
          composition,
          (params.rest ?? "").split("/").filter(Boolean),
        );
        return body ? json(body) : notFound(request);
      },
    },
  );

  function route(request: Request): Reply {
    return router.handle(request);
  }

  /** Composed systems with a chassis of their own: only while their NICs are listed under it. */
  function ownChassis(): Composition[] {
    return switches.nicsUnderChassis ? [...pod.compositions.values()] : [];
  }

  function sessionToken(id: string | undefined): string | undefined {
    return [...sessions.entries()].find(([, entry]) => entry.id === id)?.[0];
  }

  function login(raw: unknown): Reply {
    if (!switches.sessionsEnabled) return fail(405, "sessions are disabled on this service; use Basic");
    const { UserName, Password } = objectBody(raw);
    if (UserName !== username || Password !== password) return fail(401, "invalid user name or password");
    sessionCounter += 1;
    const token = randomBytes(16).toString("hex");
    const sessionId = String(sessionCounter);
    sessions.set(token, { id: sessionId, userName: username });
    return {
      status: 201,
      body: session(sessionId, username),
      headers: { "X-Auth-Token": token, Location: `${SESSIONS}/${sessionId}` },
    };
  }

  /**
   * The account's password can be changed; from then on only the new one opens a session or passes Basic
   * (sessions already open stay open, as on most BMCs).
   */
  function changePassword(id: string, raw: unknown): Reply {
    const body = objectBody(raw);
    const others = Object.keys(body).filter((key) => key !== "Password");
    if (others.length > 0) return fail(400, `only Password can be changed here, not ${others.join(", ")}`);
    if (typeof body.Password !== "string" || body.Password === "") {
      return fail(400, "Password must be a non-empty string");
    }
    if (switches.refusePasswordChange) return fail(400, "the password does not meet the password policy");
    password = body.Password;
    return json(account(id, username));
  }

  function systemAction(composition: Composition, action: string, raw: unknown): Reply {
    if (action === "ComputerSystem.Reset") {
      pod.reset(composition, String(objectBody(raw).ResetType));
      return { status: 204 };
    }
    // Redfish: `ResourceBlock` is a link to the block (`ResourceBlockETag`, `ComputerSystemETag` not checked).
    const target = (objectBody(raw).ResourceBlock as { "@odata.id"?: unknown } | null)?.["@odata.id"];
    if (typeof target !== "string" || !target.startsWith(`${BLOCKS}/`)) {
      return fail(400, `ResourceBlock: ${JSON.stringify(target)} is not a link to a resource block`);
    }
    const blockId = target.slice(BLOCKS.length + 1).replace(/\/$/, "");
    if (action === "ComputerSystem.AddResourceBlock") pod.addBlock(composition, blockId);
    else pod.removeBlock(composition, blockId);
    return { status: 204 };
  }

  /** A device under a system's alias path: only devices of that system's blocks exist there. */
  function deviceReply(request: Request, composition: Composition, kind: DeviceKind, id: string): Reply {
    const path = `/redfish/v1/${request.segments.join("/")}`;
    for (const block of [composition.computeBlock, ...composition.driveBlocks]) {
      const body = device(view(), kind, block, id, path);
      if (body) return json(body);
    }
    return notFound(request);
  }

  function composeDmtf(raw: unknown): Reply {
    const body = objectBody(raw);
    if (typeof body.Name !== "string" || body.Name === "") return fail(400, "Name is required on create");
    if (switches.refuseComposition) return fail(409, "composition refused: the pod is reserved");
    const description = typeof body.Description === "string" ? body.Description : undefined;
    const links = body.Links as { ResourceBlocks?: unknown } | undefined;
    let composition: Composition;
    if (links && Array.isArray(links.ResourceBlocks)) {
      const ids = links.ResourceBlocks.map((entry) => {
        const target = (entry as { "@odata.id"?: unknown } | null)?.["@odata.id"];
        if (typeof target !== "string" || !target.startsWith(`${BLOCKS}/`)) {
          throw new PodError(400, `Links.ResourceBlocks: ${JSON.stringify(target)} is not a resource block`);
        }
        return target.slice(BLOCKS.length + 1).replace(/\/$/, "");
      });
      if (switches.failAssembly)
        return fail(500, "composition failed while assembling; nothing was allocated");
      composition = pod.composeBlocks(body.Name, description, ids);
    } else if (body.Processors !== undefined || body.Memory !== undefined) {
      const demand = dmtfDemand(body);
      if (switches.failAssembly)
        return fail(500, "composition failed while assembling; nothing was allocated");
      composition = pod.composeFor("dmtf", body.Name, description, demand);
    } else {
      return fail(400, "give Links.ResourceBlocks (specific) or Processors/Memory (constrained composition)");
    }
    return { status: 201, body: system(view(), composition), headers: { Location: systemPath(composition) } };
  }

  function allocate(raw: unknown): Reply {
    const body = objectBody(raw);
    if (switches.refuseComposition) return fail(409, "allocation refused: no resources available");
    const demand: Demand = { cores: 0, memoryMiB: 0 };
    for (const processor of arrayOf(body.Processors, "Processors")) {
      demand.cores += numberOf(processor.TotalCores, "Processors[].TotalCores") ?? 0;
      if (typeof processor.Model === "string") demand.model = processor.Model;
      if (typeof processor.InstructionSet === "string") demand.instructionSet = processor.InstructionSet;
    }
    for (const memory of arrayOf(body.Memory, "Memory")) {
      demand.memoryMiB += numberOf(memory.CapacityMiB, "Memory[].CapacityMiB") ?? 0;
    }
    const drives = arrayOf(body.LocalDrives, "LocalDrives").map(
      (drive) => numberOf(drive.CapacityGiB, "LocalDrives[].CapacityGiB") ?? 0,
    );
    const name = typeof body.Name === "string" && body.Name ? body.Name : undefined;
    const description = typeof body.Description === "string" ? body.Description : undefined;
    const composition = pod.composeFor("rsd", name ?? "Composed Node", description, demand, drives);
    return { status: 201, body: node(view(), composition), headers: { Location: nodePath(composition) } };
  }

  function assemble(composition: Composition): Reply {
    if (composition.nodeState !== "Allocated") {
      return fail(
        400,
        `node ${composition.nodeId} is ${composition.nodeState}; only an Allocated node can be assembled`,
      );
    }
    if (switches.failAssembly) {
      composition.nodeState = "Failed";
      return fail(500, `assembly of node ${composition.nodeId} failed`);
    }
    composition.nodeState = "Assembled";
    return { status: 204 };
  }

  function patch(composition: Composition, raw: unknown, render: () => Json): Reply {
    const body = objectBody(raw);
    if (body.Boot !== undefined) {
      if (typeof body.Boot !== "object" || body.Boot === null)
        throw new PodError(400, "Boot must be an object");
      pod.setBoot(composition, body.Boot as Record<string, unknown>);
    }
    return json(render());
  }

  const server = createServer((incoming, outgoing) => {
    handle(incoming, outgoing).catch((error: unknown) => {
      if (!outgoing.headersSent) send(outgoing, fail(500, String(error)), "POST");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  const emulator: RedfishEmulator = {
    url: `http://${host}:${address.port}`,
    mode,
    switches,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
    composedSystems: () => [...pod.compositions.values()].map(describeComposition),
    onReset: (listener) =>
      pod.onReset((composition, type) => listener(describeComposition(composition), type)),
    decomposeOutOfBand(index) {
      const composition = pod.bySystemId(index) ?? pod.byNodeId(index);
      if (!composition) return false;
      pod.decompose(composition);
      save();
      return true;
    },
    clearRequests() {
      requests.length = 0;
    },
    sessions: () => [...sessions.values()].map((entry) => entry.id),
    resourceBlocks: () =>
      pod.blocks.map((block) => ({
        id: block.id,
        kind: block.kind,
        composedInto: pod.compositionOf(block)?.systemId,
      })),
    reset() {
      pod.clear();
      save();
      sessions.clear();
      requests.length = 0;
      sessionCounter = 0;
      password = initialPassword;
      Object.assign(switches, defaultSwitches());
    },
  };
  return emulator;
}

/** A composition as a test sees it. */
function describeComposition(composition: Composition): EmulatedComposition {
  return {
    systemId: composition.systemId,
    systemUri: systemPath(composition),
    nodeId: composition.nodeId,
    nodeUri: nodePath(composition),
    name: composition.name,
    origin: composition.origin,
    nodeState: composition.nodeState,
    powerState: composition.powerState,
    boot: { ...composition.boot },
    resourceBlocks: [composition.computeBlock, ...composition.driveBlocks].map((block) => block.id),
    macs: composition.computeBlock.nics.map((nic) => nic.spec.mac.toLowerCase()),
  };
}

function dmtfDemand(body: Record<string, unknown>): Demand {
  const demand: Demand = { cores: 0, memoryMiB: 0 };
  const members = (value: unknown, name: string) => {
    if (value === undefined) return [];
    const list = (value as { Members?: unknown } | null)?.Members;
    return arrayOf(list, `${name}.Members`);
  };
  for (const processor of members(body.Processors, "Processors")) {
    const count =
      numberOf(processor["@Redfish.RequestedCount"], "Processors.Members[].@Redfish.RequestedCount") ?? 1;
    demand.cores += count * (numberOf(processor.TotalCores, "Processors.Members[].TotalCores") ?? 0);
    if (typeof processor.Model === "string") demand.model = processor.Model;
    if (typeof processor.InstructionSet === "string") demand.instructionSet = processor.InstructionSet;
  }
  for (const memory of members(body.Memory, "Memory")) {
    const count =
      numberOf(memory["@Redfish.RequestedCount"], "Memory.Members[].@Redfish.RequestedCount") ?? 1;
    demand.memoryMiB += count * (numberOf(memory.CapacityMiB, "Memory.Members[].CapacityMiB") ?? 0);
  }
  return demand;
}

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new PodError(400, "the request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function arrayOf(value: unknown, name: string): Array<Record<string, unknown>> {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new PodError(400, `${name} must be an array`);
  return value.map((entry) => objectBody(entry));
}

function numberOf(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new PodError(400, `${name} must be a non-negative number`);
  }
  return value;
}

function parseJson(raw: string): unknown {
  if (raw.trim() === "") return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new PodError(400, "the request body is not valid JSON");
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new PodError(413, "request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function json(body: Json): Reply {
  return { status: 200, body };
}

function fail(status: number, message: string): Reply {
  return { status, body: errorBody(message, status) };
}

function notFound(request: Request): Reply {
  return fail(404, `resource /redfish/v1/${request.segments.join("/")} not found`);
}

function notAllowed(request: Request): Reply {
  return { ...fail(405, `${request.method} is not allowed on /redfish/v1/${request.segments.join("/")}`) };
}

function send(outgoing: ServerResponse, reply: Reply, method: string): void {
  const headers: Record<string, string> = {
    "OData-Version": "4.0",
    "Cache-Control": "no-cache",
    ...reply.headers,
  };
  if (reply.body === undefined || reply.status === 204) {
    outgoing.writeHead(reply.status, headers).end();
    return;
  }
  const text = JSON.stringify(reply.body);
  headers["Content-Type"] = "application/json; charset=utf-8";
  // An ETag for clients that send If-Match on PATCH (sushy does); the emulator accepts any If-Match.
  if (method === "GET" && reply.status === 200) {
    headers.ETag = `W/"${createHash("sha1").update(text).digest("hex").slice(0, 16)}"`;
  }
  outgoing.writeHead(reply.status, headers).end(text);
}
