import { performance } from "node:perf_hooks";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { documentClient } from "../../src/adapters/dynamodb/client";
import { type ScheduleContext, scheduleContext } from "../../src/cli/schedules";
import { loadConfig } from "../../src/commons/config";
import { type AppDeps, buildDeps } from "../../src/commons/deps";
import { runBounded } from "../../src/core/bounded";
import { rotationScheduleFor } from "../../src/core/enrollment/schedule-spec";
import { hygieneAudit } from "../../src/core/hygiene/audit";
import { fleetOverview } from "../../src/core/operator/fleet";
import { enrollSecret, registerConsumer } from "../../src/core/operator/operator";
import { planReadPolicy, readPolicyDrift, readPolicyDriftOf } from "../../src/core/read-policy/sync";
import { newLedgerEntry } from "../../src/core/revocation/through-ledger";
import { ledgerEntryId } from "../../src/core/tokens";
import { KEYSHIFT_SIM } from "../local/exchange/keyshift-sim/protocol";
import { ADMIN_SECRET_PREFIX, type LocalStack } from "../local/stack";
import { type DynamoMeter, median, round } from "./support";

/**
 * The fleet-wide jobs at a firm's size (issue 19): `secrets` enrolled secrets × `consumers`
 * consumers × `instances` instances, on the local stack (dynalite, the Secrets Manager emulator,
 * the keyshift-sim exchange behind each account's request budget). One real secret per account is
 * enrolled and its consumers registered through the use cases; the others are copies of its rows
 * (settings, versions, registrations, principal claims, live instance rows) and of its secret and
 * read policy, written in batches: what the jobs read is what enrollment writes.
 * Measured, each with the code a deployment runs (the same use cases and adapters, the handlers'
 * concurrency):
 *   listFirstPageMs10k  `keyshift list`'s first page (100 secrets), median of 5
 *   driftCheckSeconds10k  the read-policy drift check of every secret, 16 at once
 *   hygieneSeconds10k  the hygiene audit over every secret, 16 at once (the weekly job's settings),
 *     its run-time schedule check included (each secret's schedule made as `keyshift apply` makes it)
 *   sweeperDue5000Seconds  `due` due revocations (keys on the accounts, spread over secrets)
 *     drained by the sweeper handler run after run with a 240-s Lambda's time budget
 *   heartbeatWcu  write units of one steady-state heartbeat (a conditional UpdateItem on an
 *     instance row), the figure of docs/deploy.md's per-secret partition limit
 */
export async function fleetJobs(opts: {
  stack: LocalStack;
  meter: DynamoMeter;
  secrets: number;
  consumers: number;
  instances: number;
  accounts: number;
  due: number;
  /** Progress lines (seeding 10,000 secrets takes minutes). */
  log?: (what: string) => void;
  /** Called with each figure as soon as it is measured, so a later failure loses none. */
  save?: (figures: Record<string, number>, details: Record<string, unknown>) => void;
}) {
  const { stack } = opts;
  const log = opts.log ?? (() => undefined);
  const save = opts.save ?? (() => undefined);
  const deps = buildDeps(loadConfig());
  const db = documentClient({ region: stack.region, endpoint: stack.endpoints.dynamodb });
  const sm = new SecretsManagerClient({ region: stack.region, endpoint: stack.endpoints.secretsManager });
  const schedules = await scheduleContext(stack.env, "the fleet bench");
  const seedStart = performance.now();
  const templates = await enrollTemplates(opts, deps, sm);
  for (const t of templates) await createSchedule(schedules, t.secretId);
  log(`fleet-jobs: ${templates.length} accounts enrolled; copying to ${opts.secrets} secrets`);
  const fleet = await copyFleet(opts, templates, deps, db, sm, schedules);
  const seedSeconds = round((performance.now() - seedStart) / 1000, 1);
  log(`fleet-jobs: seeded in ${seedSeconds} s; list`);
  const list = await timeList(deps, fleet.length);
  save({ listFirstPageMs10k: list.firstPageMs }, { list });
  log(`fleet-jobs: first page ${list.firstPageMs} ms; drift check`);
  const drift = await timeDrift(deps, fleet);
  save({ driftCheckSeconds10k: drift.seconds }, { drift });
  log(`fleet-jobs: drift ${drift.seconds} s; hygiene audit`);
  const hygiene = await timeHygiene(deps, fleet.length, schedules);
  save({ hygieneSeconds10k: hygiene.seconds }, { hygiene });
  log(`fleet-jobs: hygiene ${hygiene.seconds} s; sweeper over ${opts.due} due`);
  const sweeper = await timeSweeper(opts, templates, fleet, deps);
  const heartbeat = await heartbeatWcu(opts.meter, deps, fleet.at(-1) ?? "");
  db.destroy();
  sm.destroy();
  schedules.close();
  return {
    listFirstPageMs10k: list.firstPageMs,
    driftCheckSeconds10k: drift.seconds,
    hygieneSeconds10k: hygiene.seconds,
    sweeperDue5000Seconds: sweeper.seconds,
    heartbeatWcu: heartbeat,
    // The size the figures were measured at (BENCH_FLEET_SECRETS / BENCH_FLEET_DUE may lower it).
    fleetJobsSecrets: fleet.length,
    fleetJobsDue: opts.due,
    details: {
      fleet: { secrets: fleet.length, consumers: opts.consumers, instancesPerConsumer: opts.instances },
      accounts: opts.accounts,
      seedSeconds,
      list,
      drift,
      hygiene,
      sweeper,
      how: {
        listFirstPageMs10k:
          "fleetOverview({limit: 100}) over the seeded fleet: one settings page + 6 reads per secret, 8 at once; median of 5",
        driftCheckSeconds10k:
          "readPolicyDrift (registry Query + GetResourcePolicy) for every secret, 16 at once",
        hygieneSeconds10k:
          "hygieneAudit with the weekly handler's concurrency (16), the drift check and the schedule check (ListSchedules once, GetSchedule for the week's sample), every secret in one run",
        sweeperDue5000Seconds: `retryRevocationsStep run after run (240-s Lambda budget) until none due; ${opts.due} unpromoted keys on ${opts.accounts} accounts`,
        heartbeatWcu:
          "write units DynamoDB reports (dynalite, ReturnConsumedCapacity) for the steady-state heartbeat's conditional UpdateItem",
      },
    },
  };
}

/** Every fleet secret's schedule: its SETTINGS (the templates' enrollment) and its run-time schedule agree. */
const FLEET_SCHEDULE = "rate(30 days)";

interface Template {
  account: string;
  secretId: string;
}

/** One real enrolled secret per account, `consumers` consumers registered through the use cases. */
async function enrollTemplates(
  opts: { stack: LocalStack; accounts: number; consumers: number; due: number },
  deps: AppDeps,
  sm: SecretsManagerClient,
): Promise<Template[]> {
  const out: Template[] = [];
  for (let a = 0; a < opts.accounts; a++) {
    const account = `fleet-acct-${a}`;
    const secretId = `keyshift/exchange/${account}/k00000`;
    // Room for this account's share of the sweeper's keys.
    const admin = opts.stack.exchange.createAccount(account, {
      maxActiveKeys: Math.ceil(opts.due / opts.accounts) + 10,
    });
    const first = opts.stack.exchange.seedKey(account, { label: "initial", permissions: ["read", "trade"] });
    await sm.send(
      new CreateSecretCommand({
        Name: `${ADMIN_SECRET_PREFIX}${account}`,
        SecretString: JSON.stringify({
          exchange: KEYSHIFT_SIM,
          endpoint: opts.stack.exchange.url,
          keyId: admin.adminKeyId,
          secret: admin.adminSecret,
        }),
      }),
    );
    await sm.send(
      new CreateSecretCommand({
        Name: secretId,
        SecretString: JSON.stringify({ account, ...first, permissions: ["read", "trade"] }),
      }),
    );
    await enrollSecret(
      {
        secretId,
        exchangeAccount: account,
        minOverlapSeconds: 600,
        deadlineSeconds: 86_400,
        pollIntervalSeconds: 30,
        maxPollIntervalSeconds: 600,
        livenessMultiplier: 3,
        schedule: FLEET_SCHEDULE,
        scheduleEnabled: true,
      },
      "operator:bench",
      deps,
    );
    for (let c = 0; c < opts.consumers; c++) {
      await registerConsumer(
        {
          secretId,
          consumerId: `svc-${c}`,
          principalArn: `arn:aws:iam::111122223333:role/svc-${c}`,
          cacheTtlSeconds: 60,
          heartbeatIntervalSeconds: 60,
          required: true,
        },
        "operator:bench",
        deps,
      );
    }
    out.push({ account, secretId });
  }
  return out;
}

/** Copies each template's rows, secret and read policy to `secrets` secrets in all (templates included). */
async function copyFleet(
  opts: { stack: LocalStack; secrets: number; instances: number },
  templates: Template[],
  deps: AppDeps,
  db: DynamoDBDocumentClient,
  sm: SecretsManagerClient,
  schedules: ScheduleContext,
): Promise<string[]> {
  const { tables } = opts.stack;
  const rowsOf = async (table: string, secretId: string) =>
    (
      await db.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "secretId = :s",
          ExpressionAttributeValues: { ":s": secretId },
        }),
      )
    ).Items ?? [];
  const source = await Promise.all(
    templates.map(async (t) => ({
      ...t,
      rotations: (await rowsOf(tables.rotations, t.secretId)).filter(
        (r) => r.sk === "SETTINGS" || r.sk === "VERSIONS",
      ),
      consumers: (await rowsOf(tables.consumers, t.secretId)).filter((r) =>
        /^(CONSUMER|PRINCIPAL)#/.test(String(r.sk)),
      ),
      value: JSON.stringify({ account: t.account, note: "a copy: never read by the jobs measured" }),
    })),
  );
  const now = Date.now();
  const ids = Array.from({ length: opts.secrets }, (_, i) => i);
  await runBounded(ids, 8, async (i) => {
    const t = source[i % source.length];
    if (!t || i < source.length) return;
    const secretId = `keyshift/exchange/${t.account}/k${String(i).padStart(5, "0")}`;
    const fingerprint = String(
      (t.rotations.find((r) => r.sk === "VERSIONS")?.current as { fingerprint?: string })?.fingerprint,
    );
    const instances = t.consumers
      .filter((r) => String(r.sk).startsWith("CONSUMER#"))
      .flatMap((r) =>
        Array.from({ length: opts.instances }, (_, n) => ({
          secretId,
          sk: `INSTANCE#${r.consumerId}#i-${n}`,
          consumerId: r.consumerId,
          instanceId: `i-${n}`,
          fingerprint,
          firstSeenAt: new Date(now).toISOString(),
          lastSeenAt: new Date(now).toISOString(),
          expectedBy: new Date(now + 3600_000).toISOString(),
          expiresAt: Math.floor(now / 1000) + 7 * 86_400,
        })),
      );
    await batchPut(
      db,
      tables.rotations,
      t.rotations.map((r) => ({ ...r, secretId })),
    );
    await batchPut(db, tables.consumers, [...t.consumers.map((r) => ({ ...r, secretId })), ...instances]);
    await sm.send(new CreateSecretCommand({ Name: secretId, SecretString: t.value }));
    await deps.policies.putResourcePolicy(secretId, (await planReadPolicy(deps, secretId)).document);
    await createSchedule(schedules, secretId);
  });
  return ids.map((i) => {
    const t = source[i % source.length] as Template;
    return i < source.length ? t.secretId : `keyshift/exchange/${t.account}/k${String(i).padStart(5, "0")}`;
  });
}

async function batchPut(db: DynamoDBDocumentClient, table: string, items: Record<string, unknown>[]) {
  for (let i = 0; i < items.length; i += 25) {
    let RequestItems: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = {
      [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
    };
    while (RequestItems && Object.keys(RequestItems).length > 0) {
      const out = await db.send(new BatchWriteCommand({ RequestItems }));
      RequestItems = out.UnprocessedItems as typeof RequestItems;
    }
  }
}

async function timeList(deps: AppDeps, total: number) {
  const runs: number[] = [];
  let shown = 0;
  for (let r = 0; r < 5; r++) {
    const start = performance.now();
    const page = await fleetOverview(deps, { limit: 100 });
    runs.push(performance.now() - start);
    shown = page.secrets.length;
    if (!page.nextToken && total > 100) throw new Error("the first page of a large fleet has no next token");
  }
  // Every page once, to prove the pages cover the fleet and say what a whole listing costs.
  const start = performance.now();
  let pages = 0;
  let listed = 0;
  let nextToken: string | undefined;
  do {
    const page = await fleetOverview(deps, { limit: 1000, ...(nextToken ? { nextToken } : {}) });
    listed += page.secrets.length;
    nextToken = page.nextToken;
    pages += 1;
  } while (nextToken);
  // Other sections (fleet-apply) may have enrolled secrets on the same stack first: at least ours.
  if (listed < total) throw new Error(`the pages listed ${listed} secrets, expected at least ${total}`);
  return {
    firstPageMs: round(median(runs), 1),
    firstPageMsRuns: runs.map((ms) => round(ms, 1)),
    firstPageSecrets: shown,
    allPagesOf1000Seconds: round((performance.now() - start) / 1000, 2),
    pagesOf1000: pages,
  };
}

async function timeDrift(deps: AppDeps, fleet: string[]) {
  let drifting = 0;
  const start = performance.now();
  await runBounded(fleet, 16, async (secretId) => {
    if ((await readPolicyDrift(deps, secretId)).length > 0) drifting += 1;
  });
  const seconds = round((performance.now() - start) / 1000, 2);
  if (drifting > 0) throw new Error(`${drifting} seeded secrets drift: the seed is wrong`);
  return { seconds, secrets: fleet.length, drifting, concurrency: 16 };
}

/** The schedule `keyshift apply` makes for a template's settings (rate(30 days), enabled, default time zone). */
async function createSchedule(ctx: ScheduleContext, secretId: string): Promise<void> {
  await ctx.schedules.create(
    rotationScheduleFor({ secretId, schedule: FLEET_SCHEDULE, enabled: true }, ctx.deployment),
  );
}

async function timeHygiene(deps: AppDeps, total: number, schedules: ScheduleContext) {
  const start = performance.now();
  const report = await hygieneAudit(
    { concurrency: 16 },
    {
      ...deps,
      policyDrift: (secretId, consumers) => readPolicyDriftOf(deps, secretId, consumers),
      scheduleCheck: {
        schedules: schedules.schedules,
        deployment: schedules.deployment,
        group: schedules.group,
      },
    },
  );
  const seconds = round((performance.now() - start) / 1000, 2);
  // Every secret of the stack, ours included (other sections may have enrolled some first: the
  // figure says how many it covered).
  if (report.secrets < total) throw new Error(`the audit covered ${report.secrets} of ${total} secrets`);
  const unreadable = report.findings.filter((f) => f.message.includes("could not read")).length;
  if (unreadable > 0) throw new Error(`the audit could not read ${unreadable} secrets`);
  // Other sections' secrets (enrolled without a schedule) may be reported; the fleet's never.
  const scheduleFindings = report.findings.filter(
    (f) => f.kind.startsWith("schedule-") && f.secretId?.startsWith("keyshift/exchange/fleet-acct-"),
  ).length;
  if (scheduleFindings > 0) throw new Error(`${scheduleFindings} schedule findings: the seed is wrong`);
  const kinds: Record<string, number> = {};
  for (const f of report.findings) kinds[f.kind] = (kinds[f.kind] ?? 0) + 1;
  return {
    seconds,
    secrets: report.secrets,
    counts: report.counts,
    // What the seeded copies are reported for (they are copies: never rotated by keyshift).
    kinds,
    concurrency: 16,
    lambdaLimitSeconds: 900,
  };
}

async function timeSweeper(
  opts: { stack: LocalStack; due: number; accounts: number },
  templates: Template[],
  fleet: string[],
  deps: AppDeps,
) {
  // Keys on each account, each in an open `unpromoted` entry of one of that account's secrets
  // (ten per secret), already past its first attempt time.
  const past = new Date(Date.now() - 3600_000);
  const entries = Array.from({ length: opts.due }, (_, i) => i);
  await runBounded(entries, 8, async (i) => {
    const t = templates[i % templates.length] as Template;
    const own = fleet.filter((s) => s.startsWith(`keyshift/exchange/${t.account}/`));
    const secretId = own[Math.floor(i / templates.length / 10) % own.length] ?? t.secretId;
    const key = opts.stack.exchange.seedKey(t.account, { label: `sweep-${i}`, permissions: ["read"] });
    await deps.ledger.openPending(
      newLedgerEntry(
        {
          secretId,
          exchangeAccount: t.account,
          keyId: key.keyId,
          versionId: "v-unused",
          rotationId: "bench",
          kind: "unpromoted",
        },
        ledgerEntryId(t.account, key.keyId),
        past,
      ),
    );
  });
  const { retryRevocationsStep } = await import("../../functions/retry-revocations");
  const open = async () => (await deps.ledger.listAll()).filter((e) => e.status !== "revoked").length;
  const start = performance.now();
  const runs: Array<{ due: number; revoked: number; failed: number; deferred: number; seconds: number }> = [];
  // Run after run, as the 5-minute schedule would back to back, until every entry is revoked: an
  // attempt that failed (a listing that timed out under load) is due again after its backoff.
  while (runs.length < 40 && (await open()) > 0) {
    const runStart = performance.now();
    const context = { getRemainingTimeInMillis: () => 240_000 - (performance.now() - runStart) };
    const out = await retryRevocationsStep({}, deps, context);
    runs.push({
      due: out.due,
      revoked: out.revoked,
      failed: out.failed,
      deferred: out.deferred,
      seconds: round((performance.now() - runStart) / 1000, 1),
    });
    if (out.due === 0) await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const seconds = round((performance.now() - start) / 1000, 1);
  const revoked = runs.reduce((n, r) => n + r.revoked, 0);
  return {
    seconds,
    due: opts.due,
    revoked,
    leftOpen: await open(),
    // What an entry still open looks like (one of 5,000 was, at 10,000 secrets, 2026-12-08, before
    // dynalite's index keys were mended: harness/local/dynalite-loader.ts): enough
    // to tell an entry never indexed as due from one left claimed.
    leftOpenEntries: (await deps.ledger.listAll())
      .filter((e) => e.status !== "revoked")
      .slice(0, 5)
      .map(({ entryId, status, attempts, nextAttemptAt, claim, createdAt, heldReason, lastError }) => ({
        entryId,
        status,
        attempts,
        nextAttemptAt,
        claimUntil: claim?.until,
        createdAt,
        heldReason,
        lastError,
      })),
    failedAttempts: runs.reduce((n, r) => n + r.failed, 0),
    runs,
    requestBudget:
      "none taken: keyshift-sim's harness adapter sends without fetchBounded (docs/exchanges.md, Request budget)",
  };
}

/** Write units of the steady-state heartbeat's conditional UpdateItem on one instance row. */
async function heartbeatWcu(meter: DynamoMeter, deps: AppDeps, secretId: string) {
  const row = (await deps.consumers.listInstances(secretId))[0];
  if (!row) throw new Error(`no instance row on ${secretId}`);
  meter.reset();
  const n = 20;
  for (let i = 0; i < n; i++) {
    const now = new Date();
    const touched = await deps.consumers.touchInstance({
      secretId,
      consumerId: row.consumerId,
      instanceId: row.instanceId,
      fingerprint: row.fingerprint,
      lastSeenAt: now.toISOString(),
      expectedBy: new Date(now.getTime() + 5000).toISOString(),
    });
    if (!touched) throw new Error("the heartbeat's conditional write failed on a seeded row");
  }
  const usage = meter.snapshot();
  return round(usage.writeUnits / n, 2);
}
