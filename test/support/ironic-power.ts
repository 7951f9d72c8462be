import { expect } from "vitest";
import type { IronicDriver } from "../../lib/ironic/index.ts";

/**
 * Ironic powers the node through its BMC with the driver_info it holds (`PUT .../states/power`), and the power
 * state shows it done: proof that Ironic's credentials and address for the node work.
 */
export async function powers(
  ironicUrl: string,
  ironic: Pick<IronicDriver, "getNode">,
  ironicNodeUuid: string,
  target: "power on" | "power off",
): Promise<void> {
  const response = await fetch(`${ironicUrl}/v1/nodes/${ironicNodeUuid}/states/power`, {
    method: "PUT",
    headers: { "content-type": "application/json", "X-OpenStack-Ironic-API-Version": "1.46" },
    body: JSON.stringify({ target }),
  });
  expect(response.status, await response.text()).toBe(202);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const node = await ironic.getNode(ironicNodeUuid);
    if (node.power_state === target && !node.target_power_state) return;
    if (node.last_error && !node.target_power_state)
      throw new Error(`Ironic could not ${target}: ${node.last_error}`);
    if (Date.now() > deadline)
      throw new Error(`Ironic still ${node.power_state} → ${node.target_power_state}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
