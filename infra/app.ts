import { App, Tags, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { ValenceStack } from "./valence-stack.ts";

const app = new App();
// Environment-agnostic on purpose: the synth is offline and the same on every machine; `cdk deploy` takes the
// account and region from the credentials it runs with.
const stack = new ValenceStack(app, app.node.tryGetContext("stackName") ?? "Valence", {
  description: "Valence: composes bare-metal nodes on Redfish pod managers and registers them into Ironic",
});
Tags.of(stack).add("project", "valence");
// cdk-nag 3 is a policy-validation plugin: an unacknowledged AwsSolutions error fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
