import { randomUUID } from "node:crypto";
import {
  DescribeSecretCommand,
  type DescribeSecretCommandInput as DescribeSecretInput,
  GetRandomPasswordCommand,
  type GetRandomPasswordCommandInput as GetRandomPasswordInput,
  GetSecretValueCommand,
  type GetSecretValueCommandInput as GetSecretValueInput,
  InvalidParameterException,
  InvalidRequestException,
  PutSecretValueCommand,
  type PutSecretValueCommandInput as PutSecretValueInput,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
  type UpdateSecretVersionStageCommandInput as UpdateSecretVersionStageInput,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { serveSecretsManager } from "./secrets-manager-wire.ts";

/**
 * One secret in Secrets Manager, with versions and staging labels as the service keeps them, behind
 * aws-sdk-client-mock: what a rotation function sees of DescribeSecret, GetSecretValue, PutSecretValue,
 * UpdateSecretVersionStage and GetRandomPassword. `startRotation()` does what RotateSecret does before it calls
 * the function: a new version id, staged AWSPENDING, without a value yet. `serve()` answers the same over
 * Secrets Manager's JSON protocol on HTTP, for the functions that reach it by signed requests (point
 * `SECRETS_MANAGER_ENDPOINT` at its URL).
 */
export interface FakeRotatingSecret {
  readonly client: SecretsManagerClient;
  readonly mock: { restore(): void };
  arn: string;
  name: string;
  rotationEnabled: boolean;
  /** The value staged AWSCURRENT, parsed. */
  current(): { username: string; password: string };
  stagesOf(versionId: string): string[];
  startRotation(): string;
  /** Answers on HTTP as Secrets Manager: its URL (`restore()` stops it). */
  serve(): Promise<string>;
  /** The actions asked over HTTP, in order. */
  readonly servedActions: string[];
  /** Every GetRandomPassword request's input. */
  readonly passwordRequests: Array<Record<string, unknown>>;
  restore(): void;
}

interface Version {
  value?: string;
  stages: Set<string>;
}

const notFound = (message: string) => new ResourceNotFoundException({ message, $metadata: {} });

export function fakeRotatingSecret(options: {
  name: string;
  value: { username: string; password: string };
  rotationEnabled?: boolean;
  /** Answer for every SecretsManagerClient, not only `client`. @default false */
  everyClient?: boolean;
}): FakeRotatingSecret {
  // The instance: each fake answers only for its own client. The class: for every client (a handler's own).
  const client = new SecretsManagerClient({ region: "eu-west-1" });
  const mock = mockClient(options.everyClient ? SecretsManagerClient : client);
  const arn = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${options.name}-AbCdEf`;
  const versions = new Map<string, Version>([
    [randomUUID(), { value: JSON.stringify(options.value), stages: new Set(["AWSCURRENT"]) }],
  ]);
  let passwords = 0;
  const passwordRequests: Array<Record<string, unknown>> = [];

  const checkId = (secretId: string | undefined) => {
    if (secretId !== arn && secretId !== options.name) throw notFound(`secret ${secretId} not found`);
  };
  const withStage = (stage: string) =>
    [...versions.entries()].find(([, version]) => version.stages.has(stage));
  const moveStage = (stage: string, to: string) => {
    for (const version of versions.values()) version.stages.delete(stage);
    versions.get(to)?.stages.add(stage);
  };

  const secret: FakeRotatingSecret = {
    client,
    mock,
    arn,
    name: options.name,
    rotationEnabled: options.rotationEnabled ?? true,
    passwordRequests,
    current() {
      return JSON.parse(withStage("AWSCURRENT")?.[1].value ?? "{}");
    },
    stagesOf: (versionId) => [...(versions.get(versionId)?.stages ?? [])],
    startRotation() {
      const token = randomUUID();
      for (const version of versions.values()) version.stages.delete("AWSPENDING");
      versions.set(token, { stages: new Set(["AWSPENDING"]) });
      return token;
    },
    serve: async () => "",
    servedActions: [],
    restore: () => mock.restore(),
  };

  const describeSecret = (input: DescribeSecretInput) => {
    checkId(input.SecretId);
    return {
      ARN: arn,
      Name: options.name,
      RotationEnabled: secret.rotationEnabled,
      VersionIdsToStages: Object.fromEntries(
        [...versions.entries()].map(([id, version]) => [id, [...version.stages]]),
      ),
    };
  };
  const getSecretValue = (input: GetSecretValueInput) => {
    checkId(input.SecretId);
    const found = input.VersionId
      ? ([input.VersionId, versions.get(input.VersionId)] as const)
      : withStage(input.VersionStage ?? "AWSCURRENT");
    const [id, version] = found ?? [];
    if (!id || !version?.value) throw notFound("no such version");
    if (input.VersionStage && !version.stages.has(input.VersionStage))
      throw notFound("version not so staged");
    return {
      ARN: arn,
      Name: options.name,
      VersionId: id,
      SecretString: version.value,
      VersionStages: [...version.stages],
    };
  };
  const putSecretValue = (input: PutSecretValueInput) => {
    checkId(input.SecretId);
    const id = input.ClientRequestToken ?? randomUUID();
    const existing = versions.get(id);
    if (existing?.value !== undefined && existing.value !== input.SecretString) {
      throw new ResourceExistsException({
        message: "a version with this token has another value",
        $metadata: {},
      });
    }
    if (existing) existing.value = input.SecretString;
    else versions.set(id, { value: input.SecretString, stages: new Set() });
    for (const stage of input.VersionStages ?? ["AWSCURRENT"]) moveStage(stage, id);
    return { ARN: arn, Name: options.name, VersionId: id, VersionStages: input.VersionStages };
  };
  const updateSecretVersionStage = (input: UpdateSecretVersionStageInput) => {
    checkId(input.SecretId);
    const stage = String(input.VersionStage);
    const holder = withStage(stage)?.[0];
    if (holder && holder !== input.MoveToVersionId && holder !== input.RemoveFromVersionId) {
      throw new InvalidParameterException({
        message: `${stage} is on ${holder}, not the version named`,
        $metadata: {},
      });
    }
    const target = input.MoveToVersionId ? versions.get(input.MoveToVersionId) : undefined;
    if (input.MoveToVersionId && !target)
      throw new InvalidRequestException({ message: "no such version", $metadata: {} });
    if (stage === "AWSCURRENT" && holder && holder !== input.MoveToVersionId)
      moveStage("AWSPREVIOUS", holder);
    for (const version of versions.values()) version.stages.delete(stage);
    target?.stages.add(stage);
    return { ARN: arn, Name: options.name };
  };
  const getRandomPassword = (input: GetRandomPasswordInput) => {
    passwordRequests.push({ ...input });
    passwords += 1;
    return { RandomPassword: `Rotated-${passwords}-Zq9x!` };
  };
  const actions: Record<string, (input: never) => unknown> = {
    DescribeSecret: describeSecret,
    GetSecretValue: getSecretValue,
    PutSecretValue: putSecretValue,
    UpdateSecretVersionStage: updateSecretVersionStage,
    GetRandomPassword: getRandomPassword,
  };
  mock.on(DescribeSecretCommand).callsFake(describeSecret);
  mock.on(GetSecretValueCommand).callsFake(getSecretValue);
  mock.on(PutSecretValueCommand).callsFake(putSecretValue);
  mock.on(UpdateSecretVersionStageCommand).callsFake(updateSecretVersionStage);
  mock.on(GetRandomPasswordCommand).callsFake(getRandomPassword);

  let server: Awaited<ReturnType<typeof serveSecretsManager>> | undefined;
  secret.serve = async () => {
    server ??= await serveSecretsManager((action, input) => {
      secret.servedActions.push(action);
      const answer = actions[action];
      if (!answer) throw new Error(`the fake secret does not answer ${action}`);
      return answer(input as never);
    });
    return server.url;
  };
  secret.restore = () => {
    mock.restore();
    void server?.close();
  };
  return secret;
}
