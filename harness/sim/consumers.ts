/**
 * Consumer instances: fetch AWSCURRENT, fingerprint it with the project's helper, heartbeat through
 * the real use case, refresh when told `stale` (at once, or late for "lazy" instances), come back
 * when the server says (`nextHeartbeatSeconds`), make requests with the key they hold while their
 * last `current` is within the server's promise, pause, stop and restart — all at seeded moments.
 */

import { heartbeat } from "../../src/core/consumers/heartbeat";
import { fingerprint } from "../../src/core/fingerprint";
import type { UsageHour } from "../../src/core/misuse/usage";
import { STAGE } from "../../src/core/model";
import { checkRequestTruth } from "./oracles/liveness";
import type { Rng } from "./rng";
import { rawGraceSeconds } from "./truth";
import type { ConsumerSpec, World } from "./world";

interface Held {
  keyId: string;
  fp: string;
  /** The value's secret, to sign requests with (never logged). */
  secret: string;
}

/** What an instance holds, from the value it fetched. */
function heldOf(value: string): Held {
  const parsed = JSON.parse(value) as { keyId?: string; secret?: string };
  return { keyId: String(parsed.keyId), fp: fingerprint(value), secret: String(parsed.secret) };
}

export function spawnInstance(
  world: World,
  spec: ConsumerSpec,
  instanceId: string,
  rng: Rng,
  isStopped: () => boolean,
  opts: {
    staleStart?: boolean;
    /**
     * A consumer that cannot reload (the brief's "engine cannot reload"): while this says true it
     * ignores `stale`, keeps its key and keeps heartbeating it within its grace — live and lagging.
     */
    stuck?: () => boolean;
  } = {},
): void {
  const actor = `inst:${spec.consumerId}/${instanceId}`;
  // Prompt instances are the ones I6 speaks for; lazy ones delay their refresh on purpose.
  const prompt = rng.chance(0.75);
  const account = world.accountOf.get(spec.secretId) ?? "?";
  // The world's own record of this instance (what it holds, what it sent, what it was told).
  const truth = world.truth.instance({
    actor,
    secretId: spec.secretId,
    consumerId: spec.consumerId,
    instanceId,
  });
  world.sched.spawn(actor, async () => {
    let held: Held | undefined;
    /** Until when the last `current` holds: sent-at + next + grace, within the server's liveness. */
    let confirmedUntil = Number.NEGATIVE_INFINITY;
    /** What the server said last: when to come back. */
    let next = spec.heartbeatIntervalSeconds;
    let sentAt = 0;
    /** Usage counted and not yet acknowledged, per (hour, fingerprint), as the SDK keeps it. */
    const pending = new Map<string, UsageHour>();
    const fetch = async (): Promise<void> => {
      const d = world.depsFor(world.context(actor));
      try {
        const { value } = await d.secrets.getValue(spec.secretId, { stage: STAGE.current });
        held = heldOf(value);
        truth.held = held.keyId;
      } catch {
        // Secrets Manager hiccup: keep what we hold and try again at the next beat.
      }
    };
    const beat = async (): Promise<"current" | "stale" | "unknown" | "failed"> => {
      if (!held) return "failed";
      const d = world.depsFor(world.context(actor));
      // Measured from before the call: the server's `now` (and so its expectedBy) is no earlier.
      sentAt = world.raw.clock.now().getTime();
      const sent = world.truth.sent(truth, held.keyId, sentAt);
      // The oldest four hours ride on this heartbeat; they are dropped only once it is answered.
      const carried = [...pending.entries()].sort(([, a], [, b]) => a.hour - b.hour).slice(0, 4);
      try {
        const out = await heartbeat(
          {
            callerArn: spec.callerArn,
            secretId: spec.secretId,
            fingerprint: held.fp,
            instanceId,
            ...(carried.length ? { usage: carried.map(([, h]) => h) } : {}),
          },
          d,
        );
        for (const [k] of carried) pending.delete(k);
        next = out.nextHeartbeatSeconds;
        world.truth.answered(sent, out.status, next);
        if (out.status === "current") {
          const grace = rawGraceSeconds(await world.raw.store.getSettings(spec.secretId));
          confirmedUntil = sentAt + (next + grace) * 1000;
        }
        return out.status;
      } catch {
        // A failed heartbeat: try again after the interval last heard (the SDK backs off alike).
        sent.failed = true;
        return "failed";
      }
    };
    if (opts.staleStart) {
      // Restored from a stale cache or image: starts on the previous key until told `stale`.
      const d = world.depsFor(world.context(actor));
      try {
        const { value } = await d.secrets.getValue(spec.secretId, { stage: STAGE.previous });
        held = heldOf(value);
        truth.held = held.keyId;
        world.sched.log(actor, `starts on a stale key ${held.keyId}`);
      } catch {
        await fetch();
      }
    } else await fetch();
    while (!isStopped()) {
      const status = await beat();
      if ((status === "stale" || status === "unknown") && opts.stuck?.()) {
        // It cannot reload, so it keeps trading with the key it holds: the exchange sees that key in
        // use after its retirement, which the hourly misuse run must report and must not stop (I1).
        if (held) world.trade(account, held, world.raw.clock.now());
        await world.sched.sleep(actor, rng.range(1, 5), "stuck: cannot reload");
        continue;
      }
      if (status === "stale" || status === "unknown") {
        // A lazy instance gets round to refreshing late, and trades with the key it holds meanwhile:
        // the exchange sees that key in use, perhaps after its retirement (the misuse run's stop must
        // then be held by the guard while the instance is live on it — I1).
        if (!prompt && held) world.trade(account, held, world.raw.clock.now());
        if (!prompt) await world.sched.sleep(actor, rng.range(30, 600), "lazy refresh");
        await fetch();
        await world.sched.sleep(actor, 1, "refreshed");
        continue;
      }
      if (status === "failed") {
        // Retried within the grace the server allows, as the SDK backs off: a few seconds.
        if (!held) await fetch();
        await world.sched.sleep(actor, rng.range(1, 5), "retry heartbeat");
        continue;
      }
      // Requests between beats, with the key held; only while the last `current` is still fresh.
      const interval = Math.max(1, next);
      const requests = rng.range(0, 2);
      for (let i = 0; i < requests; i++) {
        await world.sched.sleep(actor, rng.range(1, Math.max(1, Math.floor(interval / 2))), "request");
        const fresh = world.raw.clock.now().getTime() <= confirmedUntil;
        if (!held || !fresh) break;
        world.sched.log(actor, `request with ${held.keyId}`);
        // The one-line hook (issue 20), and the world's own record of what the exchange saw.
        const now = world.raw.clock.now().getTime();
        const hour = Math.floor(now / 3_600_000);
        const counted = pending.get(`${hour}#${held.fp}`) ?? {
          hour,
          fingerprint: held.fp,
          requests: {},
          authFailures: {},
        };
        counted.requests.spot = (counted.requests.spot ?? 0) + 1;
        pending.set(`${hour}#${held.fp}`, counted);
        world.sawRequest(spec.secretId, account, held.keyId, now);
        // Signed with the key held: the exchange records its last use (a refusal is I6's to judge).
        world.trade(account, held, new Date(now));
        // I6 for every instance, prompt or lazy, of a consumer the raw registry says is required.
        const key = world.raw.exchange.key(account, held.keyId);
        const registration = (await world.raw.consumers.listConsumers(spec.secretId)).find(
          (c) => c.consumerId === spec.consumerId,
        );
        for (const v of checkRequestTruth(
          truth,
          key ? key.status : "removed",
          registration?.required === true,
          world.truth,
        ))
          world.violate(v);
      }
      const roll = rng.next();
      if (world.faultsOn && roll < 0.02) {
        world.sched.log(actor, "stops");
        truth.running = false;
        return;
      }
      if (world.faultsOn && roll < 0.06) {
        await world.sched.sleep(actor, rng.range(interval * 2, interval * 10), "paused");
        // Back from a pause longer than liveness: behave as a restart (fetch, heartbeat first).
        confirmedUntil = Number.NEGATIVE_INFINITY;
        await fetch();
        continue;
      }
      // Back when the server said, counted from when the heartbeat went out.
      const wait = Math.ceil((sentAt + interval * 1000 - world.raw.clock.now().getTime()) / 1000);
      await world.sched.sleep(actor, Math.max(1, wait), "next heartbeat");
    }
    truth.running = false;
  });
}

/** Keeps each consumer's instances running: restarts stopped ones now and then. */
export function spawnFleet(world: World, rng: Rng, stopped: () => boolean): void {
  let generation = 0;
  for (const spec of world.consumers) {
    for (let i = 1; i <= spec.instances; i++) {
      const id = `i${i}`;
      spawnInstance(world, spec, id, rng.fork(`${spec.consumerId}/${id}`), () => {
        return stopped() || world.instanceStopped(spec, id);
      });
    }
  }
  world.sched.spawn("fleet", async () => {
    while (!stopped()) {
      await world.sched.sleep("fleet", rng.range(300, 1800), "restart window");
      if (!world.faultsOn || stopped()) return;
      const spec = rng.pick(world.consumers);
      generation += 1;
      const id = `r${generation}`;
      // A removed consumer's hosts are not restarted (one it forgot may still run on its own).
      if (!spec.registered) continue;
      spawnInstance(world, spec, id, rng.fork(id), () => stopped() || world.instanceStopped(spec, id), {
        staleStart: rng.chance(0.5),
      });
    }
  });
}
