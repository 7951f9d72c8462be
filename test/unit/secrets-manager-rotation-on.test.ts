import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  RotateSecretCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config.ts";
import { secretStoreFor } from "../../lib/runtime/secrets.ts";
import { SecretsManagerStore } from "../../lib/secrets/secrets-manager.ts";

const credentials = { username: "admin", password: "s3cret" };
const ARN = "arn:aws:secretsmanager:eu-west-1:1:secret:valence/podm/1-abc";
const ROTATION = { lambdaArn: "arn:aws:lambda:eu-west-1:1:function:rotate", days: 30 };

const sm = mockClient(SecretsManagerClient);
afterEach(() => sm.reset());

describe("SecretsManagerStore with rotation on", () => {
  it("turns rotation on for a secret it creates, first rotation on the schedule", async () => {
    sm.on(CreateSecretCommand).resolves({ ARN });
    sm.on(RotateSecretCommand).resolves({ ARN });
    const store = new SecretsManagerStore(new SecretsManagerClient({}), "valence/", ROTATION);

    expect(await store.put("podm/1", credentials)).toBe(ARN);

    expect(sm.commandCalls(RotateSecretCommand).map((call) => call.args[0].input)).toEqual([
      {
        SecretId: ARN,
        RotationLambdaARN: ROTATION.lambdaArn,
        RotationRules: { AutomaticallyAfterDays: 30 },
        RotateImmediately: false,
      },
    ]);
  });

  it("deletes the secret it created when rotation cannot be turned on, and says why", async () => {
    sm.on(CreateSecretCommand).resolves({ ARN });
    sm.on(RotateSecretCommand).rejects(new Error("AccessDenied: secretsmanager:RotateSecret"));
    const store = new SecretsManagerStore(new SecretsManagerClient({}), "valence/", ROTATION);

    await expect(store.put("podm/1", credentials)).rejects.toThrow(/RotateSecret/);
    expect(sm.commandCalls(DeleteSecretCommand)[0]?.args[0].input).toMatchObject({ SecretId: ARN });
  });

  it("leaves rotation alone when it only puts a new value, or when rotation is off", async () => {
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: "exists", $metadata: {} }));
    sm.on(PutSecretValueCommand).resolves({ ARN });
    await new SecretsManagerStore(new SecretsManagerClient({}), "valence/", ROTATION).put(
      "podm/1",
      credentials,
    );

    sm.on(CreateSecretCommand).resolves({ ARN });
    await new SecretsManagerStore(new SecretsManagerClient({}), "valence/").put("podm/2", credentials);

    expect(sm.commandCalls(RotateSecretCommand)).toEqual([]);
  });
});

describe("secretStoreFor", () => {
  it("turns rotation on when the deployment names the rotation function and its schedule, and only then", async () => {
    sm.on(CreateSecretCommand).resolves({ ARN });
    sm.on(RotateSecretCommand).resolves({ ARN });
    await secretStoreFor(parseConfig({ VALENCE_SECRET_ROTATION_LAMBDA_ARN: ROTATION.lambdaArn })).put(
      "podm/1",
      credentials,
    );
    expect(sm.commandCalls(RotateSecretCommand)).toEqual([]);

    await secretStoreFor(
      parseConfig({
        VALENCE_SECRET_ROTATION_LAMBDA_ARN: ROTATION.lambdaArn,
        VALENCE_SECRET_ROTATION_DAYS: "7",
      }),
    ).put("podm/2", credentials);
    expect(sm.commandCalls(RotateSecretCommand)[0]?.args[0].input).toMatchObject({
      RotationLambdaARN: ROTATION.lambdaArn,
      RotationRules: { AutomaticallyAfterDays: 7 },
    });
  });
});
