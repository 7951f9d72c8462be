import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type CloudConfigSources, resolveCloudConfig as resolve } from "../../lib/ironic/clouds.ts";
import { IronicConfigError } from "../../lib/ironic/index.ts";

/** As the local stack calls it: with the YAML parser. */
const resolveCloudConfig = (sources: CloudConfigSources) => resolve({ parseYaml: parse, ...sources });

const CLOUDS = `
clouds:
  prod:
    auth:
      auth_url: https://keystone.example:5000/v3
      username: valence
      password: from-file
      project_name: baremetal
      user_domain_name: Users
      project_domain_id: default
    region_name: RegionOne
    interface: internal
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth-url: https://keystone.example:5000
      application_credential_id: ac-1
      application_credential_secret: ac-secret
  standalone:
    auth_type: http_basic
    auth:
      username: admin
      password: basic-pw
    baremetal_endpoint_override: http://ironic.local:6385
  noauth:
    auth_type: none
    baremetal_endpoint_override: http://ironic.local:6385
`;

function reader(files: Record<string, string>) {
  const read: string[] = [];
  const readFile = (path: string) => {
    read.push(path);
    return files[path];
  };
  return { readFile, read };
}

describe("resolveCloudConfig", () => {
  it("reads the OS_CLOUD entry from ~/.config/openstack/clouds.yaml", () => {
    const { readFile, read } = reader({ "/home/v/.config/openstack/clouds.yaml": CLOUDS });
    const resolved = resolveCloudConfig({
      env: { OS_CLOUD: "prod", HOME: "/home/v" },
      readFile,
      cwd: "/srv",
    });

    expect(read).toEqual(["/srv/clouds.yaml", "/home/v/.config/openstack/clouds.yaml"]);
    expect(resolved).toEqual({
      cloud: "prod",
      source: "/home/v/.config/openstack/clouds.yaml",
      url: undefined,
      auth: {
        type: "keystone",
        authUrl: "https://keystone.example:5000/v3",
        interface: "internal",
        region: "RegionOne",
        credentials: {
          method: "password",
          username: "valence",
          userId: undefined,
          password: "from-file",
          userDomainName: "Users",
          userDomainId: undefined,
          projectName: "baremetal",
          projectId: undefined,
          projectDomainName: undefined,
          projectDomainId: "default",
        },
      },
    });
  });

  it("looks in OS_CLIENT_CONFIG_FILE first and /etc/openstack last", () => {
    const { readFile, read } = reader({});
    expect(() =>
      resolveCloudConfig({
        env: { OS_CLOUD: "prod", OS_CLIENT_CONFIG_FILE: "/cfg/c.yaml", HOME: "/h" },
        readFile,
      }),
    ).toThrow(IronicConfigError);
    expect(read).toEqual([
      "/cfg/c.yaml",
      "./clouds.yaml",
      "/h/.config/openstack/clouds.yaml",
      "/etc/openstack/clouds.yaml",
    ]);
  });

  it("lets OS_* variables override the file, like the openstack CLI", () => {
    const { readFile } = reader({ "./clouds.yaml": CLOUDS });
    const resolved = resolveCloudConfig({
      env: {
        OS_CLOUD: "prod",
        OS_PASSWORD: "from-env",
        OS_REGION_NAME: "RegionTwo",
        OS_INTERFACE: "publicURL",
      },
      readFile,
    });
    expect(resolved.auth).toMatchObject({
      region: "RegionTwo",
      interface: "public",
      credentials: { password: "from-env", username: "valence" },
    });
  });

  it("reads application credentials (with hyphenated keys)", () => {
    const { readFile } = reader({ "./clouds.yaml": CLOUDS });
    expect(resolveCloudConfig({ env: { OS_CLOUD: "appcred" }, readFile }).auth).toEqual({
      type: "keystone",
      authUrl: "https://keystone.example:5000",
      interface: "public",
      region: undefined,
      credentials: { method: "application_credential", id: "ac-1", secret: "ac-secret" },
    });
  });

  it("reads standalone http_basic and none clouds with their endpoint override", () => {
    const { readFile } = reader({ "./clouds.yaml": CLOUDS });
    expect(resolveCloudConfig({ env: { OS_CLOUD: "standalone" }, readFile })).toMatchObject({
      url: "http://ironic.local:6385",
      auth: { type: "http_basic", username: "admin", password: "basic-pw" },
    });
    expect(resolveCloudConfig({ env: { OS_CLOUD: "noauth" }, readFile })).toMatchObject({
      url: "http://ironic.local:6385",
      auth: { type: "none" },
    });
  });

  it("works from OS_* variables alone", () => {
    const resolved = resolveCloudConfig({
      env: {
        OS_AUTH_URL: "http://127.0.0.1:5000/v3",
        OS_APPLICATION_CREDENTIAL_ID: "ac-2",
        OS_APPLICATION_CREDENTIAL_SECRET: "s2",
        OS_ENDPOINT_OVERRIDE: "http://127.0.0.1:6385",
      },
      readFile: () => undefined,
    });
    expect(resolved).toEqual({
      url: "http://127.0.0.1:6385",
      auth: {
        type: "keystone",
        authUrl: "http://127.0.0.1:5000/v3",
        interface: "public",
        region: undefined,
        credentials: { method: "application_credential", id: "ac-2", secret: "s2" },
      },
    });
  });

  it("defaults the user and project domains to OS_DEFAULT_DOMAIN", () => {
    const resolved = resolveCloudConfig({
      env: {
        OS_AUTH_URL: "http://k/v3",
        OS_USERNAME: "u",
        OS_PASSWORD: "p",
        OS_PROJECT_NAME: "proj",
        OS_DEFAULT_DOMAIN: "d1",
      },
      readFile: () => undefined,
    });
    expect(resolved.auth).toMatchObject({ credentials: { userDomainId: "d1", projectDomainId: "d1" } });
  });

  it.each([
    [
      "an unknown cloud",
      { OS_CLOUD: "nope" },
      /no such cloud .* \(it has: prod, appcred, standalone, noauth\)/,
    ],
    [
      "a password without auth_url",
      { OS_AUTH_TYPE: "password", OS_USERNAME: "u", OS_PASSWORD: "p" },
      /auth_url: is required/,
    ],
    ["noauth without an endpoint", { OS_AUTH_TYPE: "none" }, /endpoint: is required/],
    [
      "an unsupported auth type",
      { OS_AUTH_TYPE: "token", OS_AUTH_URL: "http://k" },
      /token is not supported/,
    ],
    [
      "a bad interface",
      { OS_AUTH_URL: "http://k", OS_USERNAME: "u", OS_PASSWORD: "p", OS_INTERFACE: "private" },
      /interface/,
    ],
    // With several settings missing, the first one named is the same whatever the auth type's code shares.
    ["a password with nothing set: the user first", { OS_AUTH_TYPE: "password" }, /^username: is required/],
    [
      "a password without auth_url nor password: auth_url first",
      { OS_AUTH_TYPE: "password", OS_USERNAME: "u" },
      /^auth_url: is required/,
    ],
    [
      "an application credential without auth_url nor id: auth_url first",
      { OS_AUTH_TYPE: "v3applicationcredential" },
      /^auth_url: is required/,
    ],
    [
      "an application credential without its secret",
      { OS_AUTH_URL: "http://k", OS_APPLICATION_CREDENTIAL_ID: "ac" },
      /^application_credential_secret: is required .*OS_APPLICATION_CREDENTIAL_SECRET/,
    ],
    [
      "http_basic with nothing set: the endpoint first",
      { OS_AUTH_TYPE: "http_basic" },
      /^endpoint: is required/,
    ],
    [
      "http_basic without its password",
      { OS_AUTH_TYPE: "http_basic", OS_ENDPOINT_OVERRIDE: "http://i", OS_USERNAME: "u" },
      /^password: is required .*OS_PASSWORD/,
    ],
  ])("explains %s", (_what, env, message) => {
    const { readFile } = reader({ "./clouds.yaml": CLOUDS });
    expect(() => resolveCloudConfig({ env, readFile })).toThrow(message);
  });
});
