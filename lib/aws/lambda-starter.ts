import { OperationNotStartedError } from "../errors.ts";
import { executionNameOf, type OperationStarter } from "../operations/service.ts";
import { dnsSuffixOf, signedPost } from "./signed-call.ts";
import type { SigningCredentials } from "./sigv4.ts";

export interface LambdaStarterOptions {
  /** Qualified ARN (version or alias) of the durable workflow function: durable functions are invoked so. */
  functionArn: string;
  credentials: SigningCredentials;
  fetch?: typeof fetch;
  /** @default 10 s */
  timeoutMs?: number;
}

/** `arn:aws:lambda:eu-west-1:123456789012:function:name:alias` → its region and the Lambda endpoint's host. */
export function lambdaEndpointOf(functionArn: string): { region: string; host: string } {
  const match = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):\d{12}:function:[^:]+:[^:]+$/.exec(functionArn);
  if (!match) throw new Error(`not a qualified Lambda function ARN: ${functionArn}`);
  const [, partition, region] = match as unknown as [string, string, string];
  return { region, host: `lambda.${region}.${dnsSuffixOf(partition)}` };
}

/**
 * Starts operations on AWS: an asynchronous Invoke (`X-Amz-Invocation-Type: Event`) of the workflow's qualified
 * ARN with the durable execution name derived from the operation id, so a start retried after a lost answer finds
 * the execution it started rather than starting a second one. A signed request to Lambda's Invoke API
 * (`signedPost`): the Lambda client would add ~70 KB to every function that starts operations.
 */
export function lambdaOperationStarter(options: LambdaStarterOptions): OperationStarter {
  const { region, host } = lambdaEndpointOf(options.functionArn);
  return {
    async start(operationId) {
      const url = new URL(
        `https://${host}/2015-03-31/functions/${encodeURIComponent(options.functionArn)}/invocations`,
      );
      const answer = await signedPost({
        url,
        region,
        service: "lambda",
        credentials: options.credentials,
        headers: {
          "content-type": "application/json",
          "x-amz-invocation-type": "Event",
          "x-amz-durable-execution-name": executionNameOf(operationId),
        },
        body: JSON.stringify({ operation_id: operationId }),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      });
      if (answer.status === 202) return;
      // The execution of this name runs already: the start did happen (an earlier answer was lost).
      if (/DurableExecutionAlreadyStarted/.test(`${answer.errorType} ${answer.text}`)) return;
      throw new OperationNotStartedError(
        `Lambda refused to start the workflow (${answer.status} ${answer.errorType})`.trim(),
      );
    },
  };
}
