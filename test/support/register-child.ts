/**
 * One register or unregister by Valence's own RegistrationService, in a process of its own so that a test can
 * kill it (SIGKILL) mid-saga. Configuration comes from the environment, as in Lambda: the parent hands over
 * its stack's DynamoDB, Ironic and secret-file settings (`ReliabilityStack.childEnv`).
 *
 *   node --import tsx test/support/register-child.ts register|unregister <node> <request-id> [<body JSON>]
 */
import { logInvocation } from "../../lib/log.ts";
import { RegisterNodeBody, UnregisterNodeBody } from "../../lib/nodes/schemas.ts";
import { registrationService } from "../../lib/runtime.ts";

const [operation, nodeId, requestId, body = "{}"] = process.argv.slice(2);
if ((operation !== "register" && operation !== "unregister") || !nodeId || !requestId) {
  process.stderr.write("usage: register-child.ts register|unregister <node> <request-id> [<body JSON>]\n");
  process.exit(2);
}

const context = { requestId, principal: "kill-test", remainingMs: () => 300_000 };
logInvocation(undefined, requestId, { child: operation });
try {
  const service = registrationService();
  if (operation === "register") {
    await service.register(nodeId, RegisterNodeBody.parse(JSON.parse(body)), context);
  } else {
    await service.unregister(nodeId, UnregisterNodeBody.parse(JSON.parse(body)), context);
  }
  process.stdout.write(`child: ${operation} done\n`);
} catch (error) {
  process.stdout.write(`child: ${operation} failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
