/** Types of infra/enrollment.cjs (the enrollment config validator osls loads). */

export interface ConsumerDefaults {
  cacheTtlSeconds: number;
  heartbeatIntervalSeconds: number;
  required: boolean;
}

/** One enrolled secret with `defaults` applied. */
export interface EnrolledSecret {
  secretId: string;
  exchangeAccount: string;
  schedule: string;
  enabled: boolean;
  minOverlapSeconds: number;
  deadlineSeconds: number;
  pollIntervalSeconds: number;
  maxPollIntervalSeconds: number;
  livenessMultiplier: number;
  /** Two-stage revocation: seconds a disabled key stays restorable before removal (default 86400). */
  removeAfterSeconds?: number;
  idleHeartbeatSeconds?: number;
  activeHeartbeatSeconds?: number;
  livenessGraceSeconds?: number;
  consumer: ConsumerDefaults;
}

export interface Enrollment {
  secrets: EnrolledSecret[];
}

export interface ScheduleEvent {
  schedule: {
    rate: string;
    enabled: boolean;
    description: string;
    input: { secretId: string; trigger: "schedule" };
  };
}

export declare const DEFAULT_CONFIG_PATH: string;
export declare const CONSUMER_BOUNDS: Record<
  keyof Omit<ConsumerDefaults, "required">,
  { min: number; max: number }
>;

export declare class EnrollmentConfigError extends Error {
  readonly problems: string[];
  constructor(source: string, problems: string[]);
}

export declare function validateEnrollment(raw: unknown, source?: string): Enrollment;
export declare function loadEnrollment(file?: string): Enrollment;
export declare function scheduleEvents(config: Enrollment): ScheduleEvent[];
export declare function maxChecks(settings: {
  pollIntervalSeconds: number;
  maxPollIntervalSeconds: number;
  deadlineSeconds: number;
}): number;
export declare function schedules(ctx: {
  resolveVariable: (address: string) => Promise<unknown>;
}): Promise<ScheduleEvent[]>;
