import { describe, expect, it } from "vitest";
import { lambdaEndpointOf, lambdaOperationStarter } from "../../lib/aws/lambda-starter.ts";

const ARN = "arn:aws:lambda:eu-west-1:123456789012:function:valence-operation-workflow:live";
const CREDENTIALS = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

function fakeLambda(answer: () => Response) {
  const requests: { url: string; init: RequestInit }[] = [];
  const fetch = (async (url: URL | string, init?: RequestInit) => {
    requests.push({ url: String(url), init: init ?? {} });
    return answer();
  }) as typeof globalThis.fetch;
  return { requests, fetch };
}

describe("lambdaOperationStarter", () => {
  it("invokes the workflow's alias asynchronously, signed, with the durable execution name of the operation", async () => {
    const lambda = fakeLambda(() => new Response(null, { status: 202 }));
    const starter = lambdaOperationStarter({
      functionArn: ARN,
      credentials: CREDENTIALS,
      fetch: lambda.fetch,
    });

    await starter.start("0d6c7d0e-1f0a-4b7e-9c57-3a1e6a2b9f10");

    const [request] = lambda.requests;
    expect(request?.url).toBe(
      `https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/${encodeURIComponent(ARN)}/invocations`,
    );
    expect(request?.init.method).toBe("POST");
    expect(JSON.parse(String(request?.init.body))).toEqual({
      operation_id: "0d6c7d0e-1f0a-4b7e-9c57-3a1e6a2b9f10",
    });
    const headers = request?.init.headers as Record<string, string>;
    expect(headers["x-amz-invocation-type"]).toBe("Event");
    expect(headers["x-amz-durable-execution-name"]).toBe("operation-0d6c7d0e-1f0a-4b7e-9c57-3a1e6a2b9f10");
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=.*x-amz-durable-execution-name.*x-amz-invocation-type/,
    );
  });

  it("takes an execution of that name already started as started (a retried start)", async () => {
    const lambda = fakeLambda(
      () =>
        new Response(JSON.stringify({ message: "already started" }), {
          status: 409,
          headers: { "x-amzn-errortype": "DurableExecutionAlreadyStartedException" },
        }),
    );
    const starter = lambdaOperationStarter({
      functionArn: ARN,
      credentials: CREDENTIALS,
      fetch: lambda.fetch,
    });
    await expect(starter.start("op-1")).resolves.toBeUndefined();
  });

  it("fails with OperationNotStarted when Lambda refuses, naming its error type", async () => {
    const lambda = fakeLambda(
      () => new Response("{}", { status: 403, headers: { "x-amzn-errortype": "AccessDeniedException" } }),
    );
    const starter = lambdaOperationStarter({
      functionArn: ARN,
      credentials: CREDENTIALS,
      fetch: lambda.fetch,
    });
    await expect(starter.start("op-1")).rejects.toMatchObject({
      code: "OperationNotStarted",
      message: expect.stringContaining("403 AccessDeniedException"),
    });
  });

  it("takes only qualified function ARNs, and finds the endpoint of their partition", () => {
    expect(lambdaEndpointOf(ARN)).toEqual({ region: "eu-west-1", host: "lambda.eu-west-1.amazonaws.com" });
    expect(lambdaEndpointOf("arn:aws-cn:lambda:cn-north-1:123456789012:function:f:1").host).toBe(
      "lambda.cn-north-1.amazonaws.com.cn",
    );
    expect(() => lambdaEndpointOf("arn:aws:lambda:eu-west-1:123456789012:function:unqualified")).toThrow(
      /qualified/,
    );
  });
});
