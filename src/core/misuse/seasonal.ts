import type { SecretHistory } from "./history";
import { ANY_KEY, type Finding, WEEK_HOURS } from "./model";
import { finding, type KeyHourContext } from "./rules";

/**
 * The secret's requests in the same hour-of-week of each past week within its history, newest
 * first, in the series `keyId` belongs to (the named keys', or `ANY_KEY`'s own). Each week's value
 * is the largest of the slot and its two neighbours, so a daylight-saving shift of market hours by
 * one UTC hour reads as the same session, not as a new one.
 */
export function sameSlotLastWeeks(
  history: SecretHistory,
  hour: number,
  weeks: number,
  keyId?: string,
): number[] {
  const series = keyId === ANY_KEY ? history.anyKeyTotals : history.totals;
  const values: number[] = [];
  for (let w = 1; w <= weeks; w++) {
    const slot = hour - w * WEEK_HOURS;
    if (slot < history.firstHour) break;
    const at = (h: number) => series.get(h) ?? 0;
    values.push(Math.max(at(slot - 1), at(slot), at(slot + 1)));
  }
  return values;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Median absolute deviation, scaled (×1.4826) to read like a standard deviation on normal data. */
export function scaledMad(values: readonly number[], center: number): number {
  return 1.4826 * median(values.map((v) => Math.abs(v - center)));
}

/** Whether the rate and off-hours rules still learn this secret at `hour` (say "learning", find nothing). */
export function learning(history: SecretHistory, hour: number, learningHours: number): boolean {
  return hour - history.firstHour < learningHours;
}

/**
 * Rate: the key's requests this hour against the secret's same hour-of-week over the last weeks.
 * All three must hold: at least `rateMinCount` requests, at least `rateRatioFloor` times the
 * median, and above the median by `rateMadK` scaled MADs. The median shrugs off one holiday or one
 * odd week; the floor keeps slow growth and expiry-day surges (a few times normal) quiet.
 */
export function rate(ctx: KeyHourContext): Finding[] {
  const { history, hour, key, params } = ctx;
  if (key.total < params.rateMinCount) return [];
  const baseline = sameSlotLastWeeks(history, hour, params.rateWeeks, key.keyId);
  if (baseline.length < 2) return [];
  const center = median(baseline);
  const spread = scaledMad(baseline, center);
  if (key.total < params.rateRatioFloor * Math.max(center, 1)) return [];
  if (key.total <= center + params.rateMadK * spread) return [];
  const ratio = Math.round((key.total / Math.max(center, 1)) * 10) / 10;
  const evidence = { requests: key.total, median: center, scaledMad: spread, ratio, weeks: baseline.length };
  return [finding("rate", ctx, evidence)];
}

/** Off-hours: activity in an hour-of-week slot (± one hour) empty in each of the last weeks. */
export function offHours(ctx: KeyHourContext): Finding[] {
  const { history, hour, key, params } = ctx;
  if (key.total < params.offHoursMinCount) return [];
  const baseline = sameSlotLastWeeks(history, hour, params.offHoursWeeks, key.keyId);
  if (baseline.length < 2 || baseline.some((v) => v > 0)) return [];
  return [finding("off-hours", ctx, { requests: key.total, emptyWeeks: baseline.length })];
}
