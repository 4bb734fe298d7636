/** Types of infra/heartbeat.cjs (the heartbeat function URL's cross-account resource policy). */

export interface LambdaPermission {
  Type: "AWS::Lambda::Permission";
  Properties: Record<string, unknown>;
}

export declare function consumerAccounts(value: string | string[] | undefined): string[];
export declare function heartbeatResources(value: string | string[] | undefined): {
  Resources: Record<string, LambdaPermission>;
};
export declare function resources(ctx: {
  resolveVariable: (address: string) => Promise<unknown>;
}): Promise<{ Resources: Record<string, LambdaPermission> }>;
