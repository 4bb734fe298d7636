/**
 * The other actors: rotation starts (scheduled and manual), operator commands at random moments,
 * the sweeper, and clock jumps that expire leases. Everything they do goes through the same
 * scheduled, fault-injecting ports as the workflow.
 */
import { enrollSecret, forceRevoke, requeueRevocation, rollback } from "../core/use-cases/operator";
import { type Executions, invokeWithCrashes, type Steps } from "./executions";
import type { Rng } from "./rng";
import { recordForceRevoke } from "./truth";
import type { World } from "./world";

export type OperatorCommand = "resume" | "force-revoke" | "rollback" | "retry" | "re-enroll";

/** One operator command (the CLI's use-case call); failures are the operator's to read, not ours. */
export async function runOperator(
  world: World,
  execs: Executions,
  rng: Rng,
  cmd: OperatorCommand,
  secretId: string,
): Promise<string> {
  world.operatorCommands += 1;
  const actor = `op:${cmd}`;
  const d = world.depsFor(world.context(actor));
  // Deterministic per command, so a replay writes the same operator-hold owner.
  const operation = `op-${world.operatorCommands}`;
  try {
    switch (cmd) {
      case "resume":
        return `started ${execs.start(secretId, "resume", "manual")}`;
      case "force-revoke": {
        await recordForceRevoke(world, secretId);
        const out = await forceRevoke({ secretId, actor: "operator:sim", reason: "sim", operation }, d);
        return `force-revoked ${out.keyId} (${out.ledger})`;
      }
      case "rollback": {
        const out = await rollback({ secretId, actor: "operator:sim", reason: "sim", operation }, d);
        return `rolled back to ${out.currentVersionId}`;
      }
      case "retry": {
        const open = (await world.raw.ledger.listAll()).filter(
          (e) => e.status !== "revoked" && e.secretId === secretId,
        );
        const entry = open.length > 0 ? rng.pick(open) : undefined;
        if (!entry) return "nothing to requeue";
        await requeueRevocation({ entryId: entry.entryId, actor: "operator:sim" }, d);
        return `requeued ${entry.entryId}`;
      }
      case "re-enroll": {
        const settings = await world.raw.store.getSettings(secretId);
        if (!settings) return "not enrolled";
        const { enrolledAt: _e, ...rest } = settings;
        // Mostly an overlap enrollment accepts; now and then one it must refuse (0 < idle).
        const floor = Math.max(rest.idleHeartbeatSeconds ?? 300, world.cacheTtlOf.get(secretId) ?? 300);
        await enrollSecret(
          {
            ...rest,
            deadlineSeconds: rng.pick([900, 3600, 7200]),
            minOverlapSeconds: rng.pick([0, floor, floor + 60, floor + 300]),
          },
          "operator:sim",
          d,
        );
        return "re-enrolled";
      }
    }
  } catch (err) {
    const e = err as Error;
    return `refused/failed: ${e.name}`;
  }
}

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
      const compromised = trigger === "manual" && rng.chance(0.15);
      const name = execs.start(secretId, "rotate", trigger, compromised);
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
      });
      const secretId = rng.pick(world.secretIds);
      sched.log("operator", `${cmd} ${secretId}`);
      const outcome = await runOperator(world, execs, rng, cmd, secretId);
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
  spawnSweeper(world, steps, rng, calm);
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

function spawnSweeper(world: World, steps: Steps, rng: Rng, calm: () => boolean): void {
  world.sched.spawn("sweeper", async () => {
    while (!calm()) {
      await world.sched.sleep("sweeper", rng.range(60, 600), "until next sweep");
      await sweepOnce(world, steps);
    }
  });
}
