import type { IronicCallContext, IronicDriver } from "../ironic/index.ts";

/**
 * What the node services (register, unregister, show, reconcile) ask of Ironic: the narrow port they depend on.
 * `IronicDriver` (the HTTP adapter) satisfies it; `test/support/memory-ironic.ts` is an in-memory adapter with
 * the Ironic semantics the sagas rely on, for fast unit tests.
 */
export interface IronicNodesPort
  extends Pick<
    IronicDriver,
    | "apiVersion"
    | "getDriver"
    | "listConductors"
    | "getNode"
    | "listNodes"
    | "createNode"
    | "updateNode"
    | "validateNode"
    | "deleteNode"
    | "getTraits"
    | "setTraits"
    | "listPorts"
    | "getPortByAddress"
    | "createPort"
    | "deletePort"
    | "setProvisionState"
    | "setMaintenance"
    | "clearMaintenance"
    | "waitForProvisionState"
  > {
  /** A view that sends `context.requestId` and honours `context.deadline`. */
  withContext(context: IronicCallContext): IronicNodesPort;
}
