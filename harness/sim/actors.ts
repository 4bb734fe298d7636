/**
 * The other actors: rotation starts (scheduled, manual, emergencies), operator commands at random
 * moments (every command of the CLI, see operator.ts), the incident scenario (an emergency parked,
 * rolled back and resumed), the sweeper (with restores racing it), DynamoDB TTL deleting idle
 * instance rows under `audit verify`, and clock jumps that expire leases. Everything they do goes
 * through the same scheduled, fault-injecting ports as the workflow.
 */
import { FINAL_PHASES } from "../../src/core/model";
import { GATED, requestApproval } from "./approvals";
import { type Executions, invokeWithCrashes, type Steps } from "./executions";
import { type OperatorCommand, runOperator } from "./operator";
import type { Rng } from "./rng";
import { spawnStuckIncident } from "./stuck-incident";
import { SIM_BINDING_WITH_EGRESS, SIM_BINDING_WITHOUT_EGRESS, SIM_MANUAL_ACCOUNT, type World } from "./world";

export { type OperatorCommand, runOperator } from "./operator";

export function spawnChaosActors(
  world: World,
  execs: Executions,
  steps: Steps,
  rng: Rng,
  calm: () => boolean,
): void {
  const sched = world.sched;
  sched.spawn("starter", async () => {
    let first = true;
    while (!calm()) {
      await sched.sleep("starter", first ? rng.range(10, 600) : rng.range(600, 5400), "until next rotation");
      first = false;
      if (calm()) return;
      const secretId = rng.pick(world.secretIds);
      const trigger = rng.pick(["schedule", "manual"] as const);
      // Now and then an operator suspects a compromise: an emergency rotation that breaks the gate
      // at its short deadline (audited first) — the one sanctioned exception to I1.
      if (trigger === "manual" && rng.chance(0.15)) {
        sched.log(
          "starter",
          `emergency ${secretId} -> ${await runOperator(world, execs, rng, "emergency", secretId)}`,
        );
        continue;
      }
      const name = execs.start(secretId, "rotate", trigger, false);
      sched.log("starter", `start ${name} for ${secretId}`);
    }
  });
  sched.spawn("operator", async () => {
    while (!calm()) {
      await sched.sleep("operator", rng.range(300, 5000), "until next command");
      if (calm()) return;
      const cmd = rng.weighted<OperatorCommand>({
        resume: 4,
        "force-revoke": 2,
        rollback: 3,
        retry: 2,
        "re-enroll": 1,
        restore: 3,
        register: 2,
        remove: 2,
        emergency: 1,
        "sync-policy": 1,
        "audit-verify": 1,
      });
      const secretId = rng.pick(world.secretIds);
      sched.log("operator", `${cmd} ${secretId}`);
      // The stage's default: these wait for a second principal (approvals.ts), the rest run at once.
      const outcome = GATED.has(cmd)
        ? await requestApproval(world, execs, rng, cmd, secretId)
        : await runOperator(world, execs, rng, cmd, secretId);
      sched.log("operator", `${cmd} -> ${outcome}`);
    }
  });
  sched.spawn("chaos", async () => {
    while (!calm()) {
      await sched.sleep("chaos", rng.range(1000, 6000), "until next clock jump");
      if (calm()) return;
      // Only between tasks: a Lambda cannot outlive its timeout, so a lease never expires mid-step.
      if (world.tasksInFlight > 0 || !rng.chance(0.35)) continue;
      const settings = await world.raw.store.getSettings(rng.pick(world.secretIds));
      const jump = (settings?.deadlineSeconds ?? 3600) + 3600 + rng.range(1, 600);
      world.raw.clock.advance(jump);
      sched.log("chaos", `clock jumps ${jump}s (leases expire)`);
    }
  });
  sched.spawn("outages", async () => {
    while (!calm()) {
      await sched.sleep("outages", rng.range(600, 2400), "until next outage");
      if (calm() || !rng.chance(0.5)) continue;
      // Long enough to exhaust RevokePrevious's retries: revocations go to the sweeper, which must
      // then keep obeying the gate on its own while consumers come and go.
      const minutes = rng.range(10, 40);
      world.exchangeDownUntil = world.raw.clock.now().getTime() + minutes * 60_000;
      sched.log("outages", `exchange outage for ${minutes} min`);
    }
  });
  if (world.binding === "bound" || world.binding === "lacking")
    spawnWebsite(world, rng.fork("website"), calm);
  spawnSweeper(world, execs, steps, rng, calm);
  spawnTtl(world, execs, rng.fork("ttl"), calm);
  spawnIncident(world, execs, rng.fork("incident"), calm);
  spawnStuckIncident(world, execs, rng.fork("stuck-incident"), calm);
}

/**
 * A person on the exchange's website now and then rebinds every key of the account: with
 * keyshift's egress on the binding, or without it (a firewall change nobody told keyshift about).
 * Rotations must then refuse before creating a key, or create one keyshift can verify (I10).
 */
function spawnWebsite(world: World, rng: Rng, calm: () => boolean): void {
  world.sched.spawn("website", async () => {
    while (!calm()) {
      await world.sched.sleep("website", rng.range(1500, 9000), "until someone rebinds the keys");
      if (calm()) return;
      const withEgress = rng.chance(0.6);
      const binding = withEgress ? [...SIM_BINDING_WITH_EGRESS] : [...SIM_BINDING_WITHOUT_EGRESS];
      // Not the manual account: its keys are bound as the person made them (issue 17 drives them).
      for (const account of new Set(world.accountOf.values())) {
        if (account === SIM_MANUAL_ACCOUNT) continue;
        for (const key of world.raw.exchange.snapshot(account).keys)
          world.raw.exchange.edit(account, key.keyId, { ipAllowlist: [...binding] });
      }
      world.sched.log("website", `every key rebound ${withEgress ? "with" : "WITHOUT"} keyshift's egress`);
    }
  });
}

export async function sweepOnce(world: World, steps: Steps, actor = "sweeper"): Promise<void> {
  const ctx = world.context(actor);
  try {
    const out = await invokeWithCrashes(world, actor, "RetryRevocations", ctx, (d) => steps.sweep({}, d));
    world.sched.log(actor, `swept ${JSON.stringify(out)}`);
  } catch (err) {
    world.sched.log(actor, `sweep failed ${(err as Error).name}`);
  }
}

function spawnSweeper(world: World, execs: Executions, steps: Steps, rng: Rng, calm: () => boolean): void {
  world.sched.spawn("sweeper", async () => {
    while (!calm()) {
      await world.sched.sleep("sweeper", rng.range(60, 600), "until next sweep");
      // Now and then an operator restores a disabled key while the sweeper works through its list.
      if (!calm() && rng.chance(0.25)) {
        const secretId = rng.pick(world.secretIds);
        world.sched.spawn("op:restore-race", async () => {
          world.sched.log(
            "op:restore-race",
            `-> ${await runOperator(world, execs, rng, "restore", secretId)}`,
          );
        });
      }
      await sweepOnce(world, steps);
    }
  });
}

/**
 * DynamoDB TTL: deletes instance rows whose `expectedBy` is past by the seed's (short, virtual) TTL
 * — the adapter's `expiresAt` is 7 days after the last heartbeat — and then, mostly, `audit verify`:
 * the instances' streams outlive their rows.
 */
function spawnTtl(world: World, execs: Executions, rng: Rng, calm: () => boolean): void {
  world.sched.spawn("ttl", async () => {
    while (!calm()) {
      await world.sched.sleep("ttl", rng.range(600, 3600), "until next TTL pass");
      if (calm()) return;
      const now = world.raw.clock.now().getTime();
      const secretId = rng.pick(world.secretIds);
      let expired = 0;
      for (const row of await world.raw.consumers.listInstances(secretId)) {
        const by = Date.parse(row.expectedBy ?? row.lastSeenAt);
        if (by + world.instanceTtlSeconds * 1000 >= now) continue;
        if (world.raw.consumers.expireInstance(row.secretId, row.consumerId, row.instanceId)) expired += 1;
      }
      world.instanceRowsExpired += expired;
      world.sched.log("ttl", `expired ${expired} instance row(s) of ${secretId}`);
      if (expired > 0 || rng.chance(0.3))
        world.sched.log("ttl", `verify -> ${await runOperator(world, execs, rng, "audit-verify", secretId)}`);
    }
  });
}

/**
 * The incident the issue names: an emergency rotation that is parked (a DynamoDB storm right after
 * its promotion fails its checks), rolled back, and resumed. 70 % of the seeds run it once.
 */
function spawnIncident(world: World, execs: Executions, rng: Rng, calm: () => boolean): void {
  if (!rng.chance(0.7)) return;
  const sched = world.sched;
  const actor = "incident";
  sched.spawn(actor, async () => {
    await sched.sleep(actor, rng.range(120, 2400), "until the incident");
    const secretId = rng.pick(world.secretIds);
    // A compromise reported while the secret is idle (the escalation of a waiting one is the hook's).
    for (let i = 0; i < 30 && !calm() && (await world.raw.store.get(secretId)); i++)
      await sched.sleep(actor, 120, "secret to be idle");
    if (calm()) return;
    let name: string | undefined;
    // An emergency refused or aborted before its promotion is simply run again, as an operator would.
    for (let tries = 0; tries < 3 && !name && !calm(); tries++) {
      const started = await runOperator(world, execs, rng, "emergency", secretId);
      sched.log(actor, `emergency ${secretId} -> ${started}`);
      const candidate = /started (rot-\d+)/.exec(started)?.[1];
      if (!candidate || started.startsWith("escalation")) return;
      world.incident.started += 1;
      // Wait for the promotion, then a storm long enough to exhaust CheckConsumers' retries.
      for (let i = 0; i < 60; i++) {
        await sched.sleep(actor, 2, "emergency to promote");
        const rotation = await world.raw.store.getRotation(secretId, candidate);
        if (rotation && FINAL_PHASES.includes(rotation.phase)) break;
        if (rotation?.current && rotation.previous) {
          // Long enough to exhaust CheckConsumers' retries, short enough for ParkRotation's; now and
          // then longer than both (then the lock outlives the failed execution until its lease ends).
          const seconds = rng.chance(0.1) ? rng.range(600, 900) : rng.range(40, 120);
          world.dynamoDownUntil = world.raw.clock.now().getTime() + seconds * 1000;
          sched.log(actor, `DynamoDB storm for ${seconds}s`);
          name = candidate;
          break;
        }
      }
      if (!name) await sched.sleep(actor, 60, "before trying the emergency again");
    }
    if (!name) return;
    for (let i = 0; i < 90 && !calm(); i++) {
      await sched.sleep(actor, 20, "emergency to park");
      const lock = await world.raw.store.get(secretId);
      if (!lock || lock.rotationId !== name) return;
      if (!lock.stalled) continue;
      world.incident.parked += 1;
      for (const cmd of ["rollback", "resume"] as const) {
        let outcome = "";
        for (let t = 0; t < 3; t++) {
          outcome = await runOperator(world, execs, rng, cmd, secretId);
          sched.log(actor, `${cmd} ${secretId} -> ${outcome}`);
          if (!outcome.startsWith("refused")) break;
          await sched.sleep(actor, 130, "operator hold to lapse");
        }
        if (outcome.startsWith("refused")) return;
        world.incident[cmd === "rollback" ? "rolledBack" : "resumed"] += 1;
      }
      return;
    }
  });
}
