/**
 * An enrollment config (`rotation.config.yml`) as the rules of this folder accept it: which
 * exchange-key secrets keyshift rotates, on which schedule, with which overlap and deadline.
 */

/** `register-consumer`'s defaults for the secret's consumers. */
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
  /** IANA time zone of the cron fields (Scheduler's ScheduleExpressionTimezone); absent: UTC. */
  timezone?: string;
  /** Scheduler may start up to this many minutes late (FLEXIBLE window), to spread rotations. */
  flexibleWindowMinutes?: number;
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

/** What the rules need to know of the deployment: the rotation ASL's `TimeoutSeconds`. */
export interface WorkflowLimits {
  executionTimeoutSeconds: number;
}

/** Every problem of a config, each as `entry secrets[i] (<secretId>), field <name>: ...`. */
export class EnrollmentConfigError extends Error {
  readonly problems: string[];

  constructor(source: string, problems: string[]) {
    super(`${source} is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnrollmentConfigError";
    this.problems = problems;
    // osls prints `error.stack` of a failed variable source: keep it to the message.
    this.stack = `${this.name}: ${this.message}`;
  }
}
