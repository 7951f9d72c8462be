import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RotateSecretCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { parseOrThrow } from "../validation.ts";
import { type Credentials, CredentialsSchema, type SecretStore } from "./store.ts";

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
    private readonly client: SecretsManagerClient,
    private readonly prefix: string,
    private readonly rotation?: SecretRotationSettings,
  ) {}

  async put(name: string, credentials: Credentials): Promise<string> {
    const secretId = `${this.prefix}${name}`;
    const SecretString = JSON.stringify(credentials);
    try {
      const created = await this.client.send(new CreateSecretCommand({ Name: secretId, SecretString }));
      const ref = created.ARN ?? secretId;
      await this.enableRotation(ref);
      return ref;
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      const updated = await this.client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString }));
      return updated.ARN ?? secretId;
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
      await this.client.send(
        new RotateSecretCommand({
          SecretId: ref,
          RotationLambdaARN: this.rotation.lambdaArn,
          RotationRules: { AutomaticallyAfterDays: this.rotation.days },
          RotateImmediately: false,
        }),
      );
    } catch (error) {
      await this.delete(ref).catch(() => undefined);
      throw error;
    }
  }

  async get(ref: string): Promise<Credentials> {
    const result = await this.client.send(new GetSecretValueCommand({ SecretId: ref }));
    return parseOrThrow(CredentialsSchema, JSON.parse(result.SecretString ?? "{}"), "secret");
  }

  async delete(ref: string): Promise<void> {
    try {
      await this.client.send(new DeleteSecretCommand({ SecretId: ref, ForceDeleteWithoutRecovery: true }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}
