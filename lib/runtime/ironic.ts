import { readFileSync } from "node:fs";
import { type Config, config } from "../config.ts";
import { createIronicDriver, type IronicDriver } from "../ironic/index.ts";
import { resolveIronicSettings } from "../ironic/settings.ts";
import { logger } from "../log.ts";
import { secretStringOf } from "../secrets/secrets-manager.ts";
import { secretsManagerApiFor } from "./secrets.ts";
import { once } from "./store.ts";

function readOptionalFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * The YAML parser for clouds.yaml, in the local stack only: Lambda has no clouds.yaml, and a module name the
 * bundler cannot see keeps the parser out of every function bundle.
 */
async function localYamlParser(settings: Config): Promise<((text: string) => unknown) | undefined> {
  if (!settings.VALENCE_LOCAL) return undefined;
  const name = "yaml";
  const yaml = (await import(name)) as { parse: (text: string) => unknown };
  return yaml.parse;
}

/** The Ironic driver, once per configuration: its negotiated API version and Keystone token are reused. */
export const ironicDriverFor = /* @__PURE__ */ once(async (settings): Promise<IronicDriver> => {
  let secret: Record<string, unknown> | undefined;
  if (settings.IRONIC_SECRET_ARN) {
    const text = await secretStringOf(secretsManagerApiFor(settings), settings.IRONIC_SECRET_ARN);
    secret = JSON.parse(text ?? "{}") as Record<string, unknown>;
  }
  const { url, auth } = await resolveIronicSettings({
    url: settings.IRONIC_URL,
    authType: settings.IRONIC_AUTH_TYPE,
    username: settings.IRONIC_USERNAME,
    password: settings.IRONIC_PASSWORD,
    secret,
    env: settings.openstack,
    readFile: readOptionalFile,
    parseYaml: await localYamlParser(settings),
  });
  return createIronicDriver({
    ...(url ? { url } : {}),
    auth,
    timeoutMs: settings.IRONIC_TIMEOUT_MS,
    ...(settings.IRONIC_MAX_API_VERSION ? { maxVersion: settings.IRONIC_MAX_API_VERSION } : {}),
    log: (event) => logger.debug("ironic", { ...event }),
  });
});

export const ironicDriver = () => ironicDriverFor(config());
