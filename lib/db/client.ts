import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/** A TCP (and TLS) connection to DynamoDB takes well under this, even from a cold Lambda. */
export const DEFAULT_DYNAMODB_CONNECTION_TIMEOUT_MS = 3_000;
/**
 * One attempt of one request. The SDK retries a timed-out attempt (DynamoDB's default is 4 attempts), so a DynamoDB
 * that stops answering fails a request inside API Gateway's 30 s rather than holding it until Lambda's timeout.
 */
export const DEFAULT_DYNAMODB_REQUEST_TIMEOUT_MS = 5_000;

export interface DocumentClientOptions {
  region: string;
  /** dynalite or DynamoDB Local; AWS when absent. */
  endpoint?: string | undefined;
  /** @default DEFAULT_DYNAMODB_CONNECTION_TIMEOUT_MS */
  connectionTimeoutMs?: number | undefined;
  /** @default DEFAULT_DYNAMODB_REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number | undefined;
}

export function createDocumentClient(options: DocumentClientOptions): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: options.region,
    ...(options.endpoint
      ? { endpoint: options.endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
    // The SDK builds its NodeHttpHandler from these options. Without `throwOnRequestTimeout` a request past
    // `requestTimeout` only logs a warning and waits on, up to the SDK's 5-minute socket timeout.
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? DEFAULT_DYNAMODB_CONNECTION_TIMEOUT_MS,
      requestTimeout: options.requestTimeoutMs ?? DEFAULT_DYNAMODB_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/** True for the SDK's conditional-check failure, however it is wrapped. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}
