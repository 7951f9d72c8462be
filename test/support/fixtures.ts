import { randomUUID } from "node:crypto";
import { addressPolicy } from "../../lib/net/address-policy.ts";
import type { NewNode } from "../../lib/nodes/model.ts";

/** A composed node as the pod manager would describe it. */
export function newNode(overrides: Partial<NewNode> = {}): NewNode {
  const uuid = overrides.uuid ?? randomUUID();
  return {
    uuid,
    name: `node-${uuid.slice(0, 8)}`,
    description: "",
    podm_id: randomUUID(),
    index: `sys-${uuid.slice(0, 8)}`,
    resource_uri: `/redfish/v1/Systems/sys-${uuid.slice(0, 8)}`,
    managed_by: "valence",
    ironic_node_uuid: null,
    hardware: {
      cpus: 8,
      memory_mb: 16384,
      local_gb: 100,
      cpu_arch: "x86_64",
      nics: [{ mac: "52:54:00:00:00:01", enabled: true }],
    },
    ...overrides,
  };
}

/** The local stack's address policy: emulators listen on loopback over plain http. */
export const LOCAL_ADDRESS_POLICY = addressPolicy({ allowHttp: true, allowLoopback: true });
