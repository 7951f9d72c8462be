/**
 * Stands in for `@smithy/core/event-streams` in the Lambda bundles (an esbuild alias, see
 * `infra/constructs/valence-function.ts`); never imported by our code.
 *
 * The SDK's protocols load the event-stream codec (~10 KB) for operations that stream events, and the Lambda
 * client wires a marshaller for them when it is built. No call Valence makes streams events (DynamoDB, Secrets
 * Manager, the durable checkpoints), so the marshaller is wired as the SDK wires it and fails if ever used.
 */
const refuse = (): never => {
  throw new Error("event streams are not bundled with Valence's functions (lib/aws/no-event-streams.ts)");
};

interface EventStreamSerdeInput {
  eventStreamSerdeProvider: (input: EventStreamSerdeInput) => unknown;
}

export const eventStreamSerdeProvider = () => ({ serialize: refuse, deserialize: refuse });

export const resolveEventStreamSerdeConfig = <T extends EventStreamSerdeInput>(input: T) =>
  Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) });

export class EventStreamSerde {
  constructor() {
    refuse();
  }
}
