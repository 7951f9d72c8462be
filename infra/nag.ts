import { Stack, Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

/**
 * Acknowledges one cdk-nag AwsSolutions finding on a construct and everything under it. cdk-nag 3 runs as a
 * CDK policy-validation plugin: an unacknowledged error fails the synth, and every acknowledgment needs a
 * reason, which lands in the validation report.
 */
export function acknowledgeNag(scope: IConstruct, finding: string, reason: string): void {
  if (!reason.trim()) throw new Error(`cdk-nag acknowledgment ${finding} needs a reason`);
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${finding}`, reason });
}

/**
 * The finding id cdk-nag gives a policy resource, e.g. `Resource::<DataTable1234.Arn>/index/*`: references
 * become `<LogicalId.Attribute>` and `<AWS::Partition>`, as cdk-nag flattens them. Computed from the very
 * value that was granted, so an acknowledgment covers that resource and nothing else.
 */
export function nagResource(scope: IConstruct, arn: string): string {
  const flatten = (node: unknown): string => {
    if (node === undefined) return "";
    if (typeof node === "string") return node.replace(/\$\{/g, "<").replace(/\}/g, ">");
    const value = node as Record<string, unknown>;
    if (Array.isArray(value["Fn::Join"])) {
      const [delimiter, items] = value["Fn::Join"] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if (value["Fn::Sub"] !== undefined) return flatten(value["Fn::Sub"]);
    if (Array.isArray(value["Fn::GetAtt"])) {
      const [resource, attribute] = value["Fn::GetAtt"] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if (value["Fn::ImportValue"] !== undefined) return flatten(value["Fn::ImportValue"]);
    if (value.Ref !== undefined) return `<${flatten(value.Ref)}>`;
    return JSON.stringify(node);
  };
  return `Resource::${flatten(Stack.of(scope).resolve(arn))}`;
}
