/**
 * One operation's workflow, run by the durable SDK's local runner in a process of its own so that a test can kill
 * it (SIGKILL) mid-operation, as Lambda may stop an invocation at any moment. Configuration comes from the
 * environment, as in Lambda.
 *
 *   node --import tsx test/support/workflow-child.ts <operation-id>
 */
import { logInvocation } from "../../lib/log.ts";
import { startLocalOperationRunner } from "../../local/operation-runner.ts";

const [operationId] = process.argv.slice(2);
if (!operationId) {
  process.stderr.write("usage: workflow-child.ts <operation-id>\n");
  process.exit(2);
}
logInvocation(undefined, operationId, { child: "workflow" });
const runner = await startLocalOperationRunner();
await runner.start(operationId);
await runner.settled();
await runner.close();
process.stdout.write("child: workflow ended\n");
