/**
 * The README's ways to run the local stack against Ironic, each as a user meets it: `npm start`'s entry as a
 * process with the environment the README documents, then a register of a demo node over HTTP that reaches
 * Ironic, and an unregister that removes it again.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createIronicDriver, IronicNodeNotFoundError } from "../../lib/ironic/index.ts";
import { callApi, type NpmStart, startNpmStart } from "../support/npm-start.ts";
import { useIronic } from "../support/openstack.ts";

const BASIC = { username: "valence-readme", password: "Readme-Basic-Pw-7c2" };
const noauth = useIronic();
const basic = useIronic({ auth: "http_basic", basicUsers: { [BASIC.username]: BASIC.password } });

describe("npm start the README's ways, each registering a demo node in Ironic", () => {
  const temporary: string[] = [];
  const running: NpmStart[] = [];
  afterAll(async () => {
    for (const stack of running) await stack.stop("SIGTERM").catch(() => undefined);
    for (const dir of temporary) await rm(dir, { recursive: true, force: true });
  });
  const tempDir = async (prefix: string) => {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    temporary.push(dir);
    return dir;
  };

  /** Starts, registers `test-node`, checks Ironic has it, unregisters, checks it is gone; returns the output. */
  async function registerRoundTrip(
    env: Record<string, string>,
    ironic: { url?: string; auth: Parameters<typeof createIronicDriver>[0]["auth"] },
  ): Promise<NpmStart> {
    const stack = await startNpmStart({ dataDir: join(await tempDir("valence-readme-"), "data"), env });
    running.push(stack);
    const registered = await callApi(stack.base, "POST", "/v1/nodes/test-node/register", {});
    expect(registered.status, registered.text).toBe(200);
    expect(registered.body.managed_by).toBe("ironic");
    const uuid = registered.body.ironic_node_uuid as string;

    const driver = createIronicDriver({ url: ironic.url ?? stack.ironic, auth: ironic.auth });
    const node = await driver.getNode(uuid);
    expect(node.name).toBe("test-node");
    expect(node.driver_info.redfish_address).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);

    const unregistered = await callApi(stack.base, "POST", "/v1/nodes/test-node/unregister", {});
    expect(unregistered.status, unregistered.text).toBe(200);
    await expect(driver.getNode(uuid)).rejects.toBeInstanceOf(IronicNodeNotFoundError);
    expect(await stack.stop("SIGINT")).toBe(0);
    return stack;
  }

  it("starts its own Ironic by default", async () => {
    const stack = await registerRoundTrip({}, { auth: { type: "none" } });
    expect(stack.ironic).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("uses the Ironic IRONIC_URL points at, with nothing else set (no auth)", async () => {
    const stack = await registerRoundTrip(
      { IRONIC_URL: noauth.url },
      { url: noauth.url, auth: { type: "none" } },
    );
    expect(stack.ironic).toBe(noauth.url);
  });

  it("authenticates with IRONIC_AUTH_TYPE=http_basic, IRONIC_USERNAME and IRONIC_PASSWORD", async () => {
    const stack = await registerRoundTrip(
      {
        IRONIC_URL: basic.url,
        IRONIC_AUTH_TYPE: "http_basic",
        IRONIC_USERNAME: BASIC.username,
        IRONIC_PASSWORD: BASIC.password,
      },
      { url: basic.url, auth: { type: "http_basic", ...BASIC } },
    );
    expect(stack.output()).not.toContain(BASIC.password);
  });

  it("reads OS_CLOUD from ~/.config/openstack/clouds.yaml, as the openstack CLI does", async () => {
    const home = await tempDir("valence-home-");
    await mkdir(join(home, ".config", "openstack"), { recursive: true });
    await writeFile(
      join(home, ".config", "openstack", "clouds.yaml"),
      [
        "clouds:",
        "  readme-lab:",
        "    auth_type: http_basic",
        "    auth:",
        `      username: ${BASIC.username}`,
        `      password: ${BASIC.password}`,
        `    baremetal_endpoint_override: ${basic.url}`,
      ].join("\n"),
      { mode: 0o600 },
    );
    const stack = await registerRoundTrip(
      { HOME: home, OS_CLOUD: "readme-lab" },
      { url: basic.url, auth: { type: "http_basic", ...BASIC } },
    );
    expect(stack.ironic).toContain("OS_CLOUD");
  });
});
