/**
 * Deterministic simulation of keyshift (see docs/simulation.md).
 *   npm run sim -- --seed S                 replay one seed; prints its trace tail on a violation
 *   npm run sim -- --seeds N [--start K] [--json] [--ignore "I5: removeKey with no ledger entry"]
 * Ends with one JSON line; exits non-zero on any violation.
 */
import { runSeed, type SeedResult } from "../sim/runner";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function args(name: string): string[] {
  return process.argv.flatMap((a, i) => (a === `--${name}` ? [process.argv[i + 1] ?? ""] : []));
}

function printFailure(r: SeedResult): void {
  console.error(`\nseed ${r.seed}: ${r.violations.length} violation(s) after ${r.events} events`);
  for (const v of r.violations) console.error(`  ${v.invariant}: ${v.message}`);
  console.error(`last ${r.traceTail.length} events:`);
  for (const line of r.traceTail) console.error(`  ${line}`);
  console.error(`replay: npm run sim -- --seed ${r.seed}`);
}

async function main(): Promise<number> {
  const ignore = args("ignore");
  const single = arg("seed");
  if (single !== undefined) {
    const r = await runSeed(Number(single), { ignore });
    if (r.violations.length > 0 || !r.quiesced || process.env.SIM_PRINT === "1") printFailure(r);
    if (r.actorFailures.length > 0) console.error(`actor failures: ${r.actorFailures.join("; ")}`);
    const { traceTail: _t, ...rest } = r;
    console.log(JSON.stringify({ ...rest, replay: `npm run sim -- --seed ${r.seed}` }));
    return r.violations.length > 0 ? 1 : 0;
  }
  const count = Number(arg("seeds") ?? 100);
  const start = Number(arg("start") ?? 1);
  const json = process.argv.includes("--json");
  const totals = {
    events: 0,
    operatorCommands: 0,
    violations: 0,
    maxActiveKeys: 0,
    orphans: 0,
    notQuiesced: 0,
  };
  const faults: Record<string, number> = {};
  const exchangeCalls: Record<string, number> = {};
  const stateRetries: Record<string, number> = {};
  const bindings: Record<string, number> = {};
  let egressRefusals = 0;
  // Manual key management (issue 17): the seeds with a manual account, summed.
  const manual = {
    seeds: 0,
    rotations: {} as Record<string, number>,
    timedOut: {} as Record<string, number>,
    tokensAccepted: 0,
    tokensGone: {} as Record<string, number>,
    outcomes: {} as Record<string, number>,
  };
  // The attacker and the hourly misuse runs (issue 20), summed over the seeds.
  const retiredUse: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  const okByKind: Record<string, number> = {};
  const auditVerify = { ok: 0, broken: 0, failed: 0 };
  let instanceRowsExpired = 0;
  const incident: Record<string, number> = {};
  const stuckIncidents: Record<string, number> = {};
  const approvals: Record<string, number> = {};
  const add = (into: Record<string, number>, from: Record<string, number | undefined>) => {
    for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + (n ?? 0);
  };
  const firstBySignature: Record<string, { seed: number; count: number; message: string }> = {};
  let firstFailing: number | undefined;
  const notQuiescedSeeds: number[] = [];
  const began = performance.now();
  for (let seed = start; seed < start + count; seed++) {
    const r = await runSeed(seed, { ignore });
    totals.events += r.events;
    totals.operatorCommands += r.operatorCommands;
    totals.maxActiveKeys = Math.max(totals.maxActiveKeys, r.maxActiveKeys);
    totals.orphans += r.orphans;
    add(exchangeCalls, r.exchangeCalls);
    add(stateRetries, r.stateRetries);
    add(bindings, { [r.binding]: 1 });
    egressRefusals += r.egressRefusals;
    if (r.manual) {
      manual.seeds += 1;
      add(manual.rotations, r.manual.rotations);
      add(manual.timedOut, r.manual.timedOut);
      manual.tokensAccepted += r.manual.tokensAccepted;
      add(manual.tokensGone, r.manual.tokensGone);
      add(manual.outcomes, r.manual.outcomes);
    }
    add(retiredUse, { ...r.retiredUse });
    add(byKind, r.operatorCommandsByKind);
    add(okByKind, r.operatorCommandsOkByKind);
    add(auditVerify, r.auditVerify);
    instanceRowsExpired += r.instanceRowsExpired;
    add(incident, r.incident);
    add(stuckIncidents, r.stuckIncidents);
    add(approvals, r.approvals);
    if (!r.quiesced && r.violations.length === 0) {
      totals.notQuiesced += 1;
      if (notQuiescedSeeds.length < 10) notQuiescedSeeds.push(seed);
    }
    for (const [k, n] of Object.entries(r.faults)) faults[k] = (faults[k] ?? 0) + n;
    if (r.violations.length > 0) {
      totals.violations += r.violations.length;
      firstFailing ??= seed;
      for (const v of r.violations) {
        const hit = firstBySignature[v.signature];
        if (hit) hit.count += 1;
        else firstBySignature[v.signature] = { seed, count: 1, message: v.message };
      }
      if (!json) printFailure(r);
    }
    if ((seed - start + 1) % 25 === 0) {
      const rate = ((seed - start + 1) / ((performance.now() - began) / 1000)).toFixed(1);
      console.error(
        `[sim] ${seed - start + 1}/${count} seeds, ${totals.violations} violations, ${rate} seeds/s`,
      );
    }
  }
  const seconds = (performance.now() - began) / 1000;
  console.error(`[sim] ${count} seeds in ${seconds.toFixed(1)}s (${(count / seconds).toFixed(1)} seeds/s)`);
  if (Object.keys(firstBySignature).length > 0) console.error(JSON.stringify({ firstBySignature }, null, 2));
  if (notQuiescedSeeds.length > 0)
    console.error(`[sim] did not settle: seeds ${notQuiescedSeeds.join(", ")}`);
  console.log(
    JSON.stringify({
      seeds: count,
      events: totals.events,
      faultsInjected: faults,
      exchangeCalls,
      stateRetries,
      bindings,
      egressRefusals,
      manual,
      retiredUse,
      operatorCommands: totals.operatorCommands,
      operatorCommandsByKind: byKind,
      operatorCommandsOkByKind: okByKind,
      auditVerify,
      instanceRowsExpired,
      incident,
      stuckIncidents,
      approvals,
      violations: totals.violations,
      maxActiveKeys: totals.maxActiveKeys,
      orphansAtQuiescence: totals.orphans,
      notQuiesced: totals.notQuiesced,
      replay: `npm run sim -- --seed ${firstFailing ?? start}`,
    }),
  );
  // A seed that never settles could hide an orphan (I2 is judged at quiescence): that fails too.
  return totals.violations > 0 || totals.notQuiesced > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
