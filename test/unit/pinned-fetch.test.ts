import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import { PodManagerUrlRefusedError } from "../../lib/errors.ts";
import { STATUS_BY_CODE } from "../../lib/http/statuses.ts";
import {
  addressPolicy,
  checkUrl,
  podManagerUrlCheck,
  STRICT_ADDRESS_POLICY,
} from "../../lib/net/address-policy.ts";
import { AddressRefusedError, pinnedFetch, type Resolver } from "../../lib/net/pinned-fetch.ts";
import type { PodManager } from "../../lib/podmanagers/model.ts";
import type { PodManagerRepository } from "../../lib/podmanagers/repository.ts";
import { PodManagerService } from "../../lib/podmanagers/service.ts";
import { PodManagerSessions } from "../../lib/podmanagers/sessions.ts";
import {
  createPodManagerClient,
  PodManagerAddressRefusedError,
  PodManagerUnreachableError,
} from "../../lib/redfish/index.ts";
import type { SecretStore } from "../../lib/secrets/store.ts";

/** DNS answers from a table; records every name asked. No network: refused names never reach a socket. */
function fakeDns(answers: Record<string, string[]>) {
  const asked: string[] = [];
  const resolve: Resolver = async (hostname) => {
    asked.push(hostname);
    const addresses = answers[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addresses.map((address): LookupAddress => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return { resolve, asked };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe("pinnedFetch: the address policy at connect time", () => {
  it("refuses a host name whose address is refused, though its URL passed the input check", async () => {
    const dns = fakeDns({ "bmc.example.test": ["127.0.0.1"], "meta.example.test": ["169.254.169.254"] });
    const request = pinnedFetch({ policy: STRICT_ADDRESS_POLICY, verifyCa: true, resolve: dns.resolve });

    expect(checkUrl(STRICT_ADDRESS_POLICY, "https://bmc.example.test:8443")).toBeUndefined();
    const loopback = await refusal(request("https://bmc.example.test:8443/redfish/v1/"));
    const metadata = await refusal(request("https://meta.example.test/latest/meta-data"));

    expect(loopback).toBeInstanceOf(AddressRefusedError);
    expect(loopback).toMatchObject({ host: "bmc.example.test", refusal: { rule: "loopback" } });
    expect(metadata).toMatchObject({ refusal: { rule: "metadata" } });
    expect(dns.asked).toEqual(["bmc.example.test", "meta.example.test"]);
  });

  it("refuses a name when any one of its addresses is refused", async () => {
    const dns = fakeDns({ "mixed.example.test": ["10.0.0.8", "fe80::8"] });
    const request = pinnedFetch({ policy: STRICT_ADDRESS_POLICY, verifyCa: false, resolve: dns.resolve });

    await expect(request("https://mixed.example.test/")).rejects.toMatchObject({
      refusal: { rule: "link-local" },
    });
  });

  it("refuses addresses outside the allowed networks", async () => {
    const dns = fakeDns({ "bmc.example.test": ["10.9.0.1"] });
    const policy = addressPolicy({ allowedCidrs: ["10.20.0.0/16"] });
    const request = pinnedFetch({ policy, verifyCa: true, resolve: dns.resolve });

    await expect(request("https://bmc.example.test/")).rejects.toMatchObject({
      refusal: { rule: "not-in-allowed-cidrs" },
    });
  });

  it("refuses http:// and refused literal addresses before any lookup", async () => {
    const dns = fakeDns({});
    const request = pinnedFetch({ policy: STRICT_ADDRESS_POLICY, verifyCa: true, resolve: dns.resolve });

    for (const url of [
      "http://10.0.0.1/",
      "https://0x7f000001/",
      "https://[::ffff:127.0.0.1]/",
      "https://localhost/",
    ]) {
      await expect(request(url)).rejects.toBeInstanceOf(AddressRefusedError);
    }
    expect(dns.asked).toEqual([]);
  });
});

describe("RedfishTransport: address refusals are no pod-manager failure", () => {
  const connection = {
    url: "https://bmc.example.test:8443",
    username: "admin",
    password: "Addr-Policy-Pw",
    driver: "redfish" as const,
    verifyCa: true,
  };

  it("fails with PodManagerAddressRefused, not PodManagerUnreachable, and sends nothing", async () => {
    const dns = fakeDns({ "bmc.example.test": ["169.254.169.254"] });
    const client = createPodManagerClient(connection, { resolve: dns.resolve });

    const error = await refusal(client.probe());

    expect(error).toBeInstanceOf(PodManagerAddressRefusedError);
    expect(error).not.toBeInstanceOf(PodManagerUnreachableError);
    expect(error).toMatchObject({ code: "PodManagerAddressRefused" });
    expect((error as Error).message).toContain("metadata");
    expect((error as Error).message).not.toContain(connection.password);
  });

  it("uses the strict policy unless told otherwise: no http, no loopback", async () => {
    const client = createPodManagerClient({ ...connection, url: "http://127.0.0.1:9" });
    await expect(client.probe()).rejects.toBeInstanceOf(PodManagerAddressRefusedError);
  });
});

const podm: PodManager = {
  uuid: "6d0f1b7e-0000-4000-8000-000000000001",
  name: "podm",
  url: "https://bmc.example.test:8443",
  driver: "redfish",
  verify_ca: true,
  status: "unknown",
  username: "admin",
  credentials_ref: "podm/ref",
  created_at: "t",
  updated_at: "t",
  version: 1,
};

describe("PodManagerSessions.probe", () => {
  const sessions = (answers: Record<string, string[]>) =>
    new PodManagerSessions({} as PodManagerRepository, {} as SecretStore, (connection) =>
      createPodManagerClient(connection, { resolve: fakeDns(answers).resolve }),
    );
  const credentials = { username: "admin", password: "pw" };

  it("throws a policy refusal instead of answering offline (no oracle)", async () => {
    await expect(
      sessions({ "bmc.example.test": ["127.0.0.1"] }).probe(podm, credentials),
    ).rejects.toBeInstanceOf(PodManagerAddressRefusedError);
  });

  it("still answers offline for a pod manager it cannot reach", async () => {
    await expect(sessions({}).probe(podm, credentials)).resolves.toBe("offline");
  });
});

describe("PodManagerService: the URL is checked before anything is stored or sent", () => {
  const untouchable = new Proxy(
    {},
    {
      get: (_target, name) => () => {
        throw new Error(`${String(name)} must not be called`);
      },
    },
  );
  const service = new PodManagerService({
    repository: {
      ...(untouchable as PodManagerRepository),
      get: async () => podm,
    },
    secrets: untouchable as SecretStore,
    countNodes: async () => 0,
    probe: () => {
      throw new Error("the probe must not run");
    },
    checkUrl: podManagerUrlCheck(STRICT_ADDRESS_POLICY),
  });
  const auth = [{ type: "basic" as const, auth_items: { username: "admin", password: "pw" } }];

  it.each([
    ["https://169.254.169.254", "metadata"],
    ["https://[::1]:8443", "loopback"],
    ["https://2130706433", "loopback"],
    ["http://10.0.0.1", "http-not-allowed"],
  ])("create refuses %s (%s)", async (url, rule) => {
    const error = await refusal(
      service.create({ name: "p", url, driver: "redfish", verify_ca: true, authentication: auth }),
    );
    expect(error).toBeInstanceOf(PodManagerUrlRefusedError);
    expect((error as Error).message).toContain(rule);
  });

  it("update refuses a refused url", async () => {
    const error = await refusal(
      service.update(podm.uuid, { url: "https://[fd00:ec2::254]", authentication: auth }),
    );
    expect(error).toBeInstanceOf(PodManagerUrlRefusedError);
    expect(error).toMatchObject({ code: "PodManagerUrlRefused" });
    expect(STATUS_BY_CODE.PodManagerUrlRefused?.status).toBe(400);
  });
});
