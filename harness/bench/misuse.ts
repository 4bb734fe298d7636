/**
 * The misuse detector (issue 20) on the labelled corpus (misuse-corpus.ts):
 *  - recall per attack kind: an injected attack counts as found when a finding of its kind names
 *    its secret, key and hour (other findings the same attack raises are not counted either way);
 *  - false findings per 10 key-weeks on the clean twin (same traffic, no attack): every finding
 *    there is false, whatever its kind;
 *  - the detector's time and peak memory over `timingSecrets` secrets × `weeks` weeks of hourly
 *    aggregates, one secret at a time as the hourly job would stream them (the corpus is generated
 *    outside the timed part), and what that costs as a Lambda run every hour.
 */
import { performance } from "node:perf_hooks";
import { detectSecret } from "../../src/core/misuse/detect";
import { FINDING_KINDS, type Finding, HOUR_MS } from "../../src/core/misuse/model";
import { CORPUS_START_MS, misuseCorpus } from "./misuse-corpus";
import { round } from "./support";

export interface MisuseBenchOptions {
  seed: number;
  /** Secrets in the recall and false-finding corpora (each one key lineage, rotated every 2–3 weeks). */
  secrets: number;
  /** Secrets in the timing run. */
  timingSecrets: number;
  weeks: number;
}

/** Lambda price per GB-second (x86, us-east-1, first tier) and the memory the job would run with. */
const LAMBDA_USD_PER_GB_SECOND = 0.0000166667;
const LAMBDA_MEMORY_GB = 1.769;

export function misuseBench(options: MisuseBenchOptions) {
  const now = new Date(CORPUS_START_MS + options.weeks * 168 * HOUR_MS);
  const recall = recallByKind(options, now);
  const clean = falseFindings(options, options.secrets, now);
  const timing = timed(options, now);
  const perRunSeconds = timing.detectorSeconds;
  return {
    recall,
    recallGoalKinds: ["retired-key-used", "withdrawal", "new-country", "rate"],
    falseFindingsPer10KeyWeeks: clean.per10KeyWeeks,
    falseFindingsByKind: clean.byKind,
    cleanKeyWeeks: clean.keyWeeks,
    timing: {
      ...timing,
      lambdaUSDPerMonthHourly: round(perRunSeconds * LAMBDA_MEMORY_GB * LAMBDA_USD_PER_GB_SECOND * 720, 2),
      lambdaBasis:
        "one run re-walks the whole window (every hour judged) at 1769 MB, 720 runs a month; reading the aggregates is not counted",
    },
    seed: options.seed,
    weeks: options.weeks,
    secrets: options.secrets,
  };
}

function recallByKind(options: MisuseBenchOptions, now: Date) {
  const found: Record<string, { injected: number; found: number }> = {};
  for (const kind of FINDING_KINDS) found[kind] = { injected: 0, found: 0 };
  for (const { slice, labels } of misuseCorpus({ ...options, attacks: true })) {
    const findings = detectSecret(slice, { now }).findings;
    for (const label of labels) {
      const tally = found[label.kind] as { injected: number; found: number };
      tally.injected += 1;
      const hit = (f: Finding) => f.kind === label.kind && f.keyId === label.keyId && f.hour === label.hour;
      if (findings.some(hit)) tally.found += 1;
    }
  }
  return Object.fromEntries(
    Object.entries(found).map(([kind, t]) => [
      kind,
      { ...t, recall: t.injected ? round(t.found / t.injected, 3) : null },
    ]),
  );
}

function falseFindings(options: MisuseBenchOptions, secrets: number, now: Date) {
  const byKind: Record<string, number> = {};
  let total = 0;
  for (const { slice } of misuseCorpus({ ...options, secrets, attacks: false })) {
    for (const f of detectSecret(slice, { now }).findings) {
      byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
      total += 1;
    }
  }
  const keyWeeks = secrets * options.weeks;
  return { per10KeyWeeks: round((total / keyWeeks) * 10, 3), byKind, keyWeeks, total };
}

function timed(options: MisuseBenchOptions, now: Date) {
  let detectorMs = 0;
  let rows = 0;
  let findings = 0;
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  for (const { slice } of misuseCorpus({ ...options, secrets: options.timingSecrets, attacks: false })) {
    rows += slice.exchange.length + slice.consumers.length;
    const start = performance.now();
    findings += detectSecret(slice, { now }).findings.length;
    detectorMs += performance.now() - start;
    const mem = process.memoryUsage();
    peakRss = Math.max(peakRss, mem.rss);
    peakHeap = Math.max(peakHeap, mem.heapUsed);
  }
  return {
    keys: options.timingSecrets,
    weeks: options.weeks,
    hourlyRows: rows,
    findings,
    detectorSeconds: round(detectorMs / 1000, 2),
    perKeyMs: round(detectorMs / options.timingSecrets, 3),
    peakRssMB: Math.round(peakRss / 2 ** 20),
    peakHeapMB: Math.round(peakHeap / 2 ** 20),
  };
}
