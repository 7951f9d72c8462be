import { CreatePodManagerBody } from "../../podmanagers/schemas.ts";
import { PLACEMENT_400, podManagerFields } from "../reference-text.ts";
import { PodManagerView } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "POST",
  path: "/v1/pod_managers",
  summary: "Add a pod manager",
  table: "write",
  writesSecrets: true,
  ironic: true,
  body: CreatePodManagerBody,
});

export function reference(): RouteReference {
  return {
    tag: "pod managers",
    description:
      "Adds a Redfish pod manager. Its password is kept in the secret store; the stored record only names it. " +
      "The Ironic placement fields (`conductor_group`, `shard`, `owner`, `lessee`, `automated_clean`, " +
      "`resource_class`, `boot_interface`, `deploy_interface`) are the defaults every node it composed is " +
      "registered with; they are checked against the Ironic in use when it can be asked (an Ironic that cannot " +
      "be reached does not stop the pod manager from being saved; every register checks again).",
    fields: podManagerFields(),
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
  };
}
