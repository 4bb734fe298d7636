/**
 * Cooperative, seeded scheduler. Actors are plain async functions; they only make progress when
 * granted a turn at a scheduling point (`point`) or when their virtual timer fires (`sleep`). One
 * turn runs until every actor is blocked again; `setImmediate` is used only as the barrier that
 * lets the microtask queue drain (the fakes never do I/O), never as a clock. Which ready turn goes
 * next is drawn from the seed, so Promise interleaving is a function of the seed alone.
 */
import type { FakeClock } from "../memory";
import type { Rng } from "./rng";

interface Waiter {
  seq: number;
  actor: string;
  what: string;
  wake: () => void;
}

interface Timer extends Waiter {
  at: number;
}

/** Ring buffer of the last events plus a running digest of all of them (the replay fingerprint). */
export class Trace {
  private readonly lines: string[] = [];
  private hash = 0x811c9dc5;
  count = 0;
  constructor(private readonly keep = 40) {}

  add(line: string): void {
    this.count += 1;
    for (let i = 0; i < line.length; i++)
      this.hash = Math.imul(this.hash ^ line.charCodeAt(i), 0x01000193) >>> 0;
    this.hash = Math.imul(this.hash ^ 10, 0x01000193) >>> 0;
    this.lines.push(line);
    if (this.lines.length > this.keep) this.lines.shift();
  }

  tail(): string[] {
    return [...this.lines];
  }

  digest(): string {
    return `${this.count}:${this.hash.toString(16).padStart(8, "0")}`;
  }
}

const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Scheduler {
  private ready: Waiter[] = [];
  private timers: Timer[] = [];
  private seq = 0;
  private live = 0;
  readonly failures: { actor: string; error: unknown }[] = [];

  constructor(
    private readonly rng: Rng,
    readonly clock: FakeClock,
    readonly trace: Trace,
  ) {}

  private stamp(): string {
    return `t+${((this.clock.now().getTime() - SIM_EPOCH) / 1000).toFixed(1)}s`;
  }

  log(actor: string, what: string): void {
    this.trace.add(`${this.stamp()} ${actor}: ${what}`);
  }

  /** A scheduling point: resolves when this actor is granted its next turn. */
  point(actor: string, what: string): Promise<void> {
    return new Promise((wake) => {
      this.seq += 1;
      this.ready.push({ seq: this.seq, actor, what, wake });
    });
  }

  /** Virtual sleep: the actor is parked until the clock reaches now + seconds. */
  sleep(actor: string, seconds: number, what: string): Promise<void> {
    return new Promise((wake) => {
      this.seq += 1;
      // Whole milliseconds: the clock keeps ISO precision, so a fractional due time would never come.
      const at = this.clock.now().getTime() + Math.ceil(Math.max(0, seconds) * 1000);
      this.timers.push({ seq: this.seq, actor, what, wake, at });
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    });
  }

  /**
   * A virtual sleep that `wake()` may end early (a task token answered before its state's timeout):
   * the timer is withdrawn and the actor becomes ready, like any turn. `woken` says which ended it.
   */
  sleepOrWake(actor: string, seconds: number, what: string): { done: Promise<void>; wake: () => void } {
    let timer: Timer | undefined;
    const done = new Promise<void>((wake) => {
      this.seq += 1;
      const at = this.clock.now().getTime() + Math.ceil(Math.max(0, seconds) * 1000);
      timer = { seq: this.seq, actor, what, wake, at };
      this.timers.push(timer);
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    });
    const wake = () => {
      const index = timer ? this.timers.indexOf(timer) : -1;
      if (index < 0 || !timer) return;
      this.timers.splice(index, 1);
      this.ready.push({ seq: timer.seq, actor, what: `${what} (answered)`, wake: timer.wake });
    };
    return { done, wake };
  }

  /** Starts an actor; it first runs when the scheduler grants it a turn. */
  spawn(actor: string, body: () => Promise<void>): void {
    this.live += 1;
    void this.point(actor, "start")
      .then(body)
      .catch((error: unknown) => this.failures.push({ actor, error }))
      .finally(() => {
        this.live -= 1;
      });
  }

  get liveActors(): number {
    return this.live;
  }

  get idle(): boolean {
    return this.ready.length === 0 && this.timers.length === 0;
  }

  /** Parked timers, earliest first (quiescence fast-forwards over those of instances). */
  pendingTimers(): { actor: string; what: string; at: number }[] {
    return this.timers.map(({ actor, what, at }) => ({ actor, what, at }));
  }

  /** Turns ready to be granted now. */
  get readyCount(): number {
    return this.ready.length;
  }

  /** The next timer's due time, if any (runners use it to stop before a horizon). */
  nextTimerAt(): number | undefined {
    return this.timers[0]?.at;
  }

  /**
   * One event: grant a seeded pick among the ready turns, or, when none is ready, advance the
   * virtual clock to the earliest timer and wake everything due then. False when nothing is left.
   */
  async step(): Promise<boolean> {
    if (this.ready.length === 0) {
      const first = this.timers[0];
      if (!first) return false;
      if (first.at > this.clock.now().getTime()) this.clock.set(new Date(first.at).toISOString());
      const now = this.clock.now().getTime();
      while (this.timers[0] && this.timers[0].at <= now) {
        const timer = this.timers.shift() as Timer;
        this.ready.push(timer);
      }
    }
    const index = this.rng.int(this.ready.length);
    const [turn] = this.ready.splice(index, 1);
    if (!turn) return false;
    this.log(turn.actor, turn.what);
    turn.wake();
    await drain();
    return true;
  }
}

/** The simulated world's start of time (the fakes' default clock start). */
export const SIM_EPOCH = Date.parse("2030-01-01T00:00:00.000Z");
