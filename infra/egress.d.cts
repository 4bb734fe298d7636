/** Types of infra/egress.cjs (the fixed egress of the exchange-calling functions). */

export interface EgressParams {
  mode?: string;
  azs?: string;
  cidr?: string;
  subnetIds?: string;
  securityGroupIds?: string;
  ips?: string;
}

export type EgressSettings =
  | { mode: "managed"; azs: number; cidr: string }
  | { mode: "existing"; subnetIds: string[]; securityGroupIds: string[]; ips: string[] };

export interface CfnFragment {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown>; [k: string]: unknown }>;
  Outputs?: Record<string, { Description: string; Value: unknown }>;
}

export declare const EXCHANGE_CALLERS: string[];
export declare const EGRESS_KEYS: (keyof EgressParams)[];
export declare function egressSettings(raw?: EgressParams): EgressSettings | undefined;
export declare function egressResources(settings: EgressSettings | undefined): CfnFragment;
export declare function egressFunctionConfig(settings: EgressSettings): {
  vpc: { subnetIds: unknown[]; securityGroupIds: unknown[] };
  ips: unknown;
};
export declare function resources(ctx: {
  resolveVariable: (address: string) => Promise<unknown>;
}): Promise<CfnFragment>;
