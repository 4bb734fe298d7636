/** Types of infra/alert-topic.cjs (the alert topic's access policy osls loads). */

export declare function publishersOf(
  functions: Record<string, { iamRoleStatements?: Array<Record<string, unknown>> }>,
): string[];
export declare function roleIdOf(functionName: string): string;
export declare function alertTopicResources(options: {
  stackName: string;
  functions: Record<string, { iamRoleStatements?: Array<Record<string, unknown>> }>;
}): { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
export declare function resources(ctx: {
  resolveVariable: (address: string) => Promise<unknown>;
}): Promise<ReturnType<typeof alertTopicResources>>;
