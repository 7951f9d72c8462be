import { describe } from "vitest";
import { createIronicDriver } from "../../lib/ironic/index.ts";
import { ironicPortContract } from "../support/ironic-port-contract.ts";
import { useIronic } from "../support/openstack.ts";

const env = useIronic({ auth: "noauth" });

describe("the real Ironic keeps the contract the in-memory adapter is tested by", () => {
  ironicPortContract(() => createIronicDriver({ url: env.url, auth: { type: "none" }, timeoutMs: 10_000 }));
});
