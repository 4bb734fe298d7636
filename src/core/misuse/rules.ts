import { type KeyHour, retiredSince, type SecretHistory } from "./history";
import {
  type EndpointClass,
  type Finding,
  type FindingKind,
  FUND_MOVEMENT,
  HOUR_MS,
  hourIso,
  type MisuseParams,
  type Severity,
} from "./model";

/** What every rule judges: one key's exchange-observed activity in one hour of one secret. */
export interface KeyHourContext {
  history: SecretHistory;
  hour: number;
  key: KeyHour;
  params: MisuseParams;
}

/** A key's first-seen sets, shared by the secret's keys: a rotation changes the key, not the usage. */
export interface Seen {
  ips: Set<string>;
  countries: Set<string>;
  classes: Set<EndpointClass>;
}

export const SEVERITY: Record<FindingKind, Severity> = {
  "retired-key-used": "critical",
  withdrawal: "critical",
  "unaccounted-activity": "high",
  "new-country": "high",
  rate: "high",
  "new-ip": "medium",
  "new-endpoint-class": "medium",
  "off-hours": "medium",
};

/** The command an operator runs: revoke a retired key again; rotate a live one as compromised. */
export function commandFor(kind: FindingKind, ctx: KeyHourContext): string {
  const { history, key, hour } = ctx;
  if (kind === "retired-key-used") return `keyshift revocations retry ${key.account}#${key.keyId}`;
  const rotate = `keyshift rotate ${history.secretId} --compromised --reason "misuse: ${kind} ${hourIso(hour)}"`;
  return SEVERITY[kind] === "medium"
    ? `keyshift status ${history.secretId}; if not yours: ${rotate}`
    : rotate;
}

export function finding(
  kind: FindingKind,
  ctx: KeyHourContext,
  evidence: Record<string, number>,
  subject?: string,
): Finding {
  return {
    kind,
    severity: SEVERITY[kind],
    secretId: ctx.history.secretId,
    keyId: ctx.key.keyId,
    hour: ctx.hour,
    evidence,
    ...(subject === undefined ? {} : { subject }),
    command: commandFor(kind, ctx),
  };
}

/**
 * Reconciliation: a retired key in use, and activity beyond what the consumers report — for a
 * named key, its own reports; for `ANY_KEY` (an exchange that names the account, not the key),
 * the sum of every report of the secret in the hour and class (`history.consumed` keeps it).
 */
export function reconcile(ctx: KeyHourContext): Finding[] {
  const { history, hour, key, params } = ctx;
  const found: Finding[] = [];
  const cutOver = retiredSince(history, key.keyId, hour * HOUR_MS);
  if (cutOver !== undefined) {
    const hoursSince = Math.floor((hour * HOUR_MS - cutOver) / HOUR_MS);
    found.push(finding("retired-key-used", ctx, { requests: key.total, hoursSinceCutOver: hoursSince }));
  }
  if (!history.reconciled) return found;
  const reported = history.consumed.get(hour)?.get(key.keyId);
  for (const [cls, seen] of key.classes) {
    const consumers = reported?.get(cls) ?? 0;
    const tolerance = params.unaccountedAbsolute + params.unaccountedRelative * consumers;
    if (seen - consumers > tolerance) {
      const evidence = { exchangeCount: seen, consumerCount: consumers, excess: seen - consumers, tolerance };
      found.push(finding("unaccounted-activity", ctx, evidence, cls));
    }
  }
  return found;
}

/**
 * Novelty: the first IP, country or endpoint class a secret's keys are seen with, after the
 * bootstrap (whose sightings are learned silently), and any fund movement outside the declared
 * scope. Updates `seen` whether or not the hour is reported.
 */
export function novelty(ctx: KeyHourContext, seen: Seen, bootstrapping: boolean): Finding[] {
  const { key, history } = ctx;
  const found: Finding[] = [];
  for (const [cls, count] of key.classes) {
    const outOfScope = FUND_MOVEMENT.includes(cls) && !(history.scope ?? []).includes(cls);
    if (outOfScope) found.push(finding("withdrawal", ctx, { requests: count }, cls));
    else if (!bootstrapping && !seen.classes.has(cls))
      found.push(
        finding("new-endpoint-class", ctx, { requests: count, knownClasses: seen.classes.size }, cls),
      );
    seen.classes.add(cls);
  }
  for (const [ip, count] of key.ips) {
    if (!bootstrapping && !seen.ips.has(ip))
      found.push(finding("new-ip", ctx, { requests: count, knownIps: seen.ips.size }, ip));
    seen.ips.add(ip);
  }
  for (const [country, count] of key.countries) {
    if (!bootstrapping && !seen.countries.has(country))
      found.push(
        finding("new-country", ctx, { requests: count, knownCountries: seen.countries.size }, country),
      );
    seen.countries.add(country);
  }
  return found;
}
