import type { Alerts, ReaderAlertLog, ReadHistory } from "../ports";

/**
 * The anomalous-read rule: a principal that reads, within an hour, more than `threshold` secrets it
 * had not read for `quietDays` is alerted on once per hour (the source article: "an alert when a
 * service suddenly reads many credential paths it never read before"). A first read after the
 * quiet period counts as new; keyshift's own readers are not judged (CreateNext reads every secret
 * it rotates). Reads arrive from CloudTrail minutes late and possibly out of order: the window is
 * judged on CloudTrail's event times, and a late event only makes the count later, never lost.
 */
export const READ_ANOMALY = { quietDays: 30, windowMinutes: 60, threshold: 5 } as const;

/** The alert log's partition for these alerts: `#` is not allowed in a secret's name. */
export const ANOMALY_ALERT_PARTITION = "#anomalous-reads";

const DAY_MS = 86_400_000;

export interface ReadAnomalyDeps {
  readHistory: ReadHistory;
  readerAlerts: ReaderAlertLog;
  alerts: Alerts;
}

/** Records the read in the principal's history and alerts when it completes an anomalous hour. */
export async function judgeReadNovelty(
  deps: ReadAnomalyDeps,
  read: { principal: string; secretId: string; at: Date },
  now: Date,
  rule: { quietDays: number; windowMinutes: number; threshold: number } = READ_ANOMALY,
): Promise<{ newSecret: boolean; alerted: boolean }> {
  const { principal, secretId, at } = read;
  const { previousAt } = await deps.readHistory.recordRead(principal, secretId, at);
  const quiet = previousAt === undefined || at.getTime() - Date.parse(previousAt) > rule.quietDays * DAY_MS;
  if (!quiet) return { newSecret: false, alerted: false };
  await deps.readHistory.markNew(principal, secretId, at);
  const fresh = await deps.readHistory.newSince(
    principal,
    new Date(at.getTime() - rule.windowMinutes * 60_000),
  );
  if (fresh.length <= rule.threshold) return { newSecret: true, alerted: false };
  // Once per principal and hour of the event; a failed send leaves the claim unconfirmed (retaken).
  const hour = at.toISOString().slice(0, 13);
  if (!(await deps.readerAlerts.claim(ANOMALY_ALERT_PARTITION, principal, hour, now))) {
    return { newSecret: true, alerted: false };
  }
  await deps.alerts.send({
    kind: "anomalous-reads",
    secretId: "_system",
    subject: `keyshift: ${principal} read ${fresh.length} secrets it had not read for ${rule.quietDays} days, within ${rule.windowMinutes} min`,
    details: {
      principalArn: principal,
      newSecrets: fresh.length,
      secrets: fresh.slice(0, 20).join(", "),
      threshold: rule.threshold,
      windowMinutes: rule.windowMinutes,
      action:
        "find out why this principal reads credentials it never read before; if it may be compromised, " +
        "remove its access and rotate each secret with `keyshift rotate <secret> --compromised`",
    },
  });
  await deps.readerAlerts.confirm(ANOMALY_ALERT_PARTITION, principal, hour, now);
  return { newSecret: true, alerted: true };
}
