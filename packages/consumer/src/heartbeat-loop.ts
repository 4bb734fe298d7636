import { HeartbeatRejectedError } from "./errors.js";
import type { HeartbeatAnswer, HeartbeatBody } from "./heartbeat-client.js";
import type { ResolvedOptions } from "./options.js";
import { backoffDelayMs, nextBeat } from "./schedule.js";
import type { HeldSecret, SecretCache } from "./secret-cache.js";
import type { ConsumerRecord } from "./status.js";
import type { UsageCounter } from "./usage.js";

/**
 * Where the heartbeat loop is. Every change goes through one of the transitions below, and in each
 * state at most one timer is armed and at most one heartbeat is in flight.
 *
 *   idle ──wake──▶ waiting ──timer / beatNow──▶ beating ──answered or failed──▶ waiting
 *   idle, waiting ──stop──▶ stopped;  beating ──stop──▶ stopping ──beat ends──▶ stopped
 *   (waiting or beating with usage counts pending: stopping ──last heartbeat with them──▶ stopped)
 */
export type LoopState =
  /** Nothing loaded yet: the loop starts with the first value held. No timer. */
  | { name: "idle" }
  /** The next heartbeat is armed for `dueAt`. */
  | { name: "waiting"; dueAt: number; timer: unknown }
  /** A heartbeat is in flight; `beatNow` joins it. */
  | { name: "beating"; beat: Promise<void> }
  /** `stop()` came during a heartbeat: it ends at its next step (each bounded), then nothing more. */
  | { name: "stopping"; beat: Promise<void> }
  /** Final: no timer, nothing in flight, nothing ever again. */
  | { name: "stopped" };

export interface HeartbeatLoopDeps {
  options: ResolvedOptions;
  cache: SecretCache;
  record: ConsumerRecord;
  /** Sends one heartbeat, bounded by `requestTimeoutMs`. */
  send: (body: HeartbeatBody) => Promise<HeartbeatAnswer>;
  /** The usage counts that ride on each heartbeat (issue 20). */
  usage: UsageCounter;
}

/** Without a `nextHeartbeatSeconds` in the answer (an older or foreign server), beat once a minute. */
const FALLBACK_INTERVAL_MS = 60_000;

/**
 * The consumer's heartbeat schedule: report the held fingerprint when the server said to come back,
 * at once when a new key is held, and read Secrets Manager when told `stale`/`unknown`. The server
 * sets the pace within [min, max]; "at once" is granted once until the server asks for a real
 * interval again, and refreshes it asks for are at most one per floor (`nextBeat`, `refreshAsked`).
 */
export class HeartbeatLoop {
  private state: LoopState = { name: "idle" };
  /** The fingerprint the server heard last. */
  private reported: string | undefined;
  private atOnceSpent = false;

  constructor(private readonly deps: HeartbeatLoopDeps) {}

  get stopped(): boolean {
    return this.state.name === "stopping" || this.state.name === "stopped";
  }

  /** A new value is held: start the loop (idle), or report it soon (waiting); a beat in flight will. */
  wake(): void {
    const { state } = this;
    if (state.name === "idle") {
      this.arm(0);
    } else if (state.name === "waiting" && !this.atOnceSpent) {
      this.atOnceSpent = true;
      this.arm(0);
    } else if (state.name === "waiting") {
      const now = this.deps.options.timers.now();
      const floorAt = now + this.deps.options.minIntervalMs;
      if (state.dueAt > floorAt) this.arm(floorAt - now);
    }
  }

  /** Heartbeat now, or join the one in flight. Never rejects. */
  beatNow(): Promise<void> {
    const { state } = this;
    if (state.name === "beating" || state.name === "stopping") return state.beat;
    if (state.name === "stopped") return Promise.resolve();
    this.clearTimer();
    const beat = Promise.resolve().then(() => this.beat());
    this.state = { name: "beating", beat };
    return beat;
  }

  /** No timer from now on; resolves once a heartbeat in flight has ended (within its bound). */
  async stop(): Promise<void> {
    const { state } = this;
    this.clearTimer();
    if (state.name === "beating" || state.name === "stopping") {
      this.state = { name: "stopping", beat: state.beat };
      await state.beat;
    }
    // The first stop only (a second one joins it): counts not yet sent would die with the process —
    // and show as activity nobody reported — so one last heartbeat carries them, bounded like any.
    if (state.name !== "stopping" && state.name !== "stopped" && state.name !== "idle") {
      const flush = this.flushUsage();
      this.state = { name: "stopping", beat: flush };
      await flush;
    }
    this.state = { name: "stopped" };
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    this.clearTimer();
    const { timers } = this.deps.options;
    const timer = timers.setTimeout(() => void this.beatNow(), delayMs);
    this.state = { name: "waiting", dueAt: timers.now() + delayMs, timer };
  }

  private clearTimer(): void {
    if (this.state.name === "waiting") this.deps.options.timers.clearTimeout(this.state.timer);
  }

  /** One heartbeat: read if due, report, act on the answer, arm the next. Never throws. */
  private async beat(): Promise<void> {
    const { cache, record, usage: counter, options: o } = this.deps;
    let delayMs: number;
    let carried = false;
    try {
      if (cache.isDue()) await cache.refresh();
      if (this.stopped) return;
      const held = cache.current() as HeldSecret;
      const usage = counter.take();
      carried = usage !== undefined;
      const answer = await this.deps.send({
        secretId: o.secretId,
        fingerprint: held.fingerprint,
        instanceId: o.instanceId,
        ...(usage ? { usage } : {}),
      });
      if (carried) counter.settle("stored");
      carried = false;
      this.reported = held.fingerprint;
      record.answered(answer, held.fingerprint);
      if (answer.refreshNow || answer.status === "stale" || answer.status === "unknown") {
        await this.refreshAsked();
      }
      delayMs = this.paceAfter(answer);
    } catch (err) {
      if (carried) this.settleFailedUsage(err);
      if (!(err instanceof Error && err.name === "SecretUnavailableError")) record.failed(err, "heartbeat");
      delayMs = backoffDelayMs(record.consecutiveErrors, { capMs: o.maxBackoffMs, random: o.random() });
    }
    this.arm(delayMs);
  }

  /** One heartbeat with the pending counts, if there are any; never throws. */
  private async flushUsage(): Promise<void> {
    const { cache, record, usage: counter, options: o } = this.deps;
    const held = cache.current();
    const usage = held && counter.take();
    if (!held || !usage) return;
    try {
      const answer = await this.deps.send({
        secretId: o.secretId,
        fingerprint: held.fingerprint,
        instanceId: o.instanceId,
        usage,
      });
      counter.settle("stored");
      record.answered(answer, held.fingerprint);
    } catch (err) {
      this.settleFailedUsage(err);
      record.failed(err, "heartbeat");
    }
  }

  /**
   * The counts go again with the next heartbeat — unless the server refused the body for them (400:
   * an older keyshift that knows no `usage`): then counting stops, so the heartbeats that prove
   * which key this process holds never fail for the sake of the counts.
   */
  private settleFailedUsage(err: unknown): void {
    const refused = err instanceof HeartbeatRejectedError && err.httpStatus === 400;
    this.deps.usage.settle(refused ? "refused" : "failed");
    if (refused) {
      const { secretId, instanceId } = this.deps.options;
      this.deps.options.logger.warn("keyshift refused the usage counts: usage reporting stops", {
        secretId,
        instanceId,
        dropped: this.deps.usage.status().dropped,
      });
    }
  }

  /**
   * The server asked for a read (`stale`, `unknown`): one, unless one started within the floor. A
   * server answering `stale` forever, or a Secrets Manager that flaps, costs one read per floor.
   */
  private async refreshAsked(): Promise<void> {
    const { cache, options: o } = this.deps;
    if (this.stopped || o.timers.now() - cache.lastReadStartedAt < o.minIntervalMs) return;
    await cache.refresh();
  }

  private paceAfter(answer: HeartbeatAnswer): number {
    const o = this.deps.options;
    const next = nextBeat(answer.nextHeartbeatSeconds, {
      atOnceSpent: this.atOnceSpent,
      // Held something newer than what the server just heard: tell it now, not one interval later.
      unreported: this.deps.cache.current()?.fingerprint !== this.reported,
      minMs: o.minIntervalMs,
      maxMs: o.maxIntervalMs,
      fallbackMs: FALLBACK_INTERVAL_MS,
      random: o.random(),
    });
    this.atOnceSpent = next.atOnceSpent;
    return next.delayMs;
  }
}
