/**
 * One seed, start to finish: populate the world, run the actors under faults for a budget of
 * events, then quiesce (no faults, operators settle stalled rotations, the sweeper drains the
 * ledger) and judge the end state. Invariants are checked after every event.
 */

import { STAGE } from "../../src/core/model";
import { requeueRevocation } from "../../src/core/operator/operator";
import { exchangeLabelFor } from "../../src/core/tokens";
import { type OperatorCommand, runOperator, spawnChaosActors, sweepOnce } from "./actors";
import { approvalCounts } from "./approvals";
import { spawnAttacker } from "./attacker";
import { spawnFleet, spawnInstance } from "./consumers";
import { Executions, loadSteps } from "./executions";
import { type CallContext, isRead } from "./faults";
import {
  checkCreatedBinding,
  checkCreatedKey,
  checkLockAtEnd,
  checkQuiescence,
  checkRevocationCall,
  checkWorld,
  checkWriteUnderLock,
  SecretScanner,
} from "./invariants";
import { spawnManualOperator } from "./manual-operator";
import { noteForMisuseRuns, runMisuseHourly, spawnMisuseHourly } from "./misuse-hourly";
import { checkRevocationTruth, type DecisionPoint } from "./oracles/liveness";
import { checkManualAnswers } from "./oracles/manual";
import { checkMisuseReport } from "./oracles/misuse";
import { isRetiredStatus, type RetiredUseSummary, retiredUseSummary } from "./oracles/retired-use";
import { checkAfterEvent, checkAtQuiescence, RecordsSeen, registryFacts } from "./oracles/world-checks";
import { type Snapshot, takeSnapshot } from "./snapshot";
import { type CommandKind, SIM_MANUAL_ACCOUNT, sessionArn, type Violation, World } from "./world";

export interface SeedOptions {
  /** Events under faults before quiescence. */
  chaosEvents?: number;
  /** Hard cap on all events of the seed. */
  maxEvents?: number;
  /** Violation signatures to count but not stop on (to look past a known bug). */
  ignore?: string[];
}

export interface SeedResult {
  seed: number;
  events: number;
  digest: string;
  faults: Record<string, number>;
  operatorCommands: number;
  /** Operator commands issued per kind (refused and failed attempts included)… */
  operatorCommandsByKind: Partial<Record<CommandKind, number>>;
  /** …and those that succeeded (an execution: BeginRotation accepted it). */
  operatorCommandsOkByKind: Partial<Record<CommandKind, number>>;
  /** `audit verify` outcomes, and instance rows deleted by the TTL actor. */
  auditVerify: { ok: number; broken: number; failed: number };
  instanceRowsExpired: number;
  incident: { started: number; parked: number; rolledBack: number; resumed: number };
  stuckIncidents: { started: number; disabled: number; restored: number };
  /** The two-person rule: requests opened, executed, approved, denied, and approvals refused by error name. */
  approvals: Record<string, number>;
  violations: Violation[];
  maxActiveKeys: number;
  /** Exchange calls by method, so a batch shows which paths (disable, enable, remove…) it walked. */
  exchangeCalls: Record<string, number>;
  /** Task retries the state machine made, by error name (e.g. `TotpWindowError`'s 30-s waits). */
  stateRetries: Record<string, number>;
  /** The seed's IP-binding world (see `World.binding`) and how many rotations it refused for it. */
  binding: string;
  egressRefusals: number;
  /** The attacker and the hourly misuse runs (issue 20): what was used after retirement, detected, stopped. */
  retiredUse: RetiredUseSummary;
  /** Manual key management (issue 17): absent when the world has no manual account. */
  manual?: ManualSummary;
  orphans: number;
  quiesced: boolean;
  traceTail: string[];
  actorFailures: string[];
}

export interface ManualSummary {
  /** Rotations of the manual secret by final phase (completed, stalled, aborted…). */
  rotations: Record<string, number>;
  /** Waiting states that timed out (States.Timeout), by state. */
  timedOut: Record<string, number>;
  /** SendTaskSuccess the service accepted, and answers refused as gone (by why). */
  tokensAccepted: number;
  tokensGone: Record<string, number>;
  /** What the persons planned and what keyshift answered them. */
  outcomes: Record<string, number>;
}

export async function runSeed(seed: number, opts: SeedOptions = {}): Promise<SeedResult> {
  const chaosEvents = opts.chaosEvents ?? 2500;
  const maxEvents = opts.maxEvents ?? 12000;
  const world = new World(seed);
  for (const s of opts.ignore ?? []) world.ignored.add(s);
  await world.populate();
  const steps = await loadSteps();
  const scanner = new SecretScanner();
  for (const s of world.knownSecrets) scanner.add(s);
  const scan = (where: string, text: string) => {
    for (const v of scanner.scan(where, text)) world.violate(v);
  };
  const labelOwner = (label: string) => {
    for (const [rotationId, secretId] of world.rotationSecret)
      if (exchangeLabelFor(rotationId) === label) return secretId;
    return undefined;
  };
  let calm = false;
  let stopped = false;
  const execs = new Executions(
    world,
    steps,
    async () => {
      if (execs.anyUnknown()) return;
      const executions = execs.liveExecutions();
      const rotations = execs.liveRotations();
      for (const secretId of world.secretIds) {
        const lock = await world.raw.store.get(secretId);
        const record = lock && (await world.raw.store.getRotation(secretId, lock.rotationId));
        if (!lock || !record) continue;
        // A running execution that claimed the record is taking the lock over (claim, then lock);
        // an operator command's marker is final from the start: a command that died leaves it to
        // the next rotation or command, which releases it once its short lease is past (restore).
        if (record.fence !== undefined && executions.has(record.fence)) rotations.add(lock.rotationId);
        if (record.trigger === "operator") rotations.add(lock.rotationId);
      }
      for (const v of checkLockAtEnd(await takeSnapshot(world), { rotations, executions }, "execution ended"))
        world.violate(v);
    },
    scan,
  );

  // The instances each invocation read for its decision, per secret (I1 "at the moment of the decision").
  const decisionReads = new WeakMap<CallContext, Map<string, DecisionPoint>>();
  world.hooks.before = async (port, method, args, ctx) => {
    if (port === "secrets" && !isRead(method)) await world.lagSecrets.recordWrite(String(args[0]));
    if (port === "ledger" && method === "markAwaitingOperator") {
      // Keyshift asks a person to delete a key: the decision its guard read (or this very moment).
      const entry = await world.raw.ledger.get(String(args[0]));
      const read = entry && decisionReads.get(ctx)?.get(entry.secretId);
      const point = read ?? { at: world.raw.clock.now().getTime(), seq: world.truth.tick() };
      if (!world.manual.asked.has(String(args[0]))) world.manual.asked.set(String(args[0]), point);
    }
    if (port === "exchange" && (method === "removeKey" || method === "disableKey")) {
      const snap = await takeSnapshot(world);
      const account = String(args[0]);
      const keyId = String(args[1]);
      const label = snap.accounts[account]?.keys.find((k) => k.keyId === keyId)?.label;
      const call = { method, account, keyId, labelOwner: label ? labelOwner(label) : undefined };
      for (const v of checkRevocationCall(snap, call)) world.violate(v);
      // I1 from the world's record: the reads were this invocation's, the instances the world's own.
      const at = { method, keyId, at: world.raw.clock.now().getTime(), seq: world.truth.tick() };
      const reads = decisionReads.get(ctx);
      const registry = await registryFacts(world);
      for (const v of checkRevocationTruth(at, world.truth.instances.values(), registry, world.truth, (id) =>
        reads?.get(id),
      ))
        world.violate(v);
    }
    // A rotation-record write that names its writer is refused by the store once another claimed
    // the record: judged after it succeeded (below), not at the attempt.
    // Claiming the record is part of taking a rotation over (resume, escalation), like the lock's own calls.
    const fencedWrite =
      port === "store" && ((method === "putRotation" && args[1] !== undefined) || method === "claimRotation");
    if (
      ctx.rotation &&
      !fencedWrite &&
      !isRead(method) &&
      port !== "lock" &&
      port !== "audit" &&
      port !== "alerts"
    ) {
      const lock = await world.raw.store.get(ctx.rotation.secretId);
      for (const v of checkWriteUnderLock(lock, ctx.rotation, `${port}.${method}`)) world.violate(v);
    }
  };
  world.hooks.after = async (port, method, args, result, ctx) => {
    await noteForMisuseRuns(world, port, method, args, ctx);
    if (ctx.rotation && port === "store" && method === "putRotation" && args[1] !== undefined) {
      const lock = await world.raw.store.get(ctx.rotation.secretId);
      for (const v of checkWriteUnderLock(lock, ctx.rotation, `${port}.${method}`)) world.violate(v);
    }
    if (port === "consumers" && method === "listInstances") {
      const reads = decisionReads.get(ctx) ?? new Map<string, DecisionPoint>();
      reads.set(String(args[0]), { at: world.raw.clock.now().getTime(), seq: world.truth.tick() });
      decisionReads.set(ctx, reads);
    }
    if (port === "exchange" && typeof args[1] === "string")
      world.truth.effect(method, args[1], world.raw.clock.now().getTime());
    if (port === "ledger" && !isRead(method)) await world.lagLedger.recordWrite();
    if (port === "exchange" && method === "createKey") {
      const created = result as { keyId: string; label: string; secret: string; ipAllowlist?: string[] };
      world.knownSecrets.push(created.secret);
      scanner.add(created.secret);
      const snap = await takeSnapshot(world);
      for (const v of checkCreatedKey(snap, String(args[0]), created.keyId, labelOwner(created.label)))
        world.violate(v);
      for (const v of checkCreatedBinding(created, world.raw.exchange.callerAddress)) world.violate(v);
    }
  };

  const rng = world.rng.fork("actors");
  spawnFleet(world, rng.fork("fleet"), () => stopped);
  spawnChaosActors(world, execs, steps, rng.fork("chaos"), () => calm);
  spawnAttacker(
    world,
    () => calm,
    () => stopped,
  );
  spawnMisuseHourly(world, () => calm, scan);
  if (world.hasManual)
    spawnManualOperator(
      world,
      execs,
      world.manualRng.fork("persons"),
      () => calm,
      () => stopped,
    );

  let prev: Snapshot | undefined;
  let maxActiveKeys = 0;
  const seen = { audit: new Map<string, number>(), alerts: 0, generated: 0, tasks: "" };
  const recordsSeen = new RecordsSeen();
  const afterEvent = async () => {
    const snap = await takeSnapshot(world);
    for (const s of snap.secrets) {
      const current = s.versions.find((v) => v.stages.includes(STAGE.current));
      if (current) world.everCurrent.add(current.keyId);
      const from = seen.audit.get(s.secretId) ?? 0;
      for (const a of s.audit.slice(from)) scan(`audit ${s.secretId}#${a.seq}`, JSON.stringify(a));
      seen.audit.set(s.secretId, s.audit.length);
      for (const [stream, entries] of Object.entries(s.instanceAudit)) {
        for (const a of entries.slice(seen.audit.get(stream) ?? 0))
          scan(`audit ${stream}#${a.seq}`, JSON.stringify(a));
        seen.audit.set(stream, entries.length);
      }
    }
    // Keys a person made at a manual account's web UI are secrets like any other.
    for (const secret of world.raw.exchange.generatedSecrets.slice(seen.generated)) scanner.add(secret);
    seen.generated = world.raw.exchange.generatedSecrets.length;
    if (world.hasManual) {
      const tasks = JSON.stringify(world.raw.tasks.all());
      if (tasks !== seen.tasks) scan("task records", tasks);
      seen.tasks = tasks;
      for (const v of checkManualAnswers(world)) world.violate(v);
    }
    for (const a of world.raw.alerts.sent.slice(seen.alerts)) scan(`alert ${a.kind}`, JSON.stringify(a));
    seen.alerts = world.raw.alerts.sent.length;
    for (const e of snap.ledger) if (e.lastError) scan(`ledger ${e.entryId}`, e.lastError);
    for (const acct of Object.values(snap.accounts)) {
      maxActiveKeys = Math.max(maxActiveKeys, acct.keys.filter((k) => k.status === "active").length);
    }
    for (const v of checkWorld(prev, snap)) world.violate(v);
    noteReRetired(world, prev, snap);
    for (const v of checkAfterEvent(world, snap, recordsSeen)) world.violate(v);
    prev = snap;
  };
  const stepUntil = async (done: () => boolean) => {
    while (!done() && world.violations.length === 0 && world.trace.count < maxEvents) {
      if (!(await world.sched.step())) return;
      await afterEvent();
    }
  };

  // Chaos for a few virtual hours (or an event budget, whichever comes first).
  const horizon = world.raw.clock.now().getTime() + rng.range(4, 10) * 3600_000;
  await stepUntil(() => world.trace.count >= chaosEvents || world.raw.clock.now().getTime() >= horizon);
  calm = true;
  world.faultsOn = false;
  let quiesced = false;
  if (world.violations.length === 0) {
    world.sched.spawn("quiesce", async () => {
      await quiesce(world, execs, steps, rng.fork("quiesce"), scan);
      quiesced = true;
    });
    await stepUntil(() => quiesced);
  }
  stopped = true;
  let orphans = 0;
  if (world.violations.length === 0 && quiesced) {
    const snap = await takeSnapshot(world);
    const end = checkQuiescence(snap);
    orphans = end.orphans;
    for (const v of [
      ...end.violations,
      ...checkLockAtEnd(snap, { rotations: new Set(), executions: new Set() }, "quiescence"),
      ...(await checkAtQuiescence(world, snap)),
      ...(await checkMisuseReport(world, scan)).violations,
    ])
      world.violate(v);
  }
  return {
    seed,
    events: world.trace.count,
    digest: world.trace.digest(),
    faults: { ...world.faults } as Record<string, number>,
    operatorCommands: world.operatorCommands,
    operatorCommandsByKind: { ...world.commandsByKind },
    operatorCommandsOkByKind: { ...world.commandsOkByKind },
    auditVerify: { ...world.auditVerify },
    instanceRowsExpired: world.instanceRowsExpired,
    incident: { ...world.incident },
    stuckIncidents: { ...world.stuckIncidents },
    approvals: approvalCounts(world),
    violations: world.violations,
    maxActiveKeys,
    exchangeCalls: world.raw.exchange.calls.reduce<Record<string, number>>((acc, c) => {
      acc[c.method] = (acc[c.method] ?? 0) + 1;
      return acc;
    }, {}),
    stateRetries: { ...world.stateRetries },
    binding: world.binding,
    egressRefusals: world.egressRefusals,
    retiredUse: retiredUseSummary(world.misuseRuns, world.attackerUses, world.stolen.length, world.attacker),
    ...(world.hasManual ? { manual: await manualSummary(world) } : {}),
    orphans,
    quiesced,
    traceTail: world.trace.tail(),
    actorFailures: world.sched.failures.map(
      (f) => `${f.actor}: ${(f.error as Error)?.name}: ${(f.error as Error)?.message}`,
    ),
  };
}

/**
 * Calm end of a seed: settle every rotation, drain the ledger, so the end state can be judged.
 * The fleet is redeployed (one fresh instance per registered consumer, on the registered role; a
 * forgotten host is finally stopped). Waits fast-forward over instance heartbeats (`pause`), so
 * "did not settle" means the product never finishes, not that heartbeats ate the event budget.
 */
async function quiesce(
  world: World,
  execs: Executions,
  steps: Awaited<ReturnType<typeof loadSteps>>,
  rng: ReturnType<World["rng"]["fork"]>,
  scan: (where: string, text: string) => void,
) {
  const sched = world.sched;
  world.quiescing = true;
  world.dynamoDownUntil = 0;
  world.exchangeDownUntil = 0;
  let n = 0;
  const running = new Set<(typeof world.consumers)[number]>();
  // Every registered consumer runs an instance: those registered when quiescence began, and those
  // whose registration was still in flight then (seed 970: a required consumer registered after
  // the start never reported, so every resumed wait stalled at its deadline until the event cap).
  const startInstances = () => {
    for (const spec of world.consumers) {
      if (!spec.registered || running.has(spec)) continue;
      running.add(spec);
      spec.forgotten = undefined;
      spec.callerArn = sessionArn(spec.principalArn);
      spawnInstance(world, spec, `q${++n}`, rng.fork(`q${n}`), () => !spec.registered);
    }
  };
  startInstances();
  for (let round = 0; round < 30; round++) {
    while (execs.running > 0 || world.commandsInFlight > 0) {
      await pause(world, 300, "executions and operator commands to finish");
      startInstances();
    }
    // The hourly misuse run, calm: whatever it owes (R1, R2) it owes without the excuse of a fault.
    await runMisuseHourly(world, "misuse:quiesce", scan);
    // A registry command that failed is re-run by its operator (it said so); until it succeeds
    // the read policy may differ from the registry.
    for (const secretId of [...world.syncOwed]) {
      const out = await runOperator(world, execs, rng, "sync-policy", secretId);
      sched.log("quiesce", `syncPolicy ${secretId} -> ${out}`);
      if (!out.startsWith("refused/failed")) world.syncOwed.delete(secretId);
    }
    const ledger = await world.raw.ledger.listAll();
    const open = ledger.filter((e) => e.status !== "revoked");
    let locked = false;
    for (const secretId of world.secretIds) {
      const lock = await world.raw.store.get(secretId);
      if (!lock) continue;
      locked = true;
      if (!lock.stalled && Date.parse(lock.leaseExpiresAt) >= world.raw.clock.now().getTime()) {
        // Held by an execution that died: let its lease run out, as the operator would wait.
        world.raw.clock.set(new Date(Date.parse(lock.leaseExpiresAt) + 1000).toISOString());
        sched.log("quiesce", `lease of ${lock.rotationId} runs out`);
      }
      // As an operator reading `keyshift status` would: an unfinished rollback is finished first.
      const holder = await world.raw.store.getRotation(secretId, lock.rotationId);
      // Force-revoke and rollback need a promoted rotation; one stalled before promotion is resumed.
      // An unfinished command's intent (on the lock, or on the record) is finished by its re-run,
      // as `keyshift status` says (`lockStatus`).
      const intent =
        lock.intent ?? (holder?.rollback ? "rollback" : holder?.forceRevoke ? "force-revoke" : undefined);
      const cmd: OperatorCommand = intent
        ? intent
        : !holder?.previous || holder.phase === "rolled-back"
          ? "resume"
          : round >= 3
            ? "force-revoke"
            : rng.weighted<OperatorCommand>({ resume: 4, "force-revoke": 1, rollback: 1 } as Record<
                OperatorCommand,
                number
              >);
      sched.log("quiesce", `${cmd} ${secretId} -> ${await runOperator(world, execs, rng, cmd, secretId)}`);
    }
    // Restored entries (and any needing an operator) are requeued: the consumers moved meanwhile.
    for (const e of open.filter((x) => x.needsOperator || x.status === "restored")) {
      sched.log("quiesce", `retry ${e.entryId} -> ${await retryEntry(world, e.entryId)}`);
    }
    if (!locked && open.length === 0) {
      // Once more with the ledger drained: nothing retired is left to report or stop.
      await runMisuseHourly(world, "misuse:settled", scan);
      return;
    }
    // Sleep until the ledger's next due attempt (a disabled key's grace end, a backoff), at most 15 min.
    const now = world.raw.clock.now().getTime();
    const due = open
      .filter((e) => !e.needsOperator && e.nextAttemptAt)
      .map((e) => Date.parse(e.nextAttemptAt ?? ""))
      .reduce((a, b) => Math.min(a, b), now + 900_000);
    await pause(world, Math.max(30, Math.ceil((due - now) / 1000) + 1), "sweeper backoff");
    await sweepOnce(world, steps, "sweeper:quiesce");
  }
}

/** `revocations retry <entry>` at quiescence (calm: no faults), counted as a retry. */
async function retryEntry(world: World, entryId: string): Promise<string> {
  world.countCommand("retry");
  try {
    await requeueRevocation({ entryId, actor: "operator:sim" }, world.depsFor(world.context("op:retry")));
    world.countCommand("retry", true);
    return "requeued";
  } catch (err) {
    return `refused/failed: ${(err as Error).name}`;
  }
}

/** Heartbeats before a jump land at once: the instances are late, so not live, until they beat again. */
const FAST_FORWARD_MARGIN_SECONDS = 120;

/**
 * Quiescence's wait: when nothing but instance heartbeats would happen before the wake-up (or
 * before any other actor's timer), jump the clock to shortly before it and let the instances
 * heartbeat once they find themselves late. Liveness stays honest: an instance past its
 * `expectedBy` is not live until it beats again, and the margin leaves it time to. Never while a
 * task runs (a Lambda cannot outlive its timeout) and never past another actor's timer.
 */
async function pause(world: World, seconds: number, why: string): Promise<void> {
  const now = world.raw.clock.now().getTime();
  let wake = now + seconds * 1000;
  for (const t of world.sched.pendingTimers()) {
    // The person reads the task list whenever it wakes: a jump past its timer only makes it late.
    // So does the attacker: it trades whenever it wakes.
    if (
      !t.actor.startsWith("inst:") &&
      t.actor !== "quiesce" &&
      !t.actor.startsWith("person") &&
      t.actor !== "attacker"
    ) {
      wake = Math.min(wake, t.at);
      break;
    }
  }
  const target = wake - FAST_FORWARD_MARGIN_SECONDS * 1000;
  if (target > now + 1000 && world.tasksInFlight === 0) {
    world.raw.clock.set(new Date(target).toISOString());
    world.sched.log("quiesce", `fast-forward ${Math.round((target - now) / 1000)}s (${why})`);
  }
  const left = Math.max(1, Math.ceil((now + seconds * 1000 - world.raw.clock.now().getTime()) / 1000));
  await world.sched.sleep("quiesce", left, why);
}

/** How the manual secret's rotations ended and what its persons did. */
async function manualSummary(world: World): Promise<ManualSummary> {
  const rotations: Record<string, number> = {};
  for (const [rotationId, secretId] of world.rotationSecret) {
    if (world.accountOf.get(secretId) !== SIM_MANUAL_ACCOUNT) continue;
    const phase = (await world.raw.store.getRotation(secretId, rotationId))?.phase ?? "refused-at-begin";
    rotations[phase] = (rotations[phase] ?? 0) + 1;
  }
  const timedOut: Record<string, number> = {};
  for (const state of world.tokens.timedOut) timedOut[state] = (timedOut[state] ?? 0) + 1;
  return {
    rotations,
    timedOut,
    tokensAccepted: world.tokens.accepted.length,
    tokensGone: { ...world.tokens.gone },
    outcomes: { ...world.manual.outcomes },
  };
}

/** A key an operator put back in service is retired anew when the world first sees its entry retired again. */
function noteReRetired(world: World, prev: Snapshot | undefined, snap: Snapshot): void {
  if (!prev) return;
  const before = new Map(prev.ledger.map((e) => [e.entryId, e.status]));
  for (const e of snap.ledger) {
    const was = before.get(e.entryId);
    if ((was === "restored" || was === "restoring") && isRetiredStatus(e.status)) {
      world.reRetiredAt.set(e.entryId, snap.now.getTime());
      world.reRetiredAfter.set(e.entryId, prev.now.getTime());
    }
  }
}
