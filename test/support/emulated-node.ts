import type { IronicDriver, IronicNode } from "../../lib/ironic/index.ts";
import { createPodManagerClient } from "../../lib/redfish/index.ts";
import type { RedfishEmulator } from "../../local/redfish-emulator/index.ts";
import { LOCAL_ADDRESS_POLICY } from "./fixtures.ts";

/**
 * A system composed on the emulator and enrolled in Ironic by hand, as an operator would: the redfish driver
 * pointed at it, one port per NIC, left in `enroll`. For tests that drive Ironic's lifecycle themselves.
 */
export async function enrollEmulatedSystem(
  driver: IronicDriver,
  emulator: Pick<RedfishEmulator, "url">,
  name: string,
  totalCores = 2,
): Promise<{ node: IronicNode; systemUri: string }> {
  const client = createPodManagerClient({
    url: emulator.url,
    username: "admin",
    password: "admin",
    driver: "redfish",
    verifyCa: true,
    addressPolicy: LOCAL_ADDRESS_POLICY,
  });
  const system = await client.compose({ name, totalCores });
  await client.close();
  const node = await driver.createNode({
    name,
    driver: "redfish",
    driver_info: {
      redfish_address: emulator.url,
      redfish_system_id: system.resourceUri,
      redfish_username: "admin",
      redfish_password: "admin",
    },
    properties: { cpu_arch: "x86_64" },
  });
  for (const nic of system.hardware.nics) await driver.createPort({ node_uuid: node.uuid, address: nic.mac });
  return { node, systemUri: system.resourceUri };
}
