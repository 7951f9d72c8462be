import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config.ts";
import {
  type createDocumentClient,
  DEFAULT_DYNAMODB_CONNECTION_TIMEOUT_MS,
  DEFAULT_DYNAMODB_REQUEST_TIMEOUT_MS,
} from "../../lib/db/client.ts";
import { ConfigurationError } from "../../lib/errors.ts";
import { documentClientFor } from "../../lib/runtime/store.ts";

interface HandlerOptions {
  connectionTimeout?: number;
  requestTimeout?: number;
  throwOnRequestTimeout?: boolean;
}

/**
 * The options the client's NodeHttpHandler was built with. The handler resolves them lazily (on its first request),
 * so read the promise it keeps them in rather than send anything.
 */
async function handlerOptions(db: ReturnType<typeof createDocumentClient>): Promise<HandlerOptions> {
  const handler = db.config.requestHandler as unknown as { configProvider?: Promise<HandlerOptions> };
  if (!handler.configProvider)
    throw new Error("the client's request handler is not the SDK's NodeHttpHandler");
  return handler.configProvider;
}

describe("createDocumentClient", () => {
  it("builds the DynamoDB client with the timeouts the configuration sets", async () => {
    const settings = parseConfig({
      VALENCE_DYNAMODB_CONNECT_TIMEOUT_MS: "1500",
      VALENCE_DYNAMODB_TIMEOUT_MS: "2500",
    });

    const options = await handlerOptions(documentClientFor(settings));

    expect(options).toMatchObject({
      connectionTimeout: 1500,
      requestTimeout: 2500,
      throwOnRequestTimeout: true,
    });
  });

  it("has explicit timeouts when the configuration sets none", async () => {
    const options = await handlerOptions(documentClientFor(parseConfig({})));

    expect(options).toMatchObject({
      connectionTimeout: DEFAULT_DYNAMODB_CONNECTION_TIMEOUT_MS,
      requestTimeout: DEFAULT_DYNAMODB_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    });
    expect(DEFAULT_DYNAMODB_CONNECTION_TIMEOUT_MS).toBeGreaterThan(0);
    expect(DEFAULT_DYNAMODB_REQUEST_TIMEOUT_MS).toBeGreaterThan(0);
  });

  it.each([["0"], ["-1"], ["1.5"], ["soon"]])("refuses a DynamoDB timeout of %j", (value) => {
    expect(() => parseConfig({ VALENCE_DYNAMODB_TIMEOUT_MS: value })).toThrow(ConfigurationError);
    expect(() => parseConfig({ VALENCE_DYNAMODB_CONNECT_TIMEOUT_MS: value })).toThrow(ConfigurationError);
  });
});
