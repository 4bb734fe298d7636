/** Types of infra/audit-archive.cjs (the Object Lock audit archive). */

export declare const MIN_RETENTION_DAYS: number;
export declare function retentionDays(value: unknown): number;
export declare function auditArchiveResources(options: {
  retentionDays: string | number;
  stackName: string;
}): {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  Outputs: Record<string, unknown>;
};
export declare function resources(ctx: {
  resolveVariable: (address: string) => Promise<unknown>;
}): ReturnType<typeof auditArchiveResources>;
