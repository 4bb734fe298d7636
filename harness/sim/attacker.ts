/**
 * The attacker (issue 20): in a third of the worlds (its own stream: drawing it moves no other draw)
 * someone copies the value AWSCURRENT carries at a moment the world chooses — read raw from the
 * secret store, as a stolen host or a leaked config would give it — and keeps signing trading
 * requests with each copy (`InMemoryExchange.useKey`) at random times until the exchange refuses it.
 * The key it holds becomes the previous key of the next rotation, so it is used after its retirement
 * unless keyshift stops it; in some of those worlds the exchange refuses to disable or remove a
 * stolen key for a while once keyshift first tries, so the retired key stays alive long enough.
 * Every request the exchange accepted is written to `World.attackerUses` — the world's own record,
 * which the retired-use oracle judges the hourly misuse runs by.
 */
import { ExchangeRetryableError } from "../../src/core/errors";
import { isRetiredStatus, RETIRED_USE_TOLERANCE_MS_DOCUMENTED } from "./oracles/retired-use";
import { Rng } from "./rng";
import { SIM_MANUAL_ACCOUNT, type World } from "./world";

export interface StolenKey {
  secretId: string;
  account: string;
  keyId: string;
  /** The copied value (already an I7 needle: every key's secret is, from its creation). */
  secret: string;
  stolenAt: number;
  /** How long the exchange refuses this key's disable/remove once keyshift first tries (0: never). */
  refuseMs: number;
  /** When that refusal ends (set at the first disable/remove call during chaos). */
  refuseUntil?: number;
}

export interface AttackerUse {
  account: string;
  secretId: string;
  keyId: string;
  at: number;
  /** The world's sequence number (`Truth.tick`): "before the run" means before, not the same ms. */
  seq: number;
  /** Whether, at the use, the key's ledger entry (read raw) was retired more than the tolerance ago. */
  afterRetirement: boolean;
}

/** At most this many thefts per world (a persistent intruder copies the next key too). */
const MAX_THEFTS = 3;

/** The attacker's own stream, not a fork of `world.rng` (a fork draws from its parent). */
export function attackerRng(seed: number): Rng {
  return new Rng((seed * 0x85ebca6b) ^ 0x61747461);
}

/**
 * Steals during chaos; keeps trading with what it holds through the calm end too (a stolen copy does
 * not care that the faults stopped) until every copy is refused or the seed ends.
 */
export function spawnAttacker(world: World, calm: () => boolean, stopped: () => boolean): void {
  const rng = attackerRng(world.seed);
  if (!rng.chance(1 / 3)) return;
  world.attacker = true;
  const refuses = rng.chance(0.6);
  installRefusal(world);
  const sched = world.sched;
  const held: StolenKey[] = [];
  const failures = new Map<StolenKey, number>();
  sched.spawn("attacker", async () => {
    await sched.sleep("attacker", rng.range(60, 1200), "until the theft");
    while (!stopped() && !(calm() && held.length === 0)) {
      if (!calm() && world.stolen.length < MAX_THEFTS) {
        const stolen = steal(world, rng, refuses, held.length === 0);
        if (stolen && !held.some((k) => k.keyId === stolen.keyId)) {
          held.push(stolen);
          world.stolen.push(stolen);
          sched.log("attacker", `copies ${stolen.keyId} of ${stolen.secretId}`);
        }
      }
      for (const key of [...held]) {
        if (await use(world, key)) continue;
        // Refused (revoked, disabled, or never valid): a few more tries, then the copy is dropped.
        const n = (failures.get(key) ?? 0) + 1;
        failures.set(key, n);
        if (n >= 3) held.splice(held.indexOf(key), 1);
      }
      await sched.sleep("attacker", rng.range(60, 900), "until the next trade");
    }
  });
}

/**
 * A copy of a key value read raw from the secret store (never from the code under test's answers):
 * preferably the one AWSPREVIOUS carries while the exchange still lists it active — a key about to
 * be retired, or retired and not yet gone (a config or image baked before the rotation) — else, when
 * the attacker holds nothing, the one AWSCURRENT carries (the next rotation retires it).
 */
function steal(world: World, rng: Rng, refuses: boolean, empty: boolean): StolenKey | undefined {
  const secretId = rng.pick(world.secretIds);
  const account = world.accountOf.get(secretId);
  // A manual account's keys are not listed by keyshift: no last-use time to judge (issue 17 drives them).
  if (!account || account === SIM_MANUAL_ACCOUNT) return undefined;
  const keyOf = (stage: string) => {
    const version = world.raw.secrets.versions(secretId).find((v) => v.stages.includes(stage));
    return version ? (JSON.parse(version.value) as { keyId?: string; secret?: string }) : undefined;
  };
  const active = new Set(
    world
      .accountKeys(account)
      .filter((k) => k.status === "active")
      .map((k) => k.keyId),
  );
  const previous = keyOf("AWSPREVIOUS");
  const fresh = (k: { keyId?: string } | undefined) =>
    k?.keyId !== undefined && active.has(k.keyId) && !world.stolen.some((s) => s.keyId === k.keyId);
  const chosen = fresh(previous) && rng.chance(0.5) ? previous : empty ? keyOf("AWSCURRENT") : undefined;
  if (!fresh(chosen)) return undefined;
  const { keyId, secret } = chosen ?? {};
  if (!keyId || !secret) return undefined;
  return {
    secretId,
    account,
    keyId,
    secret,
    stolenAt: world.raw.clock.now().getTime(),
    refuseMs: refuses ? rng.range(20, 120) * 60_000 : 0,
  };
}

/** One trading request signed by the copy; true when the exchange accepted it. */
async function use(world: World, key: StolenKey): Promise<boolean> {
  const now = world.raw.clock.now();
  if (!world.trade(key.account, key, now)) {
    world.sched.log("attacker", `request with ${key.keyId} refused`);
    return false;
  }
  const at = now.getTime();
  const entry = (await world.raw.ledger.listAll()).find(
    (e) => e.keyId === key.keyId && e.exchangeAccount === key.account,
  );
  const afterRetirement =
    entry !== undefined &&
    isRetiredStatus(entry.status) &&
    at - Date.parse(entry.createdAt) > RETIRED_USE_TOLERANCE_MS_DOCUMENTED;
  world.attackerUses.push({
    account: key.account,
    secretId: key.secretId,
    keyId: key.keyId,
    at,
    seq: world.truth.tick(),
    afterRetirement,
  });
  world.sched.log("attacker", `trades with ${key.keyId}${afterRetirement ? " (retired)" : ""}`);
  return true;
}

/**
 * The exchange refuses to disable or remove a stolen key (a 503, retryable) for the key's drawn
 * while (20–120 min), counted from keyshift's first try. Not a fault the calm end switches off: a
 * refusal that began lasts its while, and the quiescence sweeper outlasts it.
 */
function installRefusal(world: World): void {
  const refuse = (call: { method: string; keyId?: string }) => {
    const key = world.stolen.find((k) => k.keyId === call.keyId && k.refuseMs > 0);
    if (!key) return;
    const now = world.raw.clock.now().getTime();
    // Only a refusal that began in chaos: the calm end starts none.
    if (key.refuseUntil === undefined && !world.faultsOn) return;
    key.refuseUntil ??= now + key.refuseMs;
    if (now >= key.refuseUntil) return;
    world.faults["refuse-revocation"] = (world.faults["refuse-revocation"] ?? 0) + 1;
    world.sched.log("attacker", `exchange refuses ${call.method} of ${key.keyId}`);
    throw new ExchangeRetryableError(`exchange ${call.method}: HTTP 503 (refused)`, 503);
  };
  world.raw.exchange.before.disableKey = refuse;
  world.raw.exchange.before.removeKey = refuse;
}
