import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { parseOrThrow } from "../validation.ts";
import { type Credentials, CredentialsSchema } from "./store.ts";

/** Secrets Manager's staging labels: the version in use, the one being rotated in, the one before. */
export const AWSCURRENT = "AWSCURRENT";
export const AWSPENDING = "AWSPENDING";

export interface RotatingSecretMetadata {
  arn: string;
  name: string;
  rotationEnabled: boolean;
  /** Version id → its staging labels, as DescribeSecret's `VersionIdsToStages`. */
  versions: Record<string, string[]>;
}

/**
 * What a rotation needs of the secret store, by version and staging label. Only Secrets Manager stages versions,
 * so this port has one adapter; the rotation's tests drive it with aws-sdk-client-mock.
 */
export interface RotatingSecrets {
  describe(secretId: string): Promise<RotatingSecretMetadata>;
  /** The AWSCURRENT value. */
  current(secretId: string): Promise<Credentials>;
  /** The value of version `versionId` if it is staged AWSPENDING; `undefined` if it has no value yet. */
  pending(secretId: string, versionId: string): Promise<Credentials | undefined>;
  /** Creates version `versionId` with this value, staged AWSPENDING. Idempotent for the same value. */
  putPending(secretId: string, versionId: string, credentials: Credentials): Promise<void>;
  /** Moves AWSCURRENT to `versionId` from `fromVersionId` (which Secrets Manager then labels AWSPREVIOUS). */
  promote(secretId: string, versionId: string, fromVersionId: string | undefined): Promise<void>;
  /** A new password from Secrets Manager's generator, without the characters given. */
  randomPassword(options: { excludeCharacters: string; length: number }): Promise<string>;
}

const parseCredentials = (text: string | undefined) =>
  parseOrThrow(CredentialsSchema, JSON.parse(text ?? "{}"), "secret");

export class SecretsManagerRotatingSecrets implements RotatingSecrets {
  constructor(private readonly client: SecretsManagerClient) {}

  async describe(secretId: string): Promise<RotatingSecretMetadata> {
    const described = await this.client.send(new DescribeSecretCommand({ SecretId: secretId }));
    return {
      arn: described.ARN ?? secretId,
      name: described.Name ?? secretId,
      rotationEnabled: described.RotationEnabled === true,
      versions: described.VersionIdsToStages ?? {},
    };
  }

  async current(secretId: string): Promise<Credentials> {
    const result = await this.client.send(
      new GetSecretValueCommand({ SecretId: secretId, VersionStage: AWSCURRENT }),
    );
    return parseCredentials(result.SecretString);
  }

  async pending(secretId: string, versionId: string): Promise<Credentials | undefined> {
    try {
      const result = await this.client.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId, VersionStage: AWSPENDING }),
      );
      return parseCredentials(result.SecretString);
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }

  async putPending(secretId: string, versionId: string, credentials: Credentials): Promise<void> {
    await this.client.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        ClientRequestToken: versionId,
        SecretString: JSON.stringify(credentials),
        VersionStages: [AWSPENDING],
      }),
    );
  }

  async promote(secretId: string, versionId: string, fromVersionId: string | undefined): Promise<void> {
    await this.client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: AWSCURRENT,
        MoveToVersionId: versionId,
        ...(fromVersionId ? { RemoveFromVersionId: fromVersionId } : {}),
      }),
    );
  }

  async randomPassword(options: { excludeCharacters: string; length: number }): Promise<string> {
    const result = await this.client.send(
      new GetRandomPasswordCommand({
        ExcludeCharacters: options.excludeCharacters,
        PasswordLength: options.length,
        RequireEachIncludedType: true,
      }),
    );
    if (!result.RandomPassword) throw new Error("GetRandomPassword answered without a password");
    return result.RandomPassword;
  }
}
