import { RegisterNodeBody, RegisterNodeQuery } from "../../nodes/schemas.ts";
import { NodeIdParams } from "../common.ts";
import {
  deadline,
  NODE_ID,
  NOT_FOUND_NODE,
  OPERATION_IN_PROGRESS,
  operationHeaders,
  PLACEMENT_400,
  PLACEMENT_FIELD_DOCS,
} from "../reference-text.ts";
import { RegisterAcceptedView, RegisterNodeResponse } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "POST",
  path: "/v1/nodes/{id}/register",
  summary: "Register a node in Ironic (202 and an operation when it includes manage, inspect or provide)",
  table: "write",
  readsSecrets: true,
  ironic: true,
  publishesEvents: true,
  startsOperations: true,
  params: NodeIdParams,
  query: RegisterNodeQuery,
  body: RegisterNodeBody,
});

/** The register body's and query's fields, as the reference documents them. */
function registerFields(): RouteReference["fields"] {
  return {
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
    wait_timeout: `${deadline()} Without lifecycle steps there is nothing to wait for and it is not used.`,
  };
}

export function reference(): RouteReference {
  return {
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
    fields: registerFields(),
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
        headers: operationHeaders(),
      },
    },
    errors: {
      400:
        `${PLACEMENT_400}: the field named is the body's, or the pod manager's default; nothing is created. ` +
        "Or a body that does not validate.",
      404: NOT_FOUND_NODE,
      409:
        `The node is already registered (\`NodeAlreadyRegistered\`), is busy with another register or unregister (\`NodeBusy\`), or ${OPERATION_IN_PROGRESS}; ` +
        "or Ironic holds its name or a MAC for other hardware (`IronicResourceTaken`) or a node in no state to " +
        "adopt (`IronicNodeState`), or refused a change (`RegistrationConflict`); what was created is rolled back.",
      502:
        "Ironic or the pod manager failed, or the pod manager could not be reached; what was created was rolled " +
        "back (`RegistrationFailed` once something was).",
      503:
        "Ironic could not be reached or is not configured. Or `OperationNotStarted`: the node was registered " +
        "(`enroll`) but the operation's workflow could not be started; the operation is failed, the node stays " +
        "registered: run the steps with `POST /v1/nodes/{id}/manage` and `provide`.",
    },
    example: { params: { id: "test-node" }, body: { manage: true, provide: true } },
  };
}
