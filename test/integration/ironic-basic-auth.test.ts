import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { resolveCloudConfig } from "../../lib/ironic/clouds.ts";
import { createIronicDriver, IronicAuthError } from "../../lib/ironic/index.ts";
import { useIronic } from "../support/openstack.ts";

const env = useIronic({ auth: "http_basic", basicUsers: { valence: "Basic-pw-1", other: "Other-pw-2" } });

describe("Ironic driver against a real Ironic with http_basic auth", () => {
  it("works with the right password", async () => {
    const ironic = createIronicDriver({
      url: env.url,
      auth: { type: "http_basic", username: "valence", password: "Basic-pw-1" },
    });
    const node = await ironic.createNode({ driver: "fake-hardware", name: `basic-${process.pid}` });
    expect(node.provision_state).toBe("enroll");
    expect((await ironic.getNode(node.uuid)).name).toBe(`basic-${process.pid}`);
  });

  it("reports a wrong password as an auth error, without the password", async () => {
    const ironic = createIronicDriver({
      url: env.url,
      auth: { type: "http_basic", username: "valence", password: "Wrong-pw-3" },
    });
    const failure = ironic.findNodes();
    await expect(failure).rejects.toBeInstanceOf(IronicAuthError);
    await expect(failure).rejects.toThrow(/401/);
    await expect(failure).rejects.not.toThrow(/Wrong-pw-3/);
  });

  it("reports missing credentials as an auth error", async () => {
    const ironic = createIronicDriver({ url: env.url, auth: { type: "none" } });
    await expect(ironic.findNodes()).rejects.toBeInstanceOf(IronicAuthError);
  });

  it("connects from a clouds.yaml http_basic entry", async () => {
    const clouds = [
      "clouds:",
      "  local-ironic:",
      "    auth_type: http_basic",
      "    auth:",
      "      username: other",
      "      password: Other-pw-2",
      `    baremetal_endpoint_override: ${env.url}`,
    ].join("\n");
    const resolved = resolveCloudConfig({
      env: { OS_CLOUD: "local-ironic", OS_CLIENT_CONFIG_FILE: "/virtual/clouds.yaml" },
      readFile: (path) => (path === "/virtual/clouds.yaml" ? clouds : undefined),
      parseYaml: parse,
    });
    const ironic = createIronicDriver({ url: resolved.url, auth: resolved.auth });
    expect(Array.isArray(await ironic.findNodes({ fields: ["uuid"] }))).toBe(true);
    expect(await ironic.apiVersion()).toBe("1.82");
  });
});
