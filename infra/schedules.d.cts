/** Types of infra/schedules.cjs (the schedule group, its role and alarms, the dead-letter queue osls loads). */

export interface RetryPolicySetting {
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
}

export interface ScheduleOptions {
  service: string;
  stage: string;
  sweeperRuleName: string;
  sweeperRetryPolicy: RetryPolicySetting;
}

export interface CfnFragment {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  Outputs: Record<string, unknown>;
  extensions: Record<string, { Properties: Record<string, unknown> }>;
}

export declare function scheduleResources(options: ScheduleOptions): CfnFragment;
export declare function resources(ctx: {
  resolveVariable: (address: string) => Promise<unknown>;
}): Promise<CfnFragment>;
