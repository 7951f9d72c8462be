/**
 * What each route takes and answers, for the API reference. Request schemas are the very ones the handlers
 * validate with (imported, never restated); response schemas come from `./responses.ts`. `lib/api/openapi.ts`
 * turns ROUTES + this contract into the OpenAPI document; a unit test fails when a route has no entry here.
 *
 * Nothing here runs in a Lambda: `GET /v1/openapi.json` serves the generated `docs/api-ref/openapi.json`.
 */
import type * as z from "zod/mini";
import {
  ComposeNodeBody,
  GetNodeQuery,
  HistoryQuery,
  ListNodesQuery,
  MAX_PAGE_SIZE,
  MAX_WAIT_SECONDS,
  ManageNodeBody,
  NodeActionBody,
  RegisterNodeBody,
  RegisterNodeQuery,
  UnregisterNodeBody,
} from "../nodes/schemas.ts";
import {
  EnrollNodesBody,
  LifecycleActionBody,
  OPERATION_RETRY_AFTER_SECONDS,
  OperationIdParams,
  OperationListQuery,
} from "../operations/schemas.ts";
import { CreatePodManagerBody, UpdatePodManagerBody } from "../podmanagers/schemas.ts";
import { NodeIdParams, NoQuery, UuidParams } from "./common.ts";
import {
  HistoryEventList,
  NodeList,
  NodeView,
  OpenApiDocumentSchema,
  OperationList,
  OperationView,
  PodManagerList,
  PodManagerResyncView,
  PodManagerView,
  RegisterAcceptedView,
  RegisterNodeResponse,
  RootDocumentSchema,
  ShownNodeView,
  UnregisterAcceptedView,
  V1DocumentSchema,
} from "./responses.ts";

export type ApiTag = "versions" | "pod managers" | "nodes" | "operations";

export interface ResponseContract {
  readonly description: string;
  /** The JSON body; omitted for responses without one (204). */
  readonly schema?: z.ZodMiniType;
  /** Response headers worth documenting besides `X-Request-Id` (which every response has). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A request as the reference shows it in its curl example; also checked against the schemas by a unit test. */
export interface RequestExample {
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

export interface RouteContract {
  readonly tag: ApiTag;
  /** Longer than the route's summary: what an operator needs to know to call it. */
  readonly description: string;
  /** The handler's `params` schema (path `{...}` segments). */
  readonly params?: z.ZodMiniType;
  /** The handler's `query` schema. */
  readonly query?: z.ZodMiniType;
  /** The handler's `body` schema. */
  readonly body?: z.ZodMiniType;
  /** Descriptions of params, query and body fields by dotted path (`properties.cpus`, `authentication[].type`). */
  readonly fields?: Readonly<Record<string, string>>;
  /** Success responses by status. */
  readonly responses: Readonly<Record<number, ResponseContract>>;
  /**
   * Error responses (Valence's error body) by status, each with when it happens. 400 and 500 apply to every
   * route and are added by the document builder unless given here.
   */
  readonly errors: Readonly<Record<number, string>>;
  readonly example: RequestExample;
  /**
   * For a handler that serves several routes (`start-node-operation`): the example of a route whose request
   * differs from `example`, by the route's path.
   */
  readonly routeExamples?: Readonly<Record<string, RequestExample>>;
}

const EXAMPLE_PODM = "6f1a9c2e-4b7d-4e8a-9c3f-2d5e7a1b8c40";

const NODE_ID = { id: "The node's uuid or name." };
const PODM_ID = { id: "The pod manager's uuid." };

/**
 * The Ironic placement fields, named as Ironic names them: a pod manager's defaults for its nodes, which a register
 * body overrides per node.
 */
const PLACEMENT_FIELD_DOCS = {
  conductor_group:
    "Ironic `conductor_group`: the conductors that can reach the pod's BMC network (Ironic API ≥ 1.46). Letters, " +
    "digits, `_ - .`, at most 255; kept lower-cased, as Ironic keeps it. A group no Ironic conductor serves for " +
    "`redfish` is refused (400 `IronicConductorGroupNotServed`, naming the served groups; from API 1.49).",
  shard: "Ironic `shard` (API ≥ 1.82), at most 255.",
  owner: "Ironic `owner`, the project that owns the node (API ≥ 1.50), at most 255.",
  lessee: "Ironic `lessee`, the project the node is leased to (API ≥ 1.65), at most 255.",
  automated_clean: "Ironic `automated_clean` of the node: `false` skips automated cleaning (API ≥ 1.47).",
  resource_class:
    "Ironic `resource_class` (API ≥ 1.21), at most 80; set neither on the pod manager nor on the register, the " +
    "service's (`VALENCE_RESOURCE_CLASS`, `baremetal`).",
  boot_interface:
    "Ironic `boot_interface`, e.g. `redfish-virtual-media` or `ipxe` (API ≥ 1.31): one Ironic has enabled for " +
    "the `redfish` hardware type (400 `IronicInterfaceNotEnabled` otherwise, naming the enabled ones).",
  deploy_interface:
    "Ironic `deploy_interface`, e.g. `direct` or `ramdisk` (API ≥ 1.31): one Ironic has enabled for the " +
    "`redfish` hardware type.",
};

/** What the placement fields do on each route that takes them. */
const PLACEMENT_400 =
  "A placement field the Ironic API version in use lacks (`IronicFeatureUnsupported`, naming the version it " +
  "needs), an interface Ironic has not enabled (`IronicInterfaceNotEnabled`, naming the enabled ones) or a " +
  "conductor group no conductor serves (`IronicConductorGroupNotServed`)";

const podManagerFields = {
  name: "Unique name: no slashes, single spaces between words.",
  url:
    "The Redfish service root's base URL, http(s) only; stored without a trailing slash; unique. http:// and " +
    "loopback only where the deployment allows them; link-local, metadata and unspecified addresses never " +
    "(400 `PodManagerUrlRefused`).",
  driver:
    "`redfish` (DMTF composition service) or `rsd` (Intel RSD 2.x); `redfishv1` is accepted as an alias of `rsd`.",
  verify_ca: "Verify the pod manager's TLS certificate.",
  authentication:
    "Exactly one basic credential. The password goes to the secret store, never into responses.",
  "authentication[].type": "Only `basic`.",
  "authentication[].auth_items.username": "The pod manager's user.",
  "authentication[].auth_items.password": "Its password; shown as `***` on read.",
  ...PLACEMENT_FIELD_DOCS,
};

const NOT_FOUND_NODE = "No node has this uuid or name.";
const NOT_FOUND_PODM = "No pod manager has this uuid.";
const PODM_UPSTREAM =
  "The pod manager could not be reached, refused Valence's credentials, failed or answered something unusable.";

/** The headers of a 202 that started an operation (`accepted` of `lib/http/route.ts`). */
const OPERATION_HEADERS = {
  Location: "The operation's URL, `<base>/v1/operations/{id}`: poll it for the steps and the outcome.",
  "Retry-After": `Seconds to wait before looking at the operation again (${OPERATION_RETRY_AFTER_SECONDS}).`,
};

const OPERATION_IN_PROGRESS =
  "`OperationInProgress`: the node runs another operation, named in `detail` (one operation per node at a time)";

const OPERATION_NOT_STARTED =
  "`OperationNotStarted`: the operation was recorded but its workflow could not be started; the operation is " +
  "failed and the node free again. Retry.";

const DEADLINE =
  `Seconds the operation may take in all, its deadline, 1–${MAX_WAIT_SECONDS} (7 days); default the ` +
  "deployment's (`VALENCE_OPERATION_DEADLINE_SECONDS`, 2 h). A wait that runs long is not a failure: past the " +
  "deadline the operation fails (`OperationTimeout`) and the Ironic node is left as Ironic has it.";

const EXAMPLE_OPERATION = "3c9e1f4a-7b2d-4e6f-8a1c-5d0b9e2f7a63";
const OPERATION_ID = { id: "The operation's uuid (the `Location` of the 202 that started it)." };

/** One entry per handler of `ROUTES` (`lib/api/routes.ts`). */
export const CONTRACT: Readonly<Record<string, RouteContract>> = {
  "get-root": {
    tag: "versions",
    description: "The API versions this service offers, in Valence's shape.",
    responses: { 200: { description: "The versions document.", schema: RootDocumentSchema } },
    errors: {},
    example: {},
  },
  "get-v1": {
    tag: "versions",
    description: "The v1 API: its version range, media types and links to its resources.",
    responses: { 200: { description: "The v1 document.", schema: V1DocumentSchema } },
    errors: {},
    example: {},
  },
  "get-openapi": {
    tag: "versions",
    description:
      "This reference as an OpenAPI 3.1 document, generated from the zod schemas the handlers validate with. " +
      "`servers` names the API's own origin.",
    responses: { 200: { description: "The OpenAPI document.", schema: OpenApiDocumentSchema } },
    errors: {},
    example: {},
  },
  "create-pod-manager": {
    tag: "pod managers",
    description:
      "Adds a Redfish pod manager. Its password is kept in the secret store; the stored record only names it. " +
      "The Ironic placement fields (`conductor_group`, `shard`, `owner`, `lessee`, `automated_clean`, " +
      "`resource_class`, `boot_interface`, `deploy_interface`) are the defaults every node it composed is " +
      "registered with; they are checked against the Ironic in use when it can be asked (an Ironic that cannot " +
      "be reached does not stop the pod manager from being saved; every register checks again).",
    body: CreatePodManagerBody,
    fields: podManagerFields,
    responses: {
      201: {
        description: "The pod manager as stored, `status` from a probe of its service root.",
        schema: PodManagerView,
      },
    },
    errors: {
      400: `${PLACEMENT_400}, or a body that does not validate.`,
      409: "Another pod manager has this name or url.",
    },
    example: {
      body: {
        name: "podm1",
        url: "https://192.0.2.10:8443",
        driver: "redfish",
        verify_ca: false,
        authentication: [{ type: "basic", auth_items: { username: "admin", password: "secret" } }],
      },
    },
  },
  "list-pod-managers": {
    tag: "pod managers",
    description: "Every pod manager, passwords masked. Takes no query parameters.",
    query: NoQuery,
    responses: { 200: { description: "All pod managers.", schema: PodManagerList } },
    errors: {},
    example: {},
  },
  "get-pod-manager": {
    tag: "pod managers",
    description:
      "One pod manager. Valence probes it first, so `status` says whether it answers now (`online`/`offline`).",
    params: UuidParams,
    fields: PODM_ID,
    responses: { 200: { description: "The pod manager with its current status.", schema: PodManagerView } },
    errors: { 404: NOT_FOUND_PODM },
    example: { params: { id: EXAMPLE_PODM } },
  },
  "update-pod-manager": {
    tag: "pod managers",
    description:
      "Changes any of the create fields; the others keep their values. A new `url` or `driver`, or " +
      "`verify_ca: false`, needs `authentication` in the same body (400 otherwise): the stored credentials are only " +
      "ever sent to the pod manager they were given for. A placement field set to `null` is cleared (the pod " +
      "manager then has no default for it; nodes already registered keep what Ironic has). New credentials, `url`, `driver` or `verify_ca` are first " +
      "tried with a real login at the (new) address; if the pod manager refuses them or cannot be reached there, the " +
      "answer is 400 `PodManagerLoginFailed` naming its answer, and nothing changes. Then the secret and record are " +
      "written, and new credentials, `url` or `verify_ca` are carried into every node of the pod manager registered " +
      "in Ironic (`driver_info`: `redfish_address`, `redfish_username`, `redfish_password`, `redfish_verify_ca`; " +
      "placement fields set in the same PATCH, or by the pod manager before, where a node differs and its own " +
      "register did not set them) by " +
      "a `resync` operation that takes no node's operation slot (a node Ironic is cleaning or deploying, which " +
      "takes no PATCH meanwhile, is waited for and patched once it rests): **202** with the operation, one " +
      "result per node; Ironic's own validation of the `power` and `management` interfaces must pass for each. " +
      "A placement field set (not cleared) starts the same re-sync. With no node in Ironic, or no such change, **200**.",
    params: UuidParams,
    body: UpdatePodManagerBody,
    fields: { ...PODM_ID, ...podManagerFields },
    responses: {
      200: {
        description: "The pod manager as stored now; no node of it needed a re-sync.",
        schema: PodManagerView,
      },
      202: {
        description:
          "The pod manager as stored now, and the `resync` operation (`pending`) carrying the change into its " +
          "registered nodes' driver_info in Ironic: follow it at `Location` for each node's result.",
        schema: PodManagerResyncView,
        headers: OPERATION_HEADERS,
      },
    },
    errors: {
      400:
        "A new `url` or `driver`, or `verify_ca: false`, without `authentication`; " +
        `${PLACEMENT_400.charAt(0).toLowerCase()}${PLACEMENT_400.slice(1)}; a body that does not validate; or ` +
        "`PodManagerLoginFailed`: the pod manager refused the new credentials (its 401) or could not be reached at " +
        "the new address. Nothing was changed.",
      404: NOT_FOUND_PODM,
      409: "Another pod manager has this name or url, or the record changed concurrently.",
      503: "`OperationNotStarted`: the change was stored but the re-sync's workflow could not be started; retry the PATCH.",
    },
    example: { params: { id: EXAMPLE_PODM }, body: { verify_ca: true } },
  },
  "delete-pod-manager": {
    tag: "pod managers",
    description: "Forgets a pod manager and deletes its secret. Refused while nodes of it are still known.",
    params: UuidParams,
    fields: PODM_ID,
    responses: { 204: { description: "Deleted." } },
    errors: { 404: NOT_FOUND_PODM, 409: "The pod manager still has nodes: delete or unregister them first." },
    example: { params: { id: EXAMPLE_PODM } },
  },
  "list-nodes": {
    tag: "nodes",
    description:
      "Nodes in name order, filtered and paginated. When more remain, the `Link` header holds the next page's URL.",
    query: ListNodesQuery,
    fields: {
      managed_by: "Only nodes managed by `valence` (composed, not registered) or `ironic` (registered).",
      podm_id: "Only nodes of this pod manager.",
      name: "Only the node with this name.",
      limit: `Page size, 1–${MAX_PAGE_SIZE}.`,
      marker: "The uuid of the last node of the previous page.",
    },
    responses: {
      200: {
        description: "One page of nodes.",
        schema: NodeList,
        headers: { Link: 'RFC 8288 link to the next page, `<url>; rel="next"`, when more nodes remain.' },
      },
    },
    errors: {},
    example: { query: { managed_by: "valence", limit: "50" } },
  },
  "get-node": {
    tag: "nodes",
    description:
      "One node. With `refresh=true`, a registered node also has Ironic's live state, read from Ironic, nested " +
      "under `ironic` (`null` when Ironic no longer has the node).",
    params: NodeIdParams,
    query: GetNodeQuery,
    fields: { ...NODE_ID, refresh: "`true`: also read the node's state from Ironic." },
    responses: { 200: { description: "The node.", schema: ShownNodeView } },
    errors: {
      404: NOT_FOUND_NODE,
      502: "Ironic failed while reading the live state.",
      503: "Ironic could not be reached.",
    },
    example: { params: { id: "test-node" }, query: { refresh: "true" } },
  },
  "register-nodes": {
    tag: "nodes",
    description:
      "Enrolls many nodes at once (a rack): the nodes listed in `nodes` (uuids or names, or objects with `node` " +
      "and any register body field for that node alone), or the `selector`'s (every node of the pod manager " +
      "that Valence manages, none registered yet), each with the register body's options (those of " +
      "`POST /v1/nodes/{id}/register`). Answers **202** at once with an `enroll` operation; follow it at " +
      "`Location` (`GET /v1/operations/{id}`). Its workflow registers the nodes and runs each one's lifecycle " +
      "steps (`manage`, `inspect`, `provide`) as that node's own operation (`nodes[].operation_id`), at most " +
      "`concurrency` nodes at once; `nodes[]` says how each ended (`state`, `code`: the register's error code " +
      "or the node operation's outcome code, `detail`) and `progress` counts them. One node failing (a MAC " +
      "Ironic holds for other hardware, a failed cleaning, a node registered meanwhile) fails only that node; " +
      "the enrollment ends `succeeded` when every node did, else `failed` with `EnrollmentIncomplete`. " +
      "Cancelling it (`POST /v1/operations/{id}/cancel`) cancels the nodes not started yet; those under way " +
      "run to their end. The request is checked whole before anything starts: 400 names every problem.",
    body: EnrollNodesBody,
    fields: {
      nodes:
        "The nodes, 1 to 500, each a uuid or name, or `{node, <register body fields>}` whose fields override the " +
        "body's for that node. Each node at most once. Exactly one of `nodes` and `selector`.",
      selector:
        "Every node of a pod manager that Valence manages (not registered in Ironic yet), at most 500.",
      "selector.podm_id": "The pod manager's uuid.",
      "selector.managed_by": "Only `valence`: the nodes not registered yet.",
      concurrency: "Nodes registered and moved through Ironic at once, 1 to 64. Default 10.",
      manage: "Each node's manage step, as in the single register (so are `inspect` and `provide`).",
      wait_timeout: `${DEADLINE} Each node's operation's; the enrollment's own is that times the waves of nodes.`,
    },
    responses: {
      202: {
        description:
          "The `enroll` operation, `pending`: one step and one `nodes[]` entry per node, all `pending`.",
        schema: OperationView,
        headers: OPERATION_HEADERS,
      },
    },
    errors: {
      400:
        "A body that does not validate (neither or both of `nodes` and `selector`, an empty list, more than 500 " +
        "nodes, a node listed twice, a register field that is wrong for a node), a listed node that does not " +
        "exist, a `selector.podm_id` that is no pod manager, or a selector that selects no node.",
      503: "`OperationNotStarted`: the enrollment was recorded but its workflow could not be started; it is failed.",
    },
    example: {
      body: {
        nodes: ["node-1", { node: "node-2", resource_class: "gold" }],
        manage: true,
        provide: true,
        concurrency: 10,
      },
    },
  },
  "register-node": {
    tag: "nodes",
    description:
      "Creates the Ironic node for a composed node (redfish driver, the pod manager's credentials) and one " +
      "port per enabled NIC, atomically: on failure, what was created is rolled back and `detail` says at which " +
      "step. Without lifecycle steps it answers **200** at once, the Ironic node in `enroll`. With any of " +
      "`manage`, `inspect`, `provide` it answers **202** as soon as the node is registered, with an operation " +
      "that runs the steps durably (`manage`, then `inspect`, then `provide`, Ironic's cleaning included) however " +
      "long Ironic takes: follow it at `Location` (`GET /v1/operations/{id}`). If verification fails (`manage` " +
      "ends back in `enroll` with `last_error`, e.g. a wrong BMC password), the registration is rolled back. A " +
      "later failure (inspection, cleaning) leaves the node registered and the Ironic node in its failed state " +
      "with Ironic's `last_error`, which the failed operation shows. The Ironic node gets the traits and " +
      "resource class the deployment's hardware rules give for what the system holds (GPUs, NVMe, NIC speeds, " +
      "memory, CXL memory), adjusted by the body's `traits`. With `dry_run=true` it answers **200** with the " +
      "plan (node fields, traits, ports to create / keep / conflicting) and changes nothing.",
    params: NodeIdParams,
    query: RegisterNodeQuery,
    body: RegisterNodeBody,
    fields: {
      ...NODE_ID,
      ...Object.fromEntries(
        Object.entries(PLACEMENT_FIELD_DOCS).map(([field, doc]) => [
          field,
          `${doc} Default: the pod manager's.`,
        ]),
      ),
      properties: "Overrides of the hardware read from the pod manager.",
      "properties.cpus": "CPU count.",
      "properties.memory_mb": "Memory in MiB.",
      "properties.local_gb": "Local disk in GiB.",
      "properties.cpu_arch": "CPU architecture, e.g. `x86_64`.",
      "properties.capabilities": "Ironic capabilities string, e.g. `boot_mode:uefi`.",
      driver_info: "Redfish driver settings for Ironic.",
      "driver_info.redfish_verify_ca":
        "Ironic verifies the BMC's certificate; default: the pod manager's `verify_ca`. `false` is refused (400) " +
        "when the pod manager's `verify_ca` is `true`: only its owner turns verification off.",
      "driver_info.redfish_auth_type": "How Ironic authenticates to the BMC.",
      ports: "`all`: a port per enabled NIC; `boot`: only the boot NIC's.",
      boot_mac: "The NIC to PXE boot from; default: the first enabled NIC.",
      dry_run:
        "`true`: answer the plan (`RegisterPlan`) and change nothing: no Ironic write, no store write, no history.",
      traits:
        "Ironic traits (`CUSTOM_[A-Z0-9_]+` or standard os-traits names, at most 50): a list replaces what the " +
        'hardware rules give; `{"add": [...], "remove": [...]}` adjusts it. Needs Ironic API 1.37.',
      manage:
        "Move the node to `manageable` (Ironic verifies the BMC), in an operation (202). Implied by `inspect` " +
        "and `provide`.",
      inspect: "Also inspect the node in `manageable` (Ironic's hardware inspection), in the operation.",
      provide:
        "Also move the node on to `available`, in the operation; Ironic cleans it on the way when automated " +
        "cleaning is on (its default).",
      wait_timeout: `${DEADLINE} Without lifecycle steps there is nothing to wait for and it is not used.`,
    },
    responses: {
      200: {
        description:
          "Registered, without lifecycle steps: the node and the Ironic node's state (`enroll`). With " +
          "`dry_run=true`: the plan (`RegisterPlan`), nothing changed.",
        schema: RegisterNodeResponse,
      },
      202: {
        description:
          "Registered, with lifecycle steps: the node, the Ironic node's state before the steps, and the " +
          "operation (`pending`) that runs them.",
        schema: RegisterAcceptedView,
        headers: OPERATION_HEADERS,
      },
    },
    errors: {
      400:
        `${PLACEMENT_400}: the field named is the body's, or the pod manager's default; nothing is created. ` +
        "Or a body that does not validate.",
      404: NOT_FOUND_NODE,
      409:
        `The node is already registered (\`NodeAlreadyRegistered\`), is busy with another register or unregister (\`NodeBusy\`), or ${OPERATION_IN_PROGRESS}; ` +
        "or Ironic holds its name or a MAC for other hardware, or refused a change (`RegistrationConflict`, " +
        "what was created rolled back).",
      502:
        "Ironic or the pod manager failed, or the pod manager could not be reached; what was created was rolled " +
        "back (`RegistrationFailed` once something was).",
      503:
        "Ironic could not be reached or is not configured. Or `OperationNotStarted`: the node was registered " +
        "(`enroll`) but the operation's workflow could not be started; the operation is failed, the node stays " +
        "registered: run the steps with `POST /v1/nodes/{id}/manage` and `provide`.",
    },
    example: { params: { id: "test-node" }, body: { manage: true, provide: true } },
  },
  "start-node-operation": {
    tag: "operations",
    description:
      "Starts Ironic's lifecycle action on a registered node as an operation, run durably however long Ironic " +
      "takes, and answers **202** at once with it; follow it at `Location` (`GET /v1/operations/{id}`). With " +
      "Ironic's semantics: `manage` moves the node to `manageable` (from `enroll`, verifying the BMC; from " +
      "`available`; out of `clean failed` after a failed `provide`); `provide` moves the node to `available`, " +
      "Ironic cleaning it first when automated cleaning is on, running `manage` first where Ironic needs it " +
      "(from `enroll` or `clean failed`, so retrying a failed `provide` is one call); `inspect` inspects a `manageable` " +
      "(or `inspect failed`) node; `clean` runs Ironic's manual cleaning with the `clean_steps` given, from " +
      "`manageable` and back. The " +
      "action is not sent when the node already rests in, or moves to, its target. Maintenance Ironic set after " +
      "a failed clean step (`fault: clean failure`) is cleared before the verb; maintenance an operator set " +
      "fails the step at once. A verb Ironic refuses in the " +
      "node's state, or a step that ends in a failed state, fails the operation with Ironic's `last_error` and " +
      "leaves the Ironic node as Ironic left it; the node stays registered.",
    params: NodeIdParams,
    body: LifecycleActionBody,
    fields: {
      ...NODE_ID,
      clean_steps:
        "`clean` only, and required there: the steps of Ironic's manual cleaning, run in this order (400 on " +
        "another action).",
      "clean_steps[].interface": "The driver interface the step belongs to.",
      "clean_steps[].step": "The step's name, e.g. `erase_devices_metadata`.",
      "clean_steps[].args": "The step's arguments, as Ironic takes them.",
      wait_timeout: DEADLINE,
    },
    responses: {
      202: {
        description: "The operation, `pending`: its one step is named after the action.",
        schema: OperationView,
        headers: OPERATION_HEADERS,
      },
    },
    errors: {
      400: "`clean` without `clean_steps`, `clean_steps` on another action, or a body that does not validate.",
      404: NOT_FOUND_NODE,
      409:
        `${OPERATION_IN_PROGRESS}; \`NodeNotRegistered\`: the node is not in Ironic (register it first); ` +
        "`NodeBusy`: a register or unregister of it is in flight.",
      503: OPERATION_NOT_STARTED,
    },
    example: { params: { id: "test-node" }, body: { wait_timeout: 3600 } },
    routeExamples: {
      "/v1/nodes/{id}/clean": {
        params: { id: "test-node" },
        body: { clean_steps: [{ interface: "deploy", step: "erase_devices_metadata" }] },
      },
    },
  },
  "get-operation": {
    tag: "operations",
    description:
      "One operation: its state, each step with Ironic's `provision_state`, `target_provision_state` and " +
      "`last_error` as the step last saw them, its outcome once it ended, and the request that started it. " +
      "Operations are kept after they end.",
    params: OperationIdParams,
    fields: OPERATION_ID,
    responses: { 200: { description: "The operation.", schema: OperationView } },
    errors: { 404: "No operation has this id (`OperationNotFound`)." },
    example: { params: { id: EXAMPLE_OPERATION } },
  },
  "list-node-operations": {
    tag: "operations",
    description:
      "The node's operations, newest first, those that ended included. When more remain, the `Link` header " +
      "holds the next page's URL.",
    params: NodeIdParams,
    query: OperationListQuery,
    fields: {
      ...NODE_ID,
      limit: `Page size, 1–${MAX_PAGE_SIZE}.`,
      marker: "The `id` of the last operation of the previous page.",
    },
    responses: {
      200: {
        description: "One page of operations.",
        schema: OperationList,
        headers: {
          Link: 'RFC 8288 link to the next page, `<url>; rel="next"`, when more operations remain.',
        },
      },
    },
    errors: { 404: NOT_FOUND_NODE },
    example: { params: { id: "test-node" }, query: { limit: "20" } },
  },
  "list-pod-manager-operations": {
    tag: "operations",
    description:
      "The pod manager's operations (each `resync` of its credentials or address into its Ironic nodes), newest " +
      "first, those that ended included. When more remain, the `Link` header holds the next page's URL.",
    params: UuidParams,
    query: OperationListQuery,
    fields: {
      ...PODM_ID,
      limit: `Page size, 1–${MAX_PAGE_SIZE}.`,
      marker: "The `id` of the last operation of the previous page.",
    },
    responses: {
      200: {
        description: "One page of operations.",
        schema: OperationList,
        headers: {
          Link: 'RFC 8288 link to the next page, `<url>; rel="next"`, when more operations remain.',
        },
      },
    },
    errors: { 404: NOT_FOUND_PODM },
    example: { params: { id: EXAMPLE_PODM }, query: { limit: "20" } },
  },
  "cancel-operation": {
    tag: "operations",
    description:
      "Asks the operation to stop and answers **202** with it, `cancelling`. Where Ironic allows it (`clean " +
      "wait`, `inspect wait`) the workflow aborts in Ironic (the node goes to `clean failed` / `inspect " +
      "failed`); otherwise it stops at the next step boundary, Ironic finishing what it is doing. The operation " +
      "then ends `cancelled`. Cancelling a `cancelling` operation again is harmless.",
    params: OperationIdParams,
    fields: OPERATION_ID,
    responses: { 202: { description: "The operation, `cancelling`.", schema: OperationView } },
    errors: {
      404: "No operation has this id (`OperationNotFound`).",
      409: "`OperationState`: the operation already ended (`succeeded`, `failed` or `cancelled`).",
    },
    example: { params: { id: EXAMPLE_OPERATION } },
  },
  "unregister-node": {
    tag: "nodes",
    description:
      "Deletes the node (and its ports) from Ironic; the node goes back to `managed_by: valence`. An `active` " +
      "node or one with an instance is refused unless `force`. While Ironic still moves the node (`cleaning`, " +
      "`clean wait`, `inspecting`, `verifying`, ...) the answer is **202** with an operation (`unregister`: " +
      "steps `settle`, then `unregister`) that aborts a `clean wait` or `inspect wait` in Ironic, or else waits " +
      "for Ironic to finish, and then unregisters; follow it at `Location`.",
    params: NodeIdParams,
    body: UnregisterNodeBody,
    fields: {
      ...NODE_ID,
      force: "Also unregister an `active` node or one with an instance: maintenance on, then delete.",
    },
    responses: {
      200: { description: "The node, no longer registered.", schema: NodeView },
      202: {
        description:
          "Ironic still moves the node: the node, still registered, and the operation (`pending`) that settles " +
          "it and unregisters.",
        schema: UnregisterAcceptedView,
        headers: OPERATION_HEADERS,
      },
    },
    errors: {
      404: NOT_FOUND_NODE,
      409: `The node is not registered, is busy, ${OPERATION_IN_PROGRESS}, or is in use in Ironic (retry with \`force\`).`,
      502: "Ironic failed.",
      503: "Ironic could not be reached.",
    },
    example: { params: { id: "test-node" }, body: { force: false } },
  },
  "get-node-history": {
    tag: "nodes",
    description:
      "The node's audit trail, newest first: registers and unregisters (who, which request, the outcome) and " +
      "what the reconciler settled. When more remain, the `Link` header holds the next page's URL.",
    params: NodeIdParams,
    query: HistoryQuery,
    fields: {
      ...NODE_ID,
      limit: `Page size, 1–${MAX_PAGE_SIZE}.`,
      marker: "The `id` of the last event of the previous page.",
    },
    responses: {
      200: {
        description: "One page of events.",
        schema: HistoryEventList,
        headers: { Link: 'RFC 8288 link to the next page, `<url>; rel="next"`, when more events remain.' },
      },
    },
    errors: { 404: NOT_FOUND_NODE },
    example: { params: { id: "test-node" }, query: { limit: "20" } },
  },
  "compose-node": {
    tag: "nodes",
    description:
      "Asks the pod manager to compose a system and keeps it as a node managed by Valence. It needs " +
      "`resource_blocks`, or `properties` with `memory` or `processor`: without `resource_blocks`, the pod " +
      "manager picks blocks that meet `properties`.",
    body: ComposeNodeBody,
    fields: {
      name: "Node name, also the Ironic node name later: letters, digits and `-._~`, not uuid-like.",
      description: "Free text.",
      podm_id: "The pod manager to compose on.",
      properties: "Requirements the composed system must meet.",
      "properties.memory.capacity_mib": "Memory in MiB.",
      "properties.processor.total_cores": "CPU cores.",
      "properties.processor.model": "Processor model, as the pod manager names it.",
      resource_blocks: "Redfish paths of the resource blocks to compose from (a specific composition).",
    },
    responses: { 201: { description: "The composed node.", schema: NodeView } },
    errors: {
      404: "No pod manager has this `podm_id`.",
      409: "A node with this name exists, or the pod manager refused or cannot do this composition.",
      502: PODM_UPSTREAM,
    },
    example: {
      body: {
        name: "node-1",
        podm_id: EXAMPLE_PODM,
        properties: { memory: { capacity_mib: 32768 }, processor: { total_cores: 8 } },
      },
    },
  },
  "manage-node": {
    tag: "nodes",
    description:
      "Brings a system the pod manager composed already (outside Valence) under management as a node.",
    body: ManageNodeBody,
    fields: {
      podm_id: "The pod manager of the system.",
      node_index: "The system's id at the pod manager (Redfish `Id`).",
      name: "Node name; default: the system's id (`node_index`).",
    },
    responses: { 201: { description: "The managed node.", schema: NodeView } },
    errors: {
      404: "No pod manager has this `podm_id`, or it has no such system.",
      409: "The system is managed already, or a node with this name exists.",
      502: PODM_UPSTREAM,
    },
    example: { body: { podm_id: EXAMPLE_PODM, node_index: "1", name: "node-2" } },
  },
  "delete-node": {
    tag: "nodes",
    description:
      "Decomposes the node's system on its pod manager and forgets the node. Refused while Ironic manages it.",
    params: NodeIdParams,
    fields: NODE_ID,
    responses: { 204: { description: "Decomposed and deleted." } },
    errors: {
      404: `${NOT_FOUND_NODE} Or its pod manager no longer has the system.`,
      409: "Ironic manages the node (unregister it first), or it is busy.",
      502: PODM_UPSTREAM,
    },
    example: { params: { id: "node-1" } },
  },
  "node-action": {
    tag: "nodes",
    description:
      "Resets the node's system or sets its boot override, through the pod manager. Refused while Ironic manages " +
      "the node: Ironic owns its power and boot then.",
    params: NodeIdParams,
    body: NodeActionBody,
    fields: {
      ...NODE_ID,
      Reset: "A Redfish reset.",
      "Reset.Type": "The Redfish `ResetType`.",
      Boot: "A Redfish boot source override.",
      "Boot.Enabled": "`Once` (next boot only), `Continuous` or `Disabled`.",
      "Boot.Target": "The boot source.",
    },
    responses: { 204: { description: "The pod manager accepted the action." } },
    errors: {
      404: `${NOT_FOUND_NODE} Or its pod manager no longer has the system.`,
      409: "Ironic manages the node (unregister it first), or it is busy.",
      502: PODM_UPSTREAM,
    },
    example: { params: { id: "test-node" }, body: { Reset: { Type: "ForceRestart" } } },
  },
};
