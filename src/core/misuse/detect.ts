import { historyOf, type SecretHistory, type SecretSlice, slicesOf } from "./history";
import {
  DEFAULT_PARAMS,
  type Finding,
  hourOf,
  type Learning,
  type MisuseInput,
  type MisuseParams,
  type MisuseReport,
} from "./model";
import { type KeyHourContext, novelty, reconcile, type Seen } from "./rules";
import { learning, offHours, rate } from "./seasonal";

export interface DetectOptions {
  /** The clock: only hours that ended before `now` are judged (consumer reports of the open hour are not in yet). */
  now: Date;
  /** First hour reported; earlier hours are history only. Default: every hour given. */
  from?: Date;
  params?: Partial<MisuseParams>;
}

/**
 * The misuse detector (issue 20), pure: the same code for the hourly run and for `keyshift misuse
 * replay`.
 * Input: exchange-observed and consumer-reported activity per key × hour, rotation events, and the
 * declared scopes. Output: every finding in the judged hours, and the secrets still learning.
 *  1. Split by secret: a secret's keys share one history (a rotation changes the key, not the usage).
 *  2. Walk each secret's hours in order; every rule sees only what came before the hour.
 *  3. Per key and hour: reconciliation and novelty from the first hour; rate and off-hours once
 *     the secret has `learningHours` of history.
 */
export function detectMisuse(input: MisuseInput, options: DetectOptions): MisuseReport {
  const findings: Finding[] = [];
  const learningList: Learning[] = [];
  for (const slice of slicesOf(input)) {
    const report = detectSecret(slice, options);
    findings.push(...report.findings);
    learningList.push(...report.learning);
  }
  return { findings: findings.sort(byHourThenSecret), learning: learningList };
}

/** One secret: the unit a fleet-sized run streams (its memory is one secret's rows). */
export function detectSecret(slice: SecretSlice, options: DetectOptions): MisuseReport {
  const params = { ...DEFAULT_PARAMS, ...options.params };
  const history = historyOf(slice);
  const to = hourOf(options.now.getTime());
  const from = options.from ? hourOf(options.from.getTime()) : Number.NEGATIVE_INFINITY;
  const seen: Seen = { ips: new Set(), countries: new Set(), classes: new Set() };
  const findings: Finding[] = [];
  for (const hour of history.hours) {
    if (hour >= to) break;
    const found = judgeHour(history, hour, params, seen);
    if (hour >= from) findings.push(...found);
  }
  const last = Math.min(to - 1, history.hours[history.hours.length - 1] ?? to - 1);
  const learningList =
    history.hours.length > 0 && learning(history, last, params.learningHours)
      ? [{ secretId: slice.secretId, untilHour: history.firstHour + params.learningHours }]
      : [];
  return { findings, learning: learningList };
}

function judgeHour(history: SecretHistory, hour: number, params: MisuseParams, seen: Seen): Finding[] {
  const found: Finding[] = [];
  const bootstrapping = hour - history.firstHour < params.noveltyBootstrapHours;
  const seasonal = !learning(history, hour, params.learningHours);
  for (const key of history.exchange.get(hour)?.values() ?? []) {
    const ctx: KeyHourContext = { history, hour, key, params };
    found.push(...reconcile(ctx), ...novelty(ctx, seen, bootstrapping));
    if (seasonal) found.push(...rate(ctx), ...offHours(ctx));
  }
  return found;
}

function byHourThenSecret(a: Finding, b: Finding): number {
  return a.hour - b.hour || a.secretId.localeCompare(b.secretId) || a.keyId.localeCompare(b.keyId);
}
