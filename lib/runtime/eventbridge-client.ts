import { signedPost } from "../aws/signed-call.ts";
import type { PutEvents, PutEventsOutput } from "../events/eventbridge.ts";
import { defaultProvider } from "./lambda-credentials.ts";
import { once } from "./store.ts";

/**
 * EventBridge's PutEvents for the configured region, as the publisher's port takes it: one signed request
 * (`X-Amz-Target: AWSEvents.PutEvents`, its JSON 1.1 protocol, `Time` in epoch seconds). A call EventBridge
 * refuses as a whole throws; entries it refused come back in the answer, for the publisher to retry.
 */
export const eventBridgePutEventsFor = /* @__PURE__ */ once((settings): PutEvents => {
  const credentials = defaultProvider();
  const region = settings.AWS_REGION;
  const url = new URL(
    `https://events.${region}.${region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com"}/`,
  );
  return async (input) => {
    const answer = await signedPost({
      url,
      region,
      service: "events",
      credentials,
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AWSEvents.PutEvents" },
      body: JSON.stringify({
        Entries: input.Entries.map((entry) => ({ ...entry, Time: entry.Time.getTime() / 1000 })),
      }),
    });
    if (answer.status !== 200) {
      throw new Error(`EventBridge refused PutEvents (${answer.status} ${answer.errorType})`.trim());
    }
    return JSON.parse(answer.text) as PutEventsOutput;
  };
});
