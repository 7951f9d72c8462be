/**
 * Stands in for `@aws-sdk/client-lambda` in the Lambda bundles (an esbuild alias, see
 * `infra/constructs/valence-function.ts`); never imported by our code, which reaches Lambda by signed requests
 * (`./lambda-starter.ts`).
 *
 * The durable execution SDK loads the Lambda client for its checkpoints (`import("@aws-sdk/client-lambda")`) and
 * uses the client and two commands of it. The package's entry point brings every command, the aggregated client,
 * waiters, paginators and enums (~50 KB of the workflow's bundle); these are the same modules, by file, without
 * the rest. The package's `exports` map hides its files, hence the paths; their types are the package's
 * (`dist-types`), which a file of `dist-es` does not point to.
 */
// @ts-expect-error -- no declaration next to the file (see above)
export { CheckpointDurableExecutionCommand } from "../../node_modules/@aws-sdk/client-lambda/dist-es/commands/CheckpointDurableExecutionCommand.js";
// @ts-expect-error -- no declaration next to the file (see above)
export { GetDurableExecutionStateCommand } from "../../node_modules/@aws-sdk/client-lambda/dist-es/commands/GetDurableExecutionStateCommand.js";
// @ts-expect-error -- no declaration next to the file (see above)
export { LambdaClient } from "../../node_modules/@aws-sdk/client-lambda/dist-es/LambdaClient.js";
