/**
 * Structured JSON logs through Powertools for AWS Lambda's logger: one line per entry (`level`, `message`,
 * `timestamp`, `service`, the Lambda context's `cold_start`, `function_name`, `function_request_id`, ...,
 * `xray_trace_id`, `correlation_id`, then the appended keys and the entry's fields). Powertools reads the level
 * itself: Lambda's advanced logging controls (`AWS_LAMBDA_LOG_LEVEL`) first, then `POWERTOOLS_LOG_LEVEL`, then
 * `LOG_LEVEL`; INFO by default. WARN and ERROR go to stderr.
 *
 * Every value passes through the one scrubber (`lib/scrub.ts`) on its way into the line: a string under a
 * secret-named key is masked, every other string (messages, error messages and stacks) scrubbed of credentials.
 * Still, never log a request body or a credential: the scrubber is the last guard, not the first.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { scrubLogValue } from "./scrub.ts";

export type LogFields = Record<string, unknown>;

/**
 * An error as its name, message, stack, code and cause: SDK errors carry request metadata (and the whole HTTP
 * response) we do not want in a log line, which Powertools' own error formatting would copy.
 */
function errorFields(error: Error): LogFields {
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    ...(typeof code === "string" ? { code } : {}),
    ...(error.cause === undefined || error.cause === error ? {} : { cause: error.cause }),
  };
}

/** The JSON replacer step Powertools applies before its own: errors as `errorFields`, every string scrubbed. */
function logValue(key: string, value: unknown): unknown {
  return value instanceof Error ? errorFields(value) : scrubLogValue(key, value);
}

export const logger = new Logger({ serviceName: "valence", jsonReplacerFn: logValue });

/** What the runtime says of an invocation (Lambda's context object), as Powertools' logger reads it. */
export type InvocationContext = Parameters<Logger["addContext"]>[0];

/**
 * Starts the log context of one invocation: keys of the previous one go, the Lambda context (cold start, function
 * name and request id; absent when a handler runs outside Lambda) and the correlation id (API Gateway's request
 * id, an operation's id in its workflow) come in, with `keys`, on every following entry.
 *
 * Powertools' `injectLambdaContext` middleware does the same through middy; the class methods serve middy
 * handlers and the durable workflow (which is no middy handler) alike.
 */
export function logInvocation(
  context: InvocationContext | undefined,
  correlationId: string,
  keys: LogFields = {},
): void {
  logger.resetKeys();
  if (context?.awsRequestId) logger.addContext(context);
  logger.setCorrelationId(correlationId);
  logger.appendKeys(keys);
}
