import { UpdatePodManagerBody } from "../../podmanagers/schemas.ts";
import { UuidParams } from "../common.ts";
import {
  EXAMPLE_PODM,
  NOT_FOUND_PODM,
  operationHeaders,
  PLACEMENT_400,
  PODM_ID,
  podManagerFields,
} from "../reference-text.ts";
import { PodManagerResyncView, PodManagerView } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "PATCH",
  path: "/v1/pod_managers/{id}",
  summary: "Update a pod manager (202 and a resync operation when its Ironic nodes must follow)",
  table: "write",
  writesSecrets: true,
  ironic: true,
  startsOperations: true,
  params: UuidParams,
  body: UpdatePodManagerBody,
});

export function reference(): RouteReference {
  return {
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
    fields: { ...PODM_ID, ...podManagerFields() },
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
        headers: operationHeaders(),
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
  };
}
