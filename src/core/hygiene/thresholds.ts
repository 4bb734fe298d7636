/** The hygiene audit's time thresholds (its own module: findings.ts is at its size limit). */
export interface HygieneThresholds {
  /** A consumer with no heartbeat for this long is reported as possibly decommissioned. */
  silentConsumerDays: number;
  /** An exchange-imposed expiry closer than this is reported even without a schedule. */
  expiryWarningDays: number;
  /** A deletion a person owes (manual account) older than this is high: the retired key still works. */
  manualDeletionOverdueHours: number;
}

export const DEFAULT_THRESHOLDS: HygieneThresholds = {
  silentConsumerDays: 14,
  expiryWarningDays: 14,
  manualDeletionOverdueHours: 24,
};
