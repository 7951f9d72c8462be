import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handler } from "../../functions/rotate-pod-manager-secret.ts";
import { parseConfig, useConfig } from "../../lib/config.ts";
import { DynamoPodManagerRepository } from "../../lib/podmanagers/dynamo-repository.ts";
import { type RedfishEmulator, startRedfishEmulator } from "../../local/redfish-emulator/index.ts";
import { startTestTable, type TestTable } from "../support/dynamo.ts";
import { type FakeRotatingSecret, fakeRotatingSecret } from "../support/rotating-secret.ts";

/**
 * The rotation function's handler as Secrets Manager invokes it, one event per step: the deployment's wiring
 * (dynalite for the pod-manager record, the emulator over HTTP, Secrets Manager behind aws-sdk-client-mock).
 */

const context = (): Context =>
  ({
    awsRequestId: randomUUID(),
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:rotate-pod-manager-secret",
    functionName: "rotate-pod-manager-secret",
    getRemainingTimeInMillis: () => 60_000,
  }) as unknown as Context;

describe("rotate-pod-manager-secret handler", () => {
  let table: TestTable;
  let emulator: RedfishEmulator;
  let secret: FakeRotatingSecret;

  beforeAll(async () => {
    [table, emulator] = await Promise.all([startTestTable(), startRedfishEmulator()]);
    const uuid = randomUUID();
    secret = fakeRotatingSecret({
      name: `valence/Test/podm/${uuid}`,
      value: { username: "admin", password: "admin" },
      everyClient: true,
    });
    await new DynamoPodManagerRepository(table.db, table.tableName).create({
      uuid,
      name: "pod-rotated",
      url: emulator.url,
      driver: "redfish",
      verify_ca: true,
      status: "online",
      username: "admin",
      credentials_ref: secret.arn,
    });
    useConfig(
      parseConfig({
        VALENCE_TABLE_NAME: table.tableName,
        DYNAMODB_ENDPOINT: table.endpoint,
        VALENCE_SECRET_PREFIX: "valence/Test/",
        VALENCE_PODM_ALLOW_HTTP: "true",
        VALENCE_PODM_ALLOW_LOOPBACK: "true",
      }),
    );
  });
  afterAll(async () => {
    secret?.restore();
    await Promise.all([table?.close(), emulator?.close()]);
  });

  const invoke = (Step: string, token: string) =>
    handler({ Step, SecretId: secret.arn, ClientRequestToken: token }, context());

  it("rotates the password on the pod manager and promotes it, step by step", async () => {
    const token = secret.startRotation();
    // The pod manager has no node in Ironic: finishSecret's re-sync has nothing to carry the password into.
    for (const step of ["createSecret", "setSecret", "testSecret", "finishSecret"]) await invoke(step, token);

    const rotated = secret.current();
    expect(rotated.password).not.toBe("admin");
    expect(secret.stagesOf(token)).toContain("AWSCURRENT");
    const login = (password: string) =>
      fetch(`${emulator.url}/redfish/v1/SessionService/Sessions`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ UserName: "admin", Password: password }),
      }).then((response) => response.status);
    expect(await login(rotated.password)).toBe(201);
    expect(await login("admin")).toBe(401);
  });

  it("refuses an event that is not a rotation step", async () => {
    await expect(invoke("dropSecret", secret.startRotation())).rejects.toThrow(/Step/);
  });
});
