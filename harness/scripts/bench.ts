/**
 * Benchmarks, each a ratio measured side by side in one run (the machine is shared: absolute numbers
 * drift, ratios hold), written to harness/bench/results.json with the absolute numbers beside them.
 *   npm run bench                         every section, human-readable summary
 *   npm run bench -- --json               the same figures as one JSON line
 *   npm run bench -- --only gate,bundles  some sections (the others keep their last figures)
 *   npm run bench -- --only bundles --baseline main   cold init of main's bundles beside these,
 *                                         interleaved in one run (ratios per handler, before and after)
 *   npm run bench -- --smoke              every section at a toy size, in seconds: proves each step
 *                                         still runs (CI does, test/workflow/npm-bench.test.ts); its
 *                                         figures mean nothing and go to a temporary file, never to
 *                                         results.json
 * The modules are in harness/bench/; what each measures is in its doc comment.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REGISTRATIONS_TTL_MS, SECRET_STATE_TTL_MS } from "../../src/adapters/heartbeat-cache";
import { instanceAuditStream, verifyAuditTrail } from "../../src/core/audit/chain";
import type { AuditEntry } from "../../src/core/model";
import { bundleAll, checkout, cleanUp, coldInit, largestZip, withBaseline } from "../bench/bundles";
import { confirmationAfterPromotion } from "../bench/confirmation";
import { costModel } from "../bench/cost-model";
import { fleetApply, templateResources } from "../bench/fleet-apply";
import { fleetJobs } from "../bench/fleet-jobs";
import { fleetSwitch } from "../bench/fleet-switch";
import { gateVsQuery } from "../bench/gate-query";
import { heartbeatVsPutItem } from "../bench/heartbeat-throughput";
import { misuseBench } from "../bench/misuse";
import { DynamoMeter } from "../bench/support";
import { sweeperIndexVsScan } from "../bench/sweeper";
import { defaultConsumers, enrollLocalSecret, registerConsumers } from "../local/scenario";
import { captureLambdaLogs } from "../local/secret-scan";
import { type LocalStack, startLocalStack } from "../local/stack";

const json = process.argv.includes("--json");
const onlyArg = process.argv[process.argv.indexOf("--only") + 1];
const only = process.argv.includes("--only") && onlyArg ? new Set(onlyArg.split(",")) : undefined;
const smoke = process.argv.includes("--smoke");
const baselineArg = process.argv.indexOf("--baseline");
/** `--baseline <git ref>`: that commit's bundles measured in the same cold-init runs (`before:<name>`). */
const baselineRef = baselineArg > 0 ? process.argv[baselineArg + 1] : undefined;
/** The sizes of a real run, or of a smoke run: enough to go through every step once. */
const size = smoke
  ? {
      heartbeats: 40,
      heartbeatRounds: 2,
      heartbeatInstances: 10,
      gateInstances: 50,
      switchInstances: 20,
      switchWindowMs: 500,
      confirmInstances: 20,
      settled: 30,
      due: 5,
      runs: 1,
      misuse: { secrets: 16, timingSecrets: 20, weeks: 4 },
      fleet: { secrets: 40, consumers: 3, instances: 2, accounts: 4, due: 40 },
    }
  : {
      heartbeats: 6000,
      heartbeatRounds: 60,
      heartbeatInstances: 200,
      gateInstances: 10_000,
      switchInstances: 1000,
      switchWindowMs: 5000,
      confirmInstances: 1000,
      settled: 3000,
      due: 20,
      runs: 11,
      misuse: { secrets: 1000, timingSecrets: 10_000, weeks: 8 },
      // BENCH_FLEET_SECRETS / BENCH_FLEET_DUE: a smaller fleet when the machine cannot seed 10,000
      // in time (the figures then say the size they were measured at, in details.fleetJobs).
      fleet: {
        secrets: Number(process.env.BENCH_FLEET_SECRETS ?? 10_000),
        consumers: 10,
        instances: 5,
        accounts: 20,
        due: Number(process.env.BENCH_FLEET_DUE ?? 5000),
      },
    };
const OUT =
  process.env.BENCH_OUT ??
  (smoke
    ? join(mkdtempSync(join(tmpdir(), "keyshift-bench-smoke-")), "results.json")
    : join(import.meta.dirname, "..", "bench", "results.json"));
const SECTIONS = [
  "heartbeat",
  "gate",
  "switch",
  "confirmation",
  "sweeper",
  "fleet-apply",
  "fleet-jobs",
  "misuse",
  "bundles",
] as const;
type Section = (typeof SECTIONS)[number];
const wanted = (s: Section) => !only || only.has(s);

const progress = (what: string) => {
  if (!json) process.stderr.write(`bench: ${what}\n`);
};

type Results = Record<string, unknown> & { details: Record<string, unknown> };
const load = (): Results => {
  const found = existsSync(OUT) ? (JSON.parse(readFileSync(OUT, "utf8")) as Results) : { details: {} };
  found.details ??= {};
  return found;
};
let results = load();

/**
 * Each section's figures are written as soon as it ends, over what the file holds then: a slow
 * machine loses no finished work, and a run of other sections (`--only`) keeps these.
 */
function record(section: string, top: Record<string, unknown>, detail: unknown): void {
  results = load();
  Object.assign(results, top);
  results.details[section] = detail;
  // When each section was last measured: sections may come from different runs.
  results.details.measuredAt = {
    ...((results.details.measuredAt as object | undefined) ?? {}),
    [section]: new Date().toISOString(),
  };
  const { details, ...head } = results;
  const text = JSON.stringify({ ...head, details }, null, 2);
  writeFileSync(OUT, `${text}\n`);
  // Then as the formatter wants it (number arrays packed, long ones wrapped), so a bench run never fails `npm run lint`
  // (only the checked-in file: the formatter refuses paths outside the project, like a smoke's).
  const root = join(import.meta.dirname, "..", "..");
  if (OUT.startsWith(root))
    execFileSync(join(root, "node_modules", ".bin", "biome"), ["format", "--write", OUT], {
      stdio: "ignore",
    });
}

// As deployed (serverless.yml): what a heartbeat logs at INFO is part of what it costs.
process.env.POWERTOOLS_LOG_LEVEL = "INFO";
const needsStack = SECTIONS.filter((s) => s !== "bundles" && s !== "misuse").some(wanted);
const logs = captureLambdaLogs();
const meter = new DynamoMeter();
meter.install();
let stack: LocalStack | undefined;
if (needsStack) stack = await startLocalStack();

if (stack && wanted("heartbeat")) {
  progress("heartbeat handler vs its own bare UpdateItem and a raw PutItem, and what one heartbeat costs");
  const enrolled = await enrollLocalSecret(stack, { account: "bench-hb" });
  const [spec] = defaultConsumers(enrolled.secretId, 1);
  if (!spec) throw new Error("no consumer spec");
  await registerConsumers(enrolled, [spec]);
  const current = (await enrolled.deps.store.getVersions(enrolled.secretId))?.current?.fingerprint ?? "";
  const heartbeat = await heartbeatVsPutItem({
    stack,
    secretId: enrolled.secretId,
    callerArn: `arn:aws:sts::111122223333:assumed-role/${spec.consumerId}/bench`,
    fingerprint: current,
    meter,
    n: size.heartbeats,
    rounds: size.heartbeatRounds,
    instances: size.heartbeatInstances,
  });
  record(
    "heartbeat",
    { heartbeatVsPutItem: heartbeat.ratio, heartbeatVsItsUpdateItem: heartbeat.heartbeatVsItsUpdateItem },
    heartbeat,
  );
  // Ten consumers' principals, each cache refilled at its TTL: the fleet's share of reads.
  const cost = costModel(heartbeat.perHeartbeat, {
    refresh: heartbeat.refresh && {
      ...heartbeat.refresh,
      stateTtlSeconds: SECRET_STATE_TTL_MS / 1000,
      registrationTtlSeconds: REGISTRATIONS_TTL_MS / 1000,
      principals: 10,
    },
  });
  record(
    "cost",
    {
      costPer1000InstancesMonthUSD: cost.atDefaults.totalUSD,
      costPer1000InstancesMonthUSDFixed30s: cost.atFixed30s.totalUSD,
    },
    cost,
  );
}

if (stack && wanted("gate")) {
  progress(`gate over ${size.gateInstances} instances vs raw Query`);
  const gate = await gateVsQuery({
    stack,
    enrolled: await enrollLocalSecret(stack, { account: "bench-gate" }),
    instances: size.gateInstances,
  });
  record("gate", { gateVsQuery10k: gate.ratio }, gate);
}

if (stack && wanted("switch")) {
  progress(`${size.switchInstances} instances switching fingerprint within ${size.switchWindowMs / 1000} s`);
  const enrolled = await enrollLocalSecret(stack, { account: "bench-switch" });
  const audit = enrolled.deps.audit;
  const rows = () => enrolled.deps.consumers.listInstances(enrolled.secretId);
  const switched = await fleetSwitch({
    stack,
    enrolled,
    instances: size.switchInstances,
    windowMs: size.switchWindowMs,
    // Wherever the design puts a change (the secret's chain, an instance's stream), it counts once.
    changesAudited: async (secretId, to) => {
      const changed = (e: AuditEntry) => e.action === "instance-fingerprint-changed" && e.details?.to === to;
      const inChain = new Set((await audit.list(secretId)).filter(changed).map((e) => e.details?.instanceId));
      let count = 0;
      for (const i of await rows()) {
        const stream = await audit.list(instanceAuditStream(secretId, i.consumerId, i.instanceId));
        if (inChain.has(i.instanceId) || stream.some(changed)) count += 1;
      }
      return count;
    },
    chainsVerify: async (secretId) => {
      for (const i of await rows()) {
        const stream = instanceAuditStream(secretId, i.consumerId, i.instanceId);
        const [entries, head] = [await audit.list(stream), await audit.head(stream)];
        if ((entries.length > 0 || head) && !verifyAuditTrail(entries, head).ok) return false;
      }
      return true;
    },
  });
  record(
    "fleetSwitch",
    {
      fleetSwitchUnrecordedChanges: switched.changesUnrecorded,
      fleetSwitchRotationStepFailures: switched.rotationStepFailures,
    },
    switched,
  );
}

if (stack && wanted("confirmation")) {
  progress(`${size.confirmInstances} instances confirming a promotion (simulated time)`);
  const confirmation = await confirmationAfterPromotion({ stack, instances: size.confirmInstances });
  record(
    "confirmation",
    { confirmationSecondsAfterCacheTtl: confirmation.unscheduled.secondsAfterCacheTtl },
    confirmation,
  );
}

if (stack && wanted("sweeper")) {
  progress("sweeper: sparse index vs Scan");
  const sweeper = await sweeperIndexVsScan({
    stack,
    enrolled: await enrollLocalSecret(stack, { account: "bench-sweep" }),
    settled: size.settled,
    due: size.due,
    calls: smoke ? 3 : 30,
  });
  record("sweeper", {}, sweeper);
}
if (stack && wanted("fleet-jobs")) {
  const f = size.fleet;
  progress(
    `fleet-wide jobs over ${f.secrets} secrets × ${f.consumers} consumers × ${f.instances} instances, sweeper with ${f.due} due`,
  );
  // Other sections (fleet-apply) write into `fleet` too: merge, never overwrite.
  let saved: Record<string, unknown> = {};
  const save = (figures: Record<string, number>, detail: Record<string, unknown>) => {
    saved = { ...saved, ...detail };
    record("fleetJobs", { fleet: { ...((load().fleet ?? {}) as object), ...figures } }, saved);
  };
  const { details, ...figures } = await fleetJobs({ stack, meter, ...f, log: progress, save });
  save(figures, details);
}

if (stack && wanted("fleet-apply")) {
  // Issue 19: enrollment at fleet size without a deploy, and a template that does not grow with it.
  const declared = smoke ? 20 : 10_000;
  progress(
    `fleet-apply: keyshift apply of ${declared} declared secrets, then serverless package with 2 and ${declared}`,
  );
  const applied = await fleetApply({ stack, secrets: declared });
  const template = await templateResources(declared);
  const fleet = {
    ...((load().fleet as Record<string, unknown> | undefined) ?? {}),
    templateResources: template.resources,
    templateResourcesHow: template.how,
    applySeconds10k: applied.first.seconds,
    applySeconds10kHow: `${applied.how} (${declared} secrets)`,
  };
  record("fleetApply", { fleet }, { apply: applied, templateResources: template });
}
meter.uninstall();
logs.restore();
await stack?.close();

if (wanted("misuse")) {
  const m = size.misuse;
  progress(
    `misuse detector: recall and false findings on ${m.secrets} secrets, time on ${m.timingSecrets} keys × ${m.weeks} weeks`,
  );
  const misuse = misuseBench({ seed: 20, ...m });
  const goal = misuse.recallGoalKinds.map((k) => misuse.recall[k]?.recall ?? 0);
  record(
    "misuse",
    {
      misuseRecallGoalKindsMin: Math.min(...goal),
      misuseFalseFindingsPer10KeyWeeks: misuse.falseFindingsPer10KeyWeeks,
      misuseDetectorSeconds10kKeys8Weeks: misuse.timing.detectorSeconds,
      // Issue 20's shape: recall per injected kind, false findings, time and cost at 10,000 keys.
      misuse: {
        recall: Object.fromEntries(Object.entries(misuse.recall).map(([k, r]) => [k, r.recall])),
        recallGoalKinds: misuse.recallGoalKinds,
        falseFindingsPer10KeyWeeks: misuse.falseFindingsPer10KeyWeeks,
        detectorSeconds10kKeys8Weeks: misuse.timing.detectorSeconds,
        detectorUSDPerMonthHourly: misuse.timing.lambdaUSDPerMonthHourly,
        how: "harness/bench/misuse.ts: a labelled corpus (seasonal traffic, growth, DST, holidays, injected attacks of every kind); details.misuse has the counts",
      },
    },
    misuse,
  );
}

if (wanted("bundles")) {
  progress("bundles: cold init and zip sizes");
  const bundled = await bundleAll();
  const base = baselineRef ? checkout(baselineRef) : undefined;
  const before = base ? await bundleAll(base.root) : undefined;
  try {
    const init = await coldInit(before ? withBaseline(bundled, before) : bundled, size.runs);
    record(
      "coldInit",
      { coldInitVsMinimalWorst: init.worstRatio },
      { ...init, ...(baselineRef ? { baseline: baselineRef } : {}) },
    );
    const zips = largestZip(bundled);
    record(
      "zips",
      { largestZipKB: zips.largestKB },
      { ...zips, ...(before ? { before: before.zipKB } : {}) },
    );
  } finally {
    cleanUp(bundled);
    if (before) cleanUp(before);
    base?.remove();
  }
}

const { details: _d, ...top } = results;
if (json) process.stdout.write(`${JSON.stringify(results)}\n`);
else
  for (const [k, v] of Object.entries(top))
    process.stdout.write(`${k.padEnd(40)} ${typeof v === "object" ? JSON.stringify(v) : v}\n`);
process.exit(0);
