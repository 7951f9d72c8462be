import { dnsSuffixOf, signedPost } from "../aws/signed-call.ts";
import type { SigningCredentials } from "../aws/sigv4.ts";
import { parseOrThrow } from "../validation.ts";
import { type Credentials, CredentialsSchema, type SecretStore } from "./store.ts";

/** One action of Secrets Manager's JSON API (`GetSecretValue`, ...): its input in, its output out. */
export type SecretsManagerApi = (
  action: string,
  input: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

/** Secrets Manager refused an action; `name` is its error type (`ResourceNotFoundException`), as the SDK's. */
export class SecretsManagerError extends Error {
  constructor(type: string, message: string) {
    super(message);
    this.name = type;
  }
}

export interface SecretsManagerApiOptions {
  region: string;
  credentials: SigningCredentials;
  /** @default the region's endpoint, `https://secretsmanager.<region>.amazonaws.com/` */
  endpoint?: string;
  fetch?: typeof fetch;
  /** @default 10 s */
  timeoutMs?: number;
}

/** `com.amazonaws.secretsmanager#ResourceNotFoundException` or `ResourceNotFoundException:http://...` → the type. */
function errorTypeOf(header: string, text: string): string {
  let type = header;
  if (!type) {
    try {
      type = String((JSON.parse(text) as { __type?: unknown }).__type ?? "");
    } catch {
      type = "";
    }
  }
  return type.split("#").pop()?.split(":")[0] || "SecretsManagerError";
}

/**
 * Secrets Manager's JSON 1.1 protocol as signed POSTs (`X-Amz-Target: secretsmanager.<Action>`): what the API
 * functions and the workflow need of it (read, create, update, delete a secret; turn rotation on) is five
 * one-call actions, where its SDK client added ~16 KB to each of their bundles. The rotation function, which
 * stages versions, keeps the SDK client (`./rotation.ts`).
 */
export function secretsManagerApi(options: SecretsManagerApiOptions): SecretsManagerApi {
  const partition = options.region.startsWith("cn-") ? "aws-cn" : "aws";
  const url = new URL(
    options.endpoint ?? `https://secretsmanager.${options.region}.${dnsSuffixOf(partition)}/`,
  );
  return async (action, input) => {
    const answer = await signedPost({
      url,
      region: options.region,
      service: "secretsmanager",
      credentials: options.credentials,
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `secretsmanager.${action}`,
      },
      body: JSON.stringify(input),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
    if (answer.status === 200) return answer.text ? (JSON.parse(answer.text) as Record<string, unknown>) : {};
    const type = errorTypeOf(answer.errorType, answer.text);
    throw new SecretsManagerError(type, `Secrets Manager refused ${action} (${answer.status} ${type})`);
  };
}

/** The text of a secret's current version. */
export async function secretStringOf(api: SecretsManagerApi, secretId: string): Promise<string | undefined> {
  const result = await api("GetSecretValue", { SecretId: secretId });
  return typeof result.SecretString === "string" ? result.SecretString : undefined;
}

const refusedAs = (error: unknown, type: string) => error instanceof Error && error.name === type;

/** Secrets Manager rotation for the secrets the store creates: the rotation function and its schedule. */
export interface SecretRotationSettings {
  lambdaArn: string;
  days: number;
}

/**
 * AWS Secrets Manager. Secret names carry a prefix (e.g. `valence/`) so IAM policies can scope them.
 */
export class SecretsManagerStore implements SecretStore {
  constructor(
    private readonly api: SecretsManagerApi,
    private readonly prefix: string,
    private readonly rotation?: SecretRotationSettings,
  ) {}

  async put(name: string, credentials: Credentials): Promise<string> {
    const secretId = `${this.prefix}${name}`;
    const SecretString = JSON.stringify(credentials);
    try {
      const created = await this.api("CreateSecret", { Name: secretId, SecretString });
      const ref = typeof created.ARN === "string" ? created.ARN : secretId;
      await this.enableRotation(ref);
      return ref;
    } catch (error) {
      if (!refusedAs(error, "ResourceExistsException")) throw error;
      const updated = await this.api("PutSecretValue", { SecretId: secretId, SecretString });
      return typeof updated.ARN === "string" ? updated.ARN : secretId;
    }
  }

  /**
   * Turns rotation on for a secret just created, or deletes it: a secret is either rotated as the stack says or
   * not kept. The first rotation waits for the schedule (`RotateImmediately: false`): the password the operator
   * just gave stays the pod manager's until then. Secrets Manager checks the configuration meanwhile by running
   * the rotation function's `testSecret` step.
   */
  private async enableRotation(ref: string): Promise<void> {
    if (!this.rotation) return;
    try {
      await this.api("RotateSecret", {
        SecretId: ref,
        RotationLambdaARN: this.rotation.lambdaArn,
        RotationRules: { AutomaticallyAfterDays: this.rotation.days },
        RotateImmediately: false,
      });
    } catch (error) {
      await this.delete(ref).catch(() => undefined);
      throw error;
    }
  }

  async get(ref: string): Promise<Credentials> {
    return parseOrThrow(
      CredentialsSchema,
      JSON.parse((await secretStringOf(this.api, ref)) ?? "{}"),
      "secret",
    );
  }

  async delete(ref: string): Promise<void> {
    try {
      await this.api("DeleteSecret", { SecretId: ref, ForceDeleteWithoutRecovery: true });
    } catch (error) {
      if (!refusedAs(error, "ResourceNotFoundException")) throw error;
    }
  }
}
