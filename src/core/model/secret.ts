/** A secret as keyshift enrolls and records it: its settings, its labelled versions, its key's shape. */
import type { LockRecord } from "./rotation";

export const STAGE = { current: "AWSCURRENT", previous: "AWSPREVIOUS", next: "AWSPENDING" } as const;

/** Per-secret enrollment settings (rotations table, sk `SETTINGS`). */
export interface SecretSettings {
  secretId: string;
  exchangeAccount: string;
  /** Longest cache TTL of any consumer that cannot heartbeat: the overlap is never shorter. */
  minOverlapSeconds: number;
  /** After this long waiting for consumers the rotation stalls (alert, no revoke, lock kept). */
  deadlineSeconds: number;
  /** First wait between consumer checks; the interval grows towards `maxPollIntervalSeconds`. */
  pollIntervalSeconds: number;
  maxPollIntervalSeconds: number;
  /**
   * Instance rows written before `expectedBy` existed are live for this many of their consumer's
   * `heartbeatIntervalSeconds` after their last heartbeat (the rule liveness had before).
   */
  livenessMultiplier: number;
  /**
   * Two-stage revocation (exchanges that can disable keys): how long a disabled key stays on the
   * exchange, restorable by an operator, before it is removed. Absent: `DEFAULT_REMOVE_AFTER_SECONDS`.
   */
  removeAfterSeconds?: number;
  /**
   * Emergency rotation (suspected compromise): how long consumers get to switch before the previous
   * key is disabled or removed even if some lag. Absent: `DEFAULT_EMERGENCY_DEADLINE_SECONDS`.
   */
  emergencyDeadlineSeconds?: number;
  /**
   * The EventBridge schedule expression from `rotation.config.yml` (`rate(30 days)`, `cron(...)`):
   * the hygiene audit judges overdue rotations by it, and the heartbeat brings the fleet back just
   * after a scheduled start (unless `scheduleEnabled` is false).
   */
  schedule?: string;
  /** False when the schedule exists but is disabled. */
  scheduleEnabled?: boolean;
  /** The IANA time zone the schedule's cron fields are read in (absent: UTC). */
  scheduleTimezone?: string;
  /** Scheduler may start up to this many minutes late (absent: on time); the hygiene audit compares. */
  scheduleFlexibleWindowMinutes?: number;
  /** `nextHeartbeatSeconds` while no rotation of the secret runs (default 300; see consumers/heartbeat-policy.ts). */
  idleHeartbeatSeconds?: number;
  /** `nextHeartbeatSeconds` while a rotation holds the lock (default 5). */
  activeHeartbeatSeconds?: number;
  /** An instance is live until `expectedBy` + this (default 30). */
  livenessGraceSeconds?: number;
  /** When the secret was first enrolled; a re-enrollment keeps it. */
  enrolledAt: string;
}

/** "Fast means the credential is invalidated within minutes": two of them at most, by default. */
export const DEFAULT_EMERGENCY_DEADLINE_SECONDS = 120;

/** A disabled key waits a day for an operator's `revocations restore` before it is removed for good. */
export const DEFAULT_REMOVE_AFTER_SECONDS = 86_400;

/** One labelled version as the workflow last recorded it. */
export interface VersionRef {
  versionId: string;
  fingerprint: string;
  exchangeKeyId: string;
  /** The key's scope as the secret declares it (recorded at enrollment and CreateNext; the hygiene audit compares). */
  permissions?: string[];
  /** The key's IP binding as the exchange listed it when keyshift made the key (`[]`: unbound; absent: not known). */
  ipAllowlist?: string[];
}

/** Fingerprints of the previous / current / next versions (rotations table, sk `VERSIONS`). */
export interface VersionFingerprints {
  secretId: string;
  current?: VersionRef;
  previous?: VersionRef;
  next?: VersionRef;
  /** When `current` last changed: the overlap window counts from here. */
  promotedAt?: string;
  updatedAt: string;
}

/** What the heartbeat needs to know of a secret, read together (rotations table). */
export interface SecretState {
  settings?: SecretSettings;
  versions?: VersionFingerprints;
  lock?: LockRecord;
}

/** The shape of an exchange key secret's value in Secrets Manager (JSON). */
export interface ExchangeKeySecret {
  account: string;
  keyId: string;
  secret: string;
  /** The key's own passphrase, on exchanges whose keys have one (OKX): secret material like `secret`. */
  passphrase?: string;
  permissions: string[];
  /** The exchange key's IP binding, when it has one (copied to the next key). */
  ipAllowlist?: string[];
}
