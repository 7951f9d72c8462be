/**
 * The one table from error codes to HTTP statuses. Errors carry only a stable `code` (`lib/errors.ts`); what a
 * code means for the caller is decided here, at the edge, and nowhere else. A unit test fails when an exported
 * `ValenceError` has a code missing from this table.
 */

export interface StatusEntry {
  readonly status: number;
  /**
   * The error's detail is for the logs only; the caller gets a generic one. For server-side problems whose text
   * names internals (environment variables, settings) that are no business of the caller's.
   */
  readonly internal?: boolean;
}

const BAD_REQUEST = { status: 400 } as const;
const NOT_FOUND = { status: 404 } as const;
const CONFLICT = { status: 409 } as const;
const BAD_GATEWAY = { status: 502 } as const;
const UNAVAILABLE = { status: 503 } as const;
const GATEWAY_TIMEOUT = { status: 504 } as const;

export const STATUS_BY_CODE: Readonly<Record<string, StatusEntry>> = {
  // The caller's request is malformed.
  ValidationError: BAD_REQUEST,
  /** A pod-manager URL the deployment's address policy refuses, judged from the URL alone. */
  PodManagerUrlRefused: BAD_REQUEST,
  /** An enrollment's selector that selects no node: nothing was started. */
  NothingToEnroll: BAD_REQUEST,
  /** A node field (conductor_group, shard, ...) the Ironic API version in use cannot take; the detail names it. */
  IronicFeatureUnsupported: BAD_REQUEST,
  /** A boot or deploy interface Ironic has not enabled for the hardware type; the detail names the enabled ones. */
  IronicInterfaceNotEnabled: BAD_REQUEST,
  /** A conductor_group no Ironic conductor serves; the detail names the groups that are served. */
  IronicConductorGroupNotServed: BAD_REQUEST,
  /** New pod-manager credentials or address that did not log in; nothing was changed. */
  PodManagerLoginFailed: BAD_REQUEST,

  // What the caller named does not exist here.
  RouteNotFound: NOT_FOUND,
  NodeNotFound: NOT_FOUND,
  PodManagerNotFound: NOT_FOUND,
  OperationNotFound: NOT_FOUND,
  /** The caller named a system (`node_index`, a node) its pod manager does not have. */
  ComposedSystemNotFound: NOT_FOUND,
  MethodNotAllowed: { status: 405 },

  // The request conflicts with the current state; the caller can resolve it.
  NodeNameConflict: CONFLICT,
  PodManagerConflict: CONFLICT,
  VersionConflict: CONFLICT,
  PodManagerInUse: CONFLICT,
  NodeAlreadyManaged: CONFLICT,
  NodeManagedByIronic: CONFLICT,
  NodeBusy: CONFLICT,
  /** The node has an operation running (the detail names it): one operation per node at a time. */
  OperationInProgress: CONFLICT,
  /** A move the operation's state does not allow (e.g. cancelling an operation that already ended). */
  OperationState: CONFLICT,
  NodeNotRegistered: CONFLICT,
  NodeAlreadyRegistered: CONFLICT,
  NodeHasNoEnabledNic: CONFLICT,
  IronicResourceTaken: CONFLICT,
  IronicNodeState: CONFLICT,
  IronicConflict: CONFLICT,
  IronicDuplicateName: CONFLICT,
  IronicMacAlreadyExists: CONFLICT,
  IronicNodeLocked: CONFLICT,
  IronicInvalidState: CONFLICT,
  IronicNodeAssociated: CONFLICT,
  CompositionRefused: CONFLICT,
  CompositionUnsupported: CONFLICT,
  /** A register that met a conflict part-way and rolled back: as much the caller's to resolve as the conflict. */
  RegistrationConflict: CONFLICT,

  // The service itself is misconfigured: never the caller's fault.
  ServerMisconfigured: { status: 500, internal: true },
  /** A secret rotation this deployment must not carry out (not a pod-manager secret, a version not pending). */
  SecretRotation: { status: 500, internal: true },

  // An upstream (Ironic, a pod manager) failed or answered something unusable. Its own status is never ours: an
  // Ironic 404 for a node we looked up is a failure of the gateway, not a missing resource of this API.
  UpstreamError: BAD_GATEWAY,
  /** The operation was recorded but its workflow could not be started (it is failed): retry. */
  OperationNotStarted: UNAVAILABLE,
  /** A register failed part-way (the detail says where and what was rolled back). */
  RegistrationFailed: BAD_GATEWAY,
  PodManagerUnreachable: BAD_GATEWAY,
  PodManagerResponse: BAD_GATEWAY,
  PodManagerAuth: BAD_GATEWAY,
  /** The pod manager linked to another origin; nothing was sent there. */
  PodManagerOriginRefused: BAD_GATEWAY,
  /** The pod manager's name resolved to an address the deployment refuses (checked at connect time). */
  PodManagerAddressRefused: BAD_GATEWAY,
  PodManagerResponseTooLarge: BAD_GATEWAY,
  CompositionFailed: BAD_GATEWAY,
  IronicNodeNotFound: BAD_GATEWAY,
  IronicPortNotFound: BAD_GATEWAY,
  IronicAuthFailed: BAD_GATEWAY,
  IronicRequestRejected: BAD_GATEWAY,
  IronicServerError: BAD_GATEWAY,
  IronicBadResponse: BAD_GATEWAY,
  IronicUnsupportedVersion: BAD_GATEWAY,
  IronicEndpointNotFound: BAD_GATEWAY,
  IronicProvisionFailed: BAD_GATEWAY,
  ServiceUnavailable: UNAVAILABLE,
  IronicUnavailable: UNAVAILABLE,
  /** Ironic's settings are incomplete: the register cannot be served until an operator fixes them. */
  IronicNotConfigured: UNAVAILABLE,
  /** Ironic did not reach the state asked for within the wait. */
  IronicProvisionTimeout: GATEWAY_TIMEOUT,
  /** A register's `wait_timeout` ran out before Ironic reached the state asked for (what was created is undone). */
  RegistrationTimeout: GATEWAY_TIMEOUT,
};

/** Titles of Valence's error body, by status. */
const TITLES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export function titleOf(status: number): string {
  return TITLES[status] ?? (status >= 500 ? "Internal Server Error" : "Error");
}
