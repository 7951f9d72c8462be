import { describe, expect, it } from "vitest";
import { createIronicDriver } from "../../lib/ironic/index.ts";
import { ironicPortContract } from "../support/ironic-port-contract.ts";
import { useIronic } from "../support/openstack.ts";

const env = useIronic({ auth: "noauth" });

describe("the real Ironic keeps the contract the in-memory adapter is tested by", () => {
  const port = () => createIronicDriver({ url: env.url, auth: { type: "none" }, timeoutMs: 10_000 });

  it("is the real Ironic: it negotiates Debian's 21.4 API, up to 1.82", async () => {
    expect(await port().apiVersion()).toBe("1.82");
  });

  ironicPortContract(port);
});
