import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { logInvocation } from "../lib/log.ts";
import { RotationEventSchema } from "../lib/podmanagers/rotation.ts";
import { podManagerSecretRotation } from "../lib/runtime/rotation.ts";
import { parseOrThrow } from "../lib/validation.ts";

/**
 * Invoked by Secrets Manager, once per rotation step (`createSecret`, `setSecret`, `testSecret`, `finishSecret`),
 * for a pod-manager secret: see `lib/podmanagers/rotation.ts`. A thrown error fails the step; Secrets Manager
 * retries the rotation later.
 */
export const handler = middy<unknown, void, Error, Context>()
  .use({
    before: (request) => logInvocation(request.context, request.context.awsRequestId),
  })
  .handler(async (event, context) => {
    const rotation = parseOrThrow(RotationEventSchema, event, "event");
    await podManagerSecretRotation().run({
      step: rotation.Step,
      secretId: rotation.SecretId,
      token: rotation.ClientRequestToken,
      caller: { requestId: context.awsRequestId, principal: context.invokedFunctionArn },
    });
  });
