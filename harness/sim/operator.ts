/**
 * The operator's commands, each one call of the CLI's use case through `world.depsFor` (so faults
 * and crashes hit every port call): resume, force-revoke, rollback, retry, re-enroll, restore,
 * register (new consumer, or a changed `required` / TTL / interval / principal), remove, emergency
 * (with the escalation hook), read-policy sync and `audit verify`. Attempts and successes are
 * counted per kind; "nothing to do" (no disabled entry to restore…) is not an attempt.
 */

import { verifySecretAudit } from "../../src/core/audit/trail";
import { type ConsumerRegistration, FINAL_PHASES } from "../../src/core/model";
import {
  enrollSecret,
  forceRevoke,
  registerConsumer,
  removeConsumer,
  requeueRevocation,
  rollback,
} from "../../src/core/operator/operator";
import { syncReadPolicy } from "../../src/core/read-policy/sync";
import { restoreRevocation } from "../../src/core/revocation/restore";
import { spawnInstance } from "./consumers";
import type { Executions } from "./executions";
import type { Rng } from "./rng";
import { recordForceRevoke } from "./truth";
import { type CommandKind, type ConsumerSpec, roleArn, sessionArn, type World } from "./world";

export type OperatorCommand =
  | "resume"
  | "force-revoke"
  | "rollback"
  | "retry"
  | "re-enroll"
  | "restore"
  | "register"
  | "remove"
  | "emergency"
  | "sync-policy"
  | "audit-verify";

const KIND: Record<OperatorCommand, CommandKind> = {
  resume: "resume",
  "force-revoke": "forceRevoke",
  rollback: "rollback",
  retry: "retry",
  "re-enroll": "reenroll",
  restore: "restore",
  register: "register",
  remove: "remove",
  emergency: "emergency",
  "sync-policy": "syncPolicy",
  "audit-verify": "auditVerify",
};

/** Nothing to run the command on (no disabled entry, no consumer…): not an attempt. */
class NothingToDo extends Error {}

const ACTOR = "operator:sim";

/** Commands that end by syncing the secret's read policy with the registry. */
const SYNCING: ReadonlySet<OperatorCommand> = new Set<OperatorCommand>([
  "register",
  "remove",
  "re-enroll",
  "sync-policy",
]);

/** One operator command; its refusals and failures are the operator's to read, not ours. */
export async function runOperator(
  world: World,
  execs: Executions,
  rng: Rng,
  cmd: OperatorCommand,
  secretId: string,
  /** `register` with exactly this registration (an incident's operator asks for a given change). */
  given?: Omit<ConsumerRegistration, "registeredAt">,
  /** An approved request's command: the actor naming both principals (harness/sim/approvals.ts). */
  approvedAs?: string,
): Promise<string> {
  const who = approvedAs ?? ACTOR;
  world.operatorCommands += 1;
  world.commandsInFlight += 1;
  const kind = KIND[cmd];
  const actor = `op:${cmd}`;
  const ctx = world.context(actor, { operatorLocks: new Set<string>() });
  const d = world.depsFor(ctx);
  // Deterministic per command, so a replay writes the same operator-hold owner.
  const operation = `op-${world.operatorCommands}`;
  let attempted = false;
  const attempt = () => {
    attempted = true;
    world.countCommand(kind);
  };
  try {
    const out = await run();
    // Executions count their success when BeginRotation accepts them (see Executions.start).
    if (cmd !== "resume" && cmd !== "emergency") world.countCommand(kind, true);
    return out;
  } catch (err) {
    if (err instanceof NothingToDo) return err.message;
    if (!attempted) attempt();
    if (SYNCING.has(cmd)) world.syncOwed.add(secretId);
    const e = err as Error;
    return `refused/failed: ${e.name}: ${e.message.slice(0, 240)}`;
  } finally {
    world.commandsInFlight -= 1;
    for (const marker of ctx.operatorLocks ?? []) world.operatorLocks.delete(marker);
  }

  async function run(): Promise<string> {
    switch (cmd) {
      case "resume":
        attempt();
        return `started ${execs.start(secretId, "resume", "manual", false, "resume")}`;
      case "emergency":
        attempt();
        return startEmergency(world, execs, secretId);
      case "force-revoke": {
        attempt();
        // The world notes, before the command, which key the operator breaks the glass on.
        await recordForceRevoke(world, secretId);
        const out = await forceRevoke({ secretId, actor: who, reason: "sim", operation }, d);
        return `force-revoked ${out.keyId} (${out.ledger})`;
      }
      case "rollback": {
        attempt();
        const out = await rollback({ secretId, actor: who, reason: "sim", operation }, d);
        return `rolled back to ${out.currentVersionId}`;
      }
      case "retry": {
        const open = (await world.raw.ledger.listAll()).filter(
          (e) => e.status !== "revoked" && e.secretId === secretId,
        );
        // Mostly the entries an operator is asked to retry: restored ones and those needing an operator.
        const asked = open.filter((e) => e.status === "restored" || e.needsOperator);
        const pool = asked.length > 0 && rng.chance(0.7) ? asked : open;
        if (pool.length === 0) throw new NothingToDo("nothing to requeue");
        const entry = rng.pick(pool);
        attempt();
        await requeueRevocation({ entryId: entry.entryId, actor: who }, d);
        return `requeued ${entry.entryId} (${entry.status})`;
      }
      case "restore":
        return restore();
      case "re-enroll": {
        const settings = await world.raw.store.getSettings(secretId);
        if (!settings) throw new NothingToDo("not enrolled");
        const { enrolledAt: _e, ...rest } = settings;
        // Mostly an overlap enrollment accepts; now and then one it must refuse (0 < idle).
        const floor = Math.max(rest.idleHeartbeatSeconds ?? 300, world.cacheTtlOf.get(secretId) ?? 300);
        attempt();
        await enrollSecret(
          {
            ...rest,
            deadlineSeconds: rng.pick([900, 3600, 7200]),
            minOverlapSeconds: rng.pick([0, floor, floor + 60, floor + 300]),
          },
          who,
          d,
        );
        return "re-enrolled";
      }
      case "register":
        return register();
      case "remove":
        return remove();
      case "sync-policy": {
        attempt();
        const out = await syncReadPolicy(d, secretId, who);
        return `policy ${out.changed ? "changed" : "unchanged"} (${out.readers.length} readers)`;
      }
      case "audit-verify":
        return auditVerify();
    }
  }

  /** `revocations restore` of a disabled entry: mostly within its grace, sometimes after it. */
  async function restore(): Promise<string> {
    const now = world.raw.clock.now().getTime();
    const entries = (await world.raw.ledger.listAll()).filter((e) => e.secretId === secretId);
    const disabled = entries.filter((e) => e.status === "disabled");
    const within = disabled.filter((e) => Date.parse(e.nextAttemptAt ?? "") > now);
    const late = disabled.filter((e) => !within.includes(e));
    // A re-run finishes a restore that died after writing its intent (`restoring`).
    const rerun = entries.filter((e) => e.status === "restoring");
    const pool =
      within.length > 0 && rng.chance(0.8)
        ? within
        : late.length > 0 && rng.chance(0.8)
          ? late
          : rerun.length > 0
            ? rerun
            : [...within, ...late];
    if (pool.length === 0) throw new NothingToDo("no disabled entry to restore");
    const entry = rng.pick(pool);
    attempt();
    await restoreRevocation(
      { entryId: entry.entryId, actor: who, reason: "sim: an unregistered consumer still needs it" },
      d,
    );
    const when =
      entry.status === "restoring" ? "re-run" : within.includes(entry) ? "within grace" : "after grace";
    return `restored ${entry.keyId} (${when})`;
  }

  /** A new consumer, or a re-registration changing `required`, TTL, interval or principal. */
  async function register(): Promise<string> {
    const specs = world.consumers.filter((c) => c.secretId === secretId);
    let spec: ConsumerSpec | undefined;
    let fresh = false;
    const fresher = !given && rng.chance(0.3) && specs.length < 5;
    const consumerId = fresher ? `n${world.secretIds.indexOf(secretId) + 1}${world.nextSerial()}` : undefined;
    const registration = consumerId
      ? {
          secretId,
          consumerId,
          principalArn: roleArn(consumerId),
          cacheTtlSeconds: rng.pick([30, 120, 300]),
          heartbeatIntervalSeconds: rng.pick([30, 60, 120]),
          required: rng.chance(0.7),
        }
      : undefined;
    let fleetFollows = true;
    let body = registration ?? given;
    if (given) spec = specs.find((c) => c.consumerId === given.consumerId);
    if (!body) {
      spec = rng.pick(specs);
      fresh = !spec.registered;
      const principalArn = rng.chance(0.25)
        ? roleArn(`${spec.consumerId}-v${world.nextSerial()}`)
        : spec.principalArn;
      // Half the time the fleet is redeployed with the new role; otherwise it keeps the old one.
      fleetFollows = principalArn === spec.principalArn || rng.chance(0.5);
      body = {
        secretId,
        consumerId: spec.consumerId,
        principalArn,
        cacheTtlSeconds: rng.chance(0.3) ? rng.pick([30, 120, 300, 600]) : spec.cacheTtlSeconds,
        heartbeatIntervalSeconds: rng.chance(0.3) ? rng.pick([30, 60, 120]) : spec.heartbeatIntervalSeconds,
        required: rng.chance(0.35) ? !spec.required : spec.required || (!spec.registered && rng.chance(0.7)),
      };
    }
    const racing = raceSync();
    // The world's own note of a required consumer made optional while a rotation holds the lock.
    const before = (await world.raw.consumers.listConsumers(secretId)).find(
      (c) => c.consumerId === body.consumerId,
    );
    const lock = await world.raw.store.get(secretId);
    const holder = lock && (await world.raw.store.getRotation(secretId, lock.rotationId));
    const midRotation =
      lock && holder && holder.trigger !== "operator" && !FINAL_PHASES.includes(holder.phase);
    attempt();
    try {
      await registerConsumer(body, who, d);
    } finally {
      // Judged on the raw registry: a registration that landed before a later failure counts too.
      const after = (await world.raw.consumers.listConsumers(secretId)).find(
        (c) => c.consumerId === body.consumerId,
      );
      if (midRotation && before?.required && after && !after.required)
        world.truth.weakened.set(`${secretId}\n${body.consumerId}`, lock.rotationId);
      await world.syncSpecs();
      spec ??= world.consumers.find((c) => c.secretId === secretId && c.consumerId === body.consumerId);
      if (spec?.registered && (fresh || registration)) {
        spec.forgotten = undefined;
        spawnFleetOf(world, spec, rng);
      }
      if (spec?.registered && fleetFollows) spec.callerArn = sessionArn(spec.principalArn);
      await racing;
    }
    const what = registration ? "new" : fleetFollows ? "changed" : "changed (fleet keeps its old role)";
    return `registered ${body.consumerId} ${what} required=${body.required}`;
  }

  async function remove(): Promise<string> {
    const registered = world.consumers.filter((c) => c.secretId === secretId && c.registered);
    if (registered.length === 0) throw new NothingToDo("no consumer to remove");
    const spec = rng.pick(registered);
    // A decommission that forgot a host: one instance keeps running, its heartbeats refused.
    spec.forgotten = rng.chance(0.3) ? "i1" : undefined;
    const racing = raceSync();
    attempt();
    try {
      const out = await removeConsumer(
        { secretId, consumerId: spec.consumerId, actor: who, reason: "sim: decommissioned" },
        d,
      );
      // Its instance rows (and the only path to their audit streams) are gone: verify now.
      if (rng.chance(0.5))
        world.sched.log(actor, `verify -> ${await runOperator(world, execs, rng, "audit-verify", secretId)}`);
      return `removed ${spec.consumerId} (${out.instancesRemoved} rows)`;
    } finally {
      await racing;
    }
  }

  /** Now and then a read-policy sync runs beside a registry change (a second operator, or the audit). */
  function raceSync(): Promise<void> {
    if (!rng.chance(0.5)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      world.sched.spawn(`op:sync-race-${operation}`, async () => {
        world.sched.log(
          "op:sync-race",
          `-> ${await runOperator(world, execs, rng, "sync-policy", secretId)}`,
        );
        resolve();
      });
    });
  }

  async function auditVerify(): Promise<string> {
    attempt();
    const out = await verifySecretAudit(secretId, d).catch((err: unknown) => {
      world.auditVerify.failed += 1;
      throw err;
    });
    if (out.ok) {
      world.auditVerify.ok += 1;
      return `audit verified (${out.instanceStreams} instance streams)`;
    }
    world.auditVerify.broken += 1;
    // Nothing in the simulation tampers with the trail: a break reported is a false alarm or a loss.
    world.violate({
      invariant: "I8",
      signature: "I8: audit verify reports a break with nothing tampered",
      message: `audit verify of ${secretId}: secret chain ${out.secret.ok ? "ok" : JSON.stringify(out.secret.brokenAt)}, broken streams ${Object.keys(out.broken).join(", ")}`,
    });
    throw new Error("audit verify reported a break");
  }
}

/**
 * `rotate --compromised`: an execution started with `compromised`. While another rotation holds
 * the lock, BeginRotation escalates that rotation to an emergency and this execution takes it over
 * (`escalateToEmergency`), or refuses naming why (`EmergencyRefusedError`).
 */
function startEmergency(world: World, execs: Executions, secretId: string): Promise<string> {
  return (async () => {
    const held = await world.raw.store.get(secretId);
    const holder = held && (await world.raw.store.getRotation(secretId, held.rotationId));
    const escalating = held && (!holder || !FINAL_PHASES.includes(holder.phase));
    const name = execs.start(secretId, "rotate", "manual", true, "emergency");
    return `${escalating ? `escalation of ${held.rotationId}` : "emergency"}: started ${name}`;
  })();
}

/** Spawns 1–2 instances of a consumer registered (or registered again) by an operator command. */
function spawnFleetOf(world: World, spec: ConsumerSpec, rng: Rng): void {
  const count = rng.range(1, 2);
  spec.instances = Math.max(spec.instances, count);
  for (let i = 0; i < count; i++) {
    const id = `n${world.nextSerial()}`;
    spawnInstance(world, spec, id, rng.fork(id), () => world.instanceStopped(spec, id));
  }
}
