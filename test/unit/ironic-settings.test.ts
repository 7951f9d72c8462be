import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseConfig } from "../../lib/config.ts";
import { IronicConfigError } from "../../lib/ironic/index.ts";
import { resolveIronicSettings } from "../../lib/ironic/settings.ts";

const noFiles = () => undefined;

describe("resolveIronicSettings", () => {
  it("uses no auth with an explicit URL", async () => {
    const settings = await resolveIronicSettings({
      url: "http://ironic:6385",
      authType: "none",
      env: { OS_USERNAME: "ignored" },
      readFile: noFiles,
    });
    expect(settings).toEqual({ url: "http://ironic:6385", auth: { type: "none" } });
  });

  it("takes http_basic credentials from the Secrets Manager secret", async () => {
    const settings = await resolveIronicSettings({
      url: "http://ironic:6385",
      authType: "http_basic",
      secret: { username: "valence", password: "from-secret" },
      env: {},
      readFile: noFiles,
    });
    expect(settings.auth).toEqual({ type: "http_basic", username: "valence", password: "from-secret" });
  });

  it("refuses http_basic without a password, naming what is missing", async () => {
    await expect(
      resolveIronicSettings({ authType: "http_basic", username: "u", env: {}, readFile: noFiles }),
    ).rejects.toBeInstanceOf(IronicConfigError);
  });

  it("reads Keystone settings from the secret's clouds.yaml-style keys", async () => {
    const settings = await resolveIronicSettings({
      authType: "keystone",
      secret: {
        auth_url: "https://keystone:5000/v3",
        username: "valence",
        password: "pw",
        user_domain_name: "Default",
        project_name: "baremetal",
        project_domain_name: "Default",
        region_name: "RegionOne",
        interface: "internal",
      },
      env: {},
      readFile: noFiles,
    });
    expect(settings.url).toBeUndefined();
    expect(settings.auth).toMatchObject({
      type: "keystone",
      authUrl: "https://keystone:5000/v3",
      region: "RegionOne",
      interface: "internal",
      credentials: { method: "password", username: "valence", password: "pw", projectName: "baremetal" },
    });
  });

  it("refuses keystone without an auth URL", async () => {
    await expect(
      resolveIronicSettings({
        authType: "keystone",
        username: "u",
        password: "p",
        env: {},
        readFile: noFiles,
      }),
    ).rejects.toBeInstanceOf(IronicConfigError);
  });

  it("refuses to read a clouds.yaml without a YAML parser (as in Lambda)", async () => {
    await expect(
      resolveIronicSettings({
        env: { OS_CLOUD: "prod", OS_CLIENT_CONFIG_FILE: "/etc/clouds.yaml" },
        readFile: (path) => (path === "/etc/clouds.yaml" ? "clouds: {}" : undefined),
      }),
    ).rejects.toThrow(/local stack only/);
  });

  it("takes IRONIC_URL alone as Ironic without auth", async () => {
    const settings = await resolveIronicSettings({
      url: "http://127.0.0.1:6385",
      env: {},
      readFile: noFiles,
    });
    expect(settings).toEqual({ url: "http://127.0.0.1:6385", auth: { type: "none" } });
  });

  it("lets IRONIC_URL win over the OS_* endpoint override, keeping the auth they give", async () => {
    const settings = await resolveIronicSettings({
      url: "http://ironic-a:6385",
      env: { OS_ENDPOINT_OVERRIDE: "http://ironic-b:6385", OS_USERNAME: "u", OS_PASSWORD: "p" },
      readFile: noFiles,
    });
    expect(settings).toEqual({
      url: "http://ironic-a:6385",
      auth: { type: "http_basic", username: "u", password: "p" },
    });
  });

  it("finds ~/.config/openstack/clouds.yaml through the HOME of the parsed configuration", async () => {
    const clouds = [
      "clouds:",
      "  lab:",
      "    auth_type: http_basic",
      "    auth: {username: lab-user, password: lab-pw}",
      "    baremetal_endpoint_override: http://ironic.lab:6385",
    ].join("\n");
    const config = parseConfig({ HOME: "/home/operator", OS_CLOUD: "lab", PATH: "/usr/bin" });
    const settings = await resolveIronicSettings({
      env: config.openstack,
      readFile: (path) => (path === "/home/operator/.config/openstack/clouds.yaml" ? clouds : undefined),
      parseYaml: parse,
    });
    expect(settings).toEqual({
      url: "http://ironic.lab:6385",
      auth: { type: "http_basic", username: "lab-user", password: "lab-pw" },
    });
  });
});
