import type { IronicAuth } from "./auth.ts";
import { type CloudConfigSources, resolveCloudConfig } from "./clouds.ts";
import { IronicConfigError } from "./errors.ts";

export interface IronicSettingsInput {
  url?: string | undefined;
  authType?: "none" | "http_basic" | "keystone" | undefined;
  username?: string | undefined;
  password?: string | undefined;
  /** Parsed JSON of the Secrets Manager secret, if one is configured: its keys are clouds.yaml `auth` keys. */
  secret?: Record<string, unknown> | undefined;
  /** `OS_*` variables. */
  env: Record<string, string | undefined>;
  readFile: CloudConfigSources["readFile"];
  parseYaml?: CloudConfigSources["parseYaml"];
}

/**
 * How to reach Ironic, from (in order of precedence) explicit settings (`url` is the endpoint override), the
 * Secrets Manager secret, `OS_*` variables and clouds.yaml. Pure, so Lambda, the local stack and tests resolve it
 * alike.
 */
export async function resolveIronicSettings(
  input: IronicSettingsInput,
): Promise<{ url?: string; auth: IronicAuth }> {
  const env: Record<string, string | undefined> = { ...input.env };
  for (const [key, value] of Object.entries(input.secret ?? {})) {
    if (typeof value === "string") env[`OS_${key.toUpperCase()}`] = value;
  }
  if (input.username) env.OS_USERNAME = input.username;
  if (input.password) env.OS_PASSWORD = input.password;
  // IRONIC_URL is the endpoint, whatever the auth: with nothing else set, it alone means Ironic without auth.
  if (input.url) env.OS_BAREMETAL_ENDPOINT_OVERRIDE = input.url;

  if (input.authType === "none") return { ...(input.url ? { url: input.url } : {}), auth: { type: "none" } };
  if (input.authType === "http_basic") {
    const { OS_USERNAME: username, OS_PASSWORD: password } = env;
    if (!username || !password) {
      throw new IronicConfigError("IRONIC_AUTH_TYPE=http_basic needs a username and a password");
    }
    return { ...(input.url ? { url: input.url } : {}), auth: { type: "http_basic", username, password } };
  }
  const resolved = resolveCloudConfig({
    env,
    readFile: input.readFile,
    ...(input.parseYaml ? { parseYaml: input.parseYaml } : {}),
  });
  if (input.authType === "keystone" && resolved.auth.type !== "keystone") {
    throw new IronicConfigError(
      "IRONIC_AUTH_TYPE=keystone needs an auth_url (OS_AUTH_URL, OS_CLOUD or the secret)",
    );
  }
  const url = input.url ?? resolved.url;
  return { ...(url ? { url } : {}), auth: resolved.auth };
}
