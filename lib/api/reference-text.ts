/**
 * Prose and examples several route definitions share in their `reference` (`lib/api/routes/*.ts`): the API
 * reference only, never a Lambda bundle. What is computed from other modules is a function, so that nothing here
 * runs, and esbuild keeps none of it, in a function that imports its definition's `route`.
 */
import { MAX_PAGE_SIZE, MAX_WAIT_SECONDS } from "../nodes/schemas.ts";
import { OPERATION_RETRY_AFTER_SECONDS } from "../operations/schemas.ts";
import { OperationList } from "./responses.ts";
import type { RequestExample, RouteReference } from "./route-definition.ts";

export const EXAMPLE_PODM = "6f1a9c2e-4b7d-4e8a-9c3f-2d5e7a1b8c40";

export const NODE_ID = { id: "The node's uuid or name." };
export const PODM_ID = { id: "The pod manager's uuid." };

/**
 * The Ironic placement fields, named as Ironic names them: a pod manager's defaults for its nodes, which a register
 * body overrides per node.
 */
export const PLACEMENT_FIELD_DOCS = {
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
export const PLACEMENT_400 =
  "A placement field the Ironic API version in use lacks (`IronicFeatureUnsupported`, naming the version it " +
  "needs), an interface Ironic has not enabled (`IronicInterfaceNotEnabled`, naming the enabled ones) or a " +
  "conductor group no conductor serves (`IronicConductorGroupNotServed`)";

export function podManagerFields() {
  return {
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
}

export const NOT_FOUND_NODE = "No node has this uuid or name.";
export const NOT_FOUND_PODM = "No pod manager has this uuid.";
export const PODM_UPSTREAM =
  "The pod manager could not be reached, refused Valence's credentials, failed or answered something unusable.";

/** The headers of a 202 that started an operation (`accepted` of `lib/http/route.ts`). */
export function operationHeaders() {
  return {
    Location: "The operation's URL, `<base>/v1/operations/{id}`: poll it for the steps and the outcome.",
    "Retry-After": `Seconds to wait before looking at the operation again (${OPERATION_RETRY_AFTER_SECONDS}).`,
  };
}

export const OPERATION_IN_PROGRESS =
  "`OperationInProgress`: the node runs another operation, named in `detail` (one operation per node at a time)";

export const OPERATION_NOT_STARTED =
  "`OperationNotStarted`: the operation was recorded but its workflow could not be started; the operation is " +
  "failed and the node free again. Retry.";

export function deadline(): string {
  return (
    `Seconds the operation may take in all, its deadline, 1–${MAX_WAIT_SECONDS} (7 days); default the ` +
    "deployment's (`VALENCE_OPERATION_DEADLINE_SECONDS`, 2 h). A wait that runs long is not a failure: past the " +
    "deadline the operation fails (`OperationTimeout`) and the Ironic node is left as Ironic has it."
  );
}

export const EXAMPLE_OPERATION = "3c9e1f4a-7b2d-4e6f-8a1c-5d0b9e2f7a63";
export const OPERATION_ID = { id: "The operation's uuid (the `Location` of the 202 that started it)." };

/** A page of operations, newest first: a node's or a pod manager's. */
export function operationListReference(owner: {
  /** Whose operations, first in the description: "The node's operations". */
  readonly description: string;
  readonly id: Readonly<Record<string, string>>;
  readonly notFound: string;
  readonly example: RequestExample;
}): RouteReference {
  return {
    tag: "operations",
    description: `${owner.description}, newest first, those that ended included. When more remain, the \`Link\` header holds the next page's URL.`,
    fields: {
      ...owner.id,
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
    errors: { 404: owner.notFound },
    example: owner.example,
  };
}
