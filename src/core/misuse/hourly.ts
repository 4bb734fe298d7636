import type { Alerts } from "../ports";
import type { RevocationDeps } from "../revocation/through-ledger";
import { HOUR_MS, hourIso, hourOf } from "./model";
import { type MisuseReportDeps, misuseReport, type ReportedFinding } from "./report";
import { type RetiredKeyAction, stopRetiredKeys } from "./retired-action";

/** Findings alerted one by one per run; the rest go in one summary (an attack on many keys is one page, not a flood). */
export const MAX_FINDING_ALERTS = 20;

const RANK = { critical: 0, high: 1, medium: 2 } as const;

export interface MisuseHourlyResult {
  /** The hour judged, ISO. */
  hour: string;
  findings: number;
  acknowledged: number;
  alerts: number;
  /** Accounts with no exchange side stored: nothing of theirs could be judged. */
  accountsWithoutExchangeSide: string[];
  /** What keyshift did about each retired key seen in use (`retired-action.ts`). */
  retiredKeyActions: RetiredKeyAction[];
  /** Accounts whose keys could not be listed for their last use: retired keys there were not judged. */
  keyListingFailed: string[];
}

/**
 * The hourly misuse run (functions/misuse-hourly.ts): the detector over the hour that just ended.
 *
 * Input: none (the clock says which hour). Output: what was found and alerted.
 * 1. `misuseReport` from the start of the last ended hour: the same rules, history and acks as
 *    `keyshift misuse report`; an acknowledged finding is not alerted.
 * 2. A retired key the exchange saw authenticate after its retirement is stopped at once, through
 *    the ledger and its guard (`stopRetiredKeys`; with `stop` deps only), even when acknowledged:
 *    an ack silences an alert, it never keeps a retired key alive.
 * 3. Each open finding an alert (`misuse-finding`), most severe first, at most `MAX_FINDING_ALERTS`,
 *    saying what keyshift did; the rest in one summary alert that says how many and how to list them.
 * A run retried by EventBridge alerts again: twice is better than never for a retired key in use.
 */
export async function misuseHourly(
  deps: MisuseReportDeps & { alerts: Alerts; stop?: RevocationDeps },
): Promise<MisuseHourlyResult> {
  const hour = hourOf(deps.clock.now().getTime()) - 1;
  const report = await misuseReport({ since: new Date(hour * HOUR_MS) }, deps);
  const actions = deps.stop ? await stopRetiredKeys(report.retiredKeysSeen, deps.stop) : [];
  const actionOf = new Map(actions.map((a) => [a.findingId, a]));
  const open = [...report.findings].sort((a, b) => RANK[a.severity] - RANK[b.severity] || a.hour - b.hour);
  const one = open.slice(0, MAX_FINDING_ALERTS);
  for (const finding of one) await deps.alerts.send(findingAlert(finding, actionOf.get(finding.id)));
  const rest = open.slice(MAX_FINDING_ALERTS);
  if (rest.length > 0) {
    await deps.alerts.send({
      kind: "misuse-finding",
      secretId: "_system",
      subject: `keyshift misuse: ${rest.length} more finding(s) in ${hourIso(hour)}`,
      details: {
        findings: rest.slice(0, 50).map((f) => `${f.id} ${f.severity} ${f.kind} ${f.secretId} ${f.keyId}`),
        action: `keyshift misuse report --since ${hourIso(hour)}`,
      },
    });
  }
  return {
    hour: hourIso(hour),
    findings: open.length,
    acknowledged: report.acknowledged.length,
    alerts: one.length + (rest.length > 0 ? 1 : 0),
    accountsWithoutExchangeSide: report.accounts
      .filter((a) => a.exchangeSide === "none-stored")
      .map((a) => a.account),
    retiredKeyActions: actions,
    keyListingFailed: report.keyListingFailed.map((f) => f.account),
  };
}

/** Ids, kinds, hours and numbers only: the finding's subject is validated to an IP, a country or a class. */
function findingAlert(f: ReportedFinding, action?: RetiredKeyAction) {
  return {
    kind: "misuse-finding" as const,
    secretId: f.secretId,
    subject: `keyshift misuse: ${f.severity} ${f.kind} on ${f.secretId} key ${f.keyId} (${hourIso(f.hour)})`,
    details: {
      findingId: f.id,
      kind: f.kind,
      severity: f.severity,
      keyId: f.keyId,
      hour: hourIso(f.hour),
      ...(f.subject ? { subject: f.subject } : {}),
      evidence: Object.entries(f.evidence).map(([k, v]) => `${k}=${v}`),
      action: f.command,
      ...(action
        ? {
            keyshiftDid: `${action.outcome} (ledger entry ${action.entryId})`,
            ...(action.reason ? { why: action.reason } : {}),
          }
        : {}),
      acknowledge: `keyshift misuse ack ${f.id} --reason "…"`,
    },
  };
}
