/** Types of infra/schedules.cjs (the EventBridge rules, dead-letter queue and alarms osls loads). */

export interface RetryPolicySetting {
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
}

export interface ScheduleOptions {
  service: string;
  stage: string;
  secrets: { secretId: string; schedule: string; enabled: boolean }[];
  sweeperRuleName: string;
  rotationRetryPolicy: RetryPolicySetting;
  sweeperRetryPolicy: RetryPolicySetting;
}

export interface CfnFragment {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  Outputs: Record<string, unknown>;
  extensions: Record<string, { Properties: Record<string, unknown> }>;
}

export declare function scheduleResources(options: ScheduleOptions): CfnFragment;
export declare function rotationRuleName(prefix: string, secretId: string): string;
export declare function resources(ctx: {
  resolveVariable: (address: string) => Promise<unknown>;
}): Promise<CfnFragment>;
