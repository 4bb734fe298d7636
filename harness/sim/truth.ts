/**
 * The world's own record of what happened, written by the actors as they act and never read back
 * from the product: which key each consumer instance holds, every heartbeat it sent and what the
 * server told it, which keys an operator genuinely broke the glass for, and when each key stopped
 * working on the exchange. The oracles (`oracles/*.ts`) judge the product against this record.
 *
 * Order is kept by one sequence number (`tick`), not by the virtual clock: many things happen in one
 * virtual instant, and "before the decision read" must mean before, not "in the same millisecond".
 */
import { DEFAULT_EMERGENCY_DEADLINE_SECONDS, type SecretSettings, STAGE } from "../../src/core/model";
import type { World } from "./world";

/**
 * How late past its promise an instance may be and still count as live, read raw from the enrolled
 * settings; 30 s when absent (the documented default; every simulated secret sets it).
 */
export function rawGraceSeconds(settings: Partial<SecretSettings> | undefined): number {
  return settings?.livenessGraceSeconds ?? 30;
}

export type Answer = "current" | "stale" | "unknown";

/** One heartbeat as the instance saw it. */
export interface Beat {
  /** Sequence number when it went out, and the instance's clock then (ms). */
  sentSeq: number;
  sentAt: number;
  keyId: string;
  /** Set when an answer came back (the row is written before the answer: the server holds it). */
  answeredSeq?: number;
  status?: Answer;
  /** What the server told it: come back within this many seconds. */
  next?: number;
  /** The call failed: the instance does not know whether the server recorded it. */
  failed?: boolean;
}

export interface InstanceTruth {
  actor: string;
  secretId: string;
  consumerId: string;
  instanceId: string;
  running: boolean;
  /** The key whose value the instance holds now (undefined before its first fetch succeeds). */
  held?: string;
  beats: Beat[];
}

export type BreakGlassKind = "force-revoke" | "emergency";

export interface BreakGlassRecord {
  keyId: string;
  kind: BreakGlassKind;
  /** When the operator asked (ms) and from when the glass may break (an emergency: its deadline). */
  askedAt: number;
  allowedFrom: number;
  seq: number;
}

export class Truth {
  private seq = 0;
  readonly instances = new Map<string, InstanceTruth>();
  readonly breakGlassRecords: BreakGlassRecord[] = [];
  /** enableKey effects (a restore): the gate applies to that key again from then on. */
  readonly enabled: Array<{ keyId: string; at: number; seq: number }> = [];
  /**
   * Required consumers an operator made optional while a rotation held the secret's lock (by
   * `${secretId}\n${consumerId}`, the rotation): the brief forbids it (break 7), so for I1 they stay
   * required while that rotation holds the lock — a planted bug that accepts the weakening must not
   * also switch the oracle off.
   */
  readonly weakened = new Map<string, string>();
  /** The first disable/remove effect on each key: when it stopped authenticating. */
  readonly deactivated = new Map<string, { at: number; seq: number }>();

  tick(): number {
    this.seq += 1;
    return this.seq;
  }

  instance(rec: Omit<InstanceTruth, "running" | "beats">): InstanceTruth {
    const out: InstanceTruth = { ...rec, running: true, beats: [] };
    this.instances.set(rec.actor, out);
    return out;
  }

  sent(inst: InstanceTruth, keyId: string, at: number): Beat {
    const beat: Beat = { sentSeq: this.tick(), sentAt: at, keyId };
    inst.beats.push(beat);
    return beat;
  }

  answered(beat: Beat, status: Answer, next: number): void {
    beat.answeredSeq = this.tick();
    beat.status = status;
    beat.next = next;
  }

  /**
   * An operator's break-glass of `keyId`, recorded by the world from the raw fakes at the moment the
   * command is issued (never from the product's audit trail). The drive actors call it too.
   */
  breakGlass(keyId: string, kind: BreakGlassKind, askedAt: number, allowedFrom = askedAt): void {
    this.breakGlassRecords.push({ keyId, kind, askedAt, allowedFrom, seq: this.tick() });
  }

  /**
   * May `keyId` be disabled/removed without the gate at `at`: an operator broke the glass for this
   * very key, its emergency deadline has passed, and no restore (enableKey) of it came since.
   */
  breakGlassAllows(keyId: string, at: number, seq = Number.POSITIVE_INFINITY): boolean {
    const restoredAt = Math.max(
      -1,
      ...this.enabled.filter((e) => e.keyId === keyId && e.seq < seq).map((e) => e.seq),
    );
    return this.breakGlassRecords.some(
      (b) => b.keyId === keyId && b.allowedFrom <= at && b.seq > restoredAt && b.seq < seq,
    );
  }

  effect(method: string, keyId: string, at: number): void {
    if (method === "enableKey") this.enabled.push({ keyId, at, seq: this.tick() });
    else if ((method === "disableKey" || method === "removeKey") && !this.deactivated.has(keyId))
      this.deactivated.set(keyId, { at, seq: this.tick() });
    if (method === "enableKey") this.deactivated.delete(keyId);
  }
}

/** The break-glass a force-revoke issued now is about: the stalled rotation's recorded previous key. */
export async function recordForceRevoke(world: World, secretId: string): Promise<void> {
  const lock = await world.raw.store.get(secretId);
  const rotation = lock && (await world.raw.store.getRotation(secretId, lock.rotationId));
  const keyId = rotation?.previous?.exchangeKeyId;
  const now = world.raw.clock.now().getTime();
  if (keyId) world.truth.breakGlass(keyId, "force-revoke", now);
}

/**
 * The break-glass an emergency requested now is about: the operator reports the SECRET compromised,
 * so every key of it still on the exchange at this moment (read raw: its versions' keys and the keys
 * of its open ledger entries the exchange still lists, active or disabled) was exposed. The key AWSCURRENT
 * carries may die only once the emergency's deadline has run (consumers get that long to switch;
 * the product may stop waiting a margin before it — at most 10 s, a quarter of the deadline — so
 * the key is dead by then); an older key — one consumers were already told to leave — from now.
 * A key made after the request (the emergency's own new key) is never covered: break 6.
 */
export async function recordEmergency(world: World, secretId: string): Promise<void> {
  const keyOf = (value: string): string | undefined => {
    try {
      return String((JSON.parse(value) as { keyId?: unknown }).keyId);
    } catch {
      return undefined;
    }
  };
  const versions = world.raw.secrets.versions(secretId);
  const current = versions.find((v) => v.stages.includes(STAGE.current));
  const currentKey = current && keyOf(current.value);
  const account = world.accountOf.get(secretId) ?? "";
  // Disabled keys too: one still on the exchange is the secret's, restorable, and its removal is
  // part of what the emergency may do (a key that no longer authenticates is no consumer's anyway).
  const active = new Set(world.raw.exchange.snapshot(account).keys.map((k) => k.keyId));
  const older = new Set<string>();
  for (const v of versions) {
    const k = keyOf(v.value);
    if (k && k !== currentKey && active.has(k)) older.add(k);
  }
  for (const e of await world.raw.ledger.listAll())
    if (e.secretId === secretId && e.status !== "revoked" && e.keyId !== currentKey && active.has(e.keyId))
      older.add(e.keyId);
  const settings = await world.raw.store.getSettings(secretId);
  const seconds = settings?.emergencyDeadlineSeconds ?? DEFAULT_EMERGENCY_DEADLINE_SECONDS;
  const now = world.raw.clock.now().getTime();
  if (currentKey)
    world.truth.breakGlass(currentKey, "emergency", now, now + (seconds - Math.min(10, seconds / 4)) * 1000);
  for (const k of older) world.truth.breakGlass(k, "emergency", now);
}

/** The world's record of what the persons did and were told. */
/** Manual key management (issue 17). */
export class ManualRecord {
  /** Keys a person made at the web UI: for which task, and whether it was made wrong on purpose. */
  readonly made = new Map<string, { taskId: string; wrong?: string }>();
  /** Answers keyshift accepted (provideKey resolved), per task. */
  readonly provided = new Map<string, string[]>();
  readonly outcomes: Record<string, number> = {};
  /** Per entry: when keyshift asked a person to delete it (the decision its guard read). */
  readonly asked = new Map<string, { at: number; seq: number }>();

  count(what: string): void {
    this.outcomes[what] = (this.outcomes[what] ?? 0) + 1;
  }
}
