import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { parseOrThrow } from "../validation.ts";
import { type Credentials, CredentialsSchema, type SecretStore } from "./store.ts";

/**
 * AWS Secrets Manager. Secret names carry a prefix (e.g. `valence/`) so IAM policies can scope them.
 */
export class SecretsManagerStore implements SecretStore {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly prefix: string,
  ) {}

  async put(name: string, credentials: Credentials): Promise<string> {
    const secretId = `${this.prefix}${name}`;
    const SecretString = JSON.stringify(credentials);
    try {
      const created = await this.client.send(new CreateSecretCommand({ Name: secretId, SecretString }));
      return created.ARN ?? secretId;
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      const updated = await this.client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString }));
      return updated.ARN ?? secretId;
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
