/**
 * The hourly misuse run (issue 20) as an actor: `misuseHourly` with the production wiring's shape
 * (`functions/misuse-hourly.ts`: acks, `retiredKeys` and `stop` from the same deps), through the
 * world's faulty ports and under Lambda crashes (`invokeWithCrashes`), like the sweeper — at random
 * times during chaos, and in the calm end at each quiescence round and once the ledger has drained.
 * Around each run the world writes down what it saw (`MisuseRunRecord`): the ledger entries as stored
 * and the keys on the exchange before and after, what else changed them meanwhile, whether the run's
 * listings answered, the alerts the in-memory port recorded, and what the run returned or threw. The
 * retired-use oracle (`oracles/retired-use.ts`) judges each run from that record.
 */
import type { MisuseHourlyResult } from "../../src/core/misuse/hourly";
import { misuseHourly } from "../../src/core/misuse/hourly";
import type { Alert, LedgerEntry } from "../../src/core/model";
import type { Exchange } from "../../src/core/ports";
import { InMemoryMisuseAcks } from "../memory";
import { invokeWithCrashes } from "./executions";
import { type CallContext, isRead, type PortName, wrapPort } from "./faults";
import { checkNoFalseRetiredAlarm, checkRetiredUseRun, isRetiredStatus } from "./oracles/retired-use";
import { Rng } from "./rng";
import { SIM_MANUAL_ACCOUNT, type World } from "./world";

export interface MisuseRunRecord {
  actor: string;
  ctx: CallContext;
  startedAt: number;
  startSeq: number;
  endSeq?: number;
  /** The ledger as stored when the run began. */
  entriesAtStart: Array<
    Pick<LedgerEntry, "entryId" | "keyId" | "secretId" | "exchangeAccount" | "status" | "createdAt">
  >;
  /** Entry id → when the world saw a restored key retired anew, as the run began (`World.reRetiredAt`). */
  reRetiredAtStart: Map<string, number>;
  /** Its lower bound (`World.reRetiredAfter`): the R0 oracle excuses any use after it. */
  reRetiredAfterStart: Map<string, number>;
  /** `account#keyId` → the key's state on the exchange when the run ended. */
  keysAtEnd: Record<string, "active" | "disabled">;
  /** Entries another invocation moved out of a retired status, or whose key it removed, while the run ran. */
  unstable: Set<string>;
  /**
   * Accounts whose exchange calls (capabilities, key listing) failed in this run, seen at the port:
   * their retired keys could not be judged. A run that never asked is not excused.
   */
  unlisted: Set<string>;
  manualAccounts: Set<string>;
  /** `misuse-finding` alerts the in-memory alerts port recorded while the run ran. */
  alerts: Alert[];
  /** Another misuse run ran at the same time: the alerts cannot be told apart, nothing is owed. */
  overlapped: boolean;
  result?: MisuseHourlyResult;
  error?: string;
}

const inFlight = (world: World) => world.misuseRuns.filter((r) => r.endSeq === undefined);

/**
 * The misuse actor of the chaos phase: a run every 10–70 virtual minutes (its own stream) — and,
 * "buggified", half the times it finds a running instance holding a retired key (the world's own
 * record: an instance told stale that cannot or will not reload), a run at once: the moment the
 * stop must be held by the guard (I1), which a run on the clock alone would seldom meet.
 */
export function spawnMisuseHourly(world: World, calm: () => boolean, scan: Scan): void {
  const rng = new Rng((world.seed * 0xc2b2ae35) ^ 0x6d697375);
  const now = () => world.raw.clock.now().getTime();
  let due = now() + rng.range(600, 4200) * 1000;
  hotRuns.set(world, { rng: rng.fork("hot"), calm, scan, seen: new Set(), n: 0 });
  world.sched.spawn("misuse", async () => {
    while (!calm()) {
      await world.sched.sleep("misuse", rng.range(120, 600), "until the hourly run");
      if (calm()) return;
      const hot = await retiredKeyHeld(world);
      if (now() < due && !(hot && rng.chance(0.5))) continue;
      if (hot) world.sched.log("misuse", `a running instance holds retired ${hot}`);
      due = now() + rng.range(600, 4200) * 1000;
      await runMisuseHourly(world, "misuse", scan);
    }
  });
}

/** Per world: what an instance's heartbeat on a retired key may set off (see `noteForMisuseRuns`). */
const hotRuns = new WeakMap<
  World,
  { rng: Rng; calm: () => boolean; scan: Scan; seen: Set<string>; n: number }
>();

/**
 * An instance just reported a key whose ledger entry is retired (a restart from a stale image, a
 * lazy one told stale): half the time a misuse run starts within a minute — while the instance is
 * live on the key and, lazy, still trading with it. The world picks the moment; the code decides.
 */
async function maybeRunHot(world: World, actor: string): Promise<void> {
  const hot = hotRuns.get(world);
  const keyId = world.truth.instances.get(actor)?.held;
  if (!hot || hot.calm() || !keyId || hot.seen.has(`${actor}|${keyId}`)) return;
  const entry = (await world.raw.ledger.listAll()).find((e) => e.keyId === keyId);
  if (!entry || !isRetiredStatus(entry.status)) return;
  hot.seen.add(`${actor}|${keyId}`);
  if (!hot.rng.chance(0.5)) return;
  hot.n += 1;
  const name = `misuse:hot${hot.n}`;
  const delay = hot.rng.range(5, 60);
  world.sched.spawn(name, async () => {
    await world.sched.sleep(name, delay, `${actor} reported retired ${keyId}`);
    if (hot.calm() || inFlight(world).length > 0) return;
    await runMisuseHourly(world, name, hot.scan);
  });
}

/** A key a running instance holds (the world's record) whose ledger entry (raw) is retired. */
async function retiredKeyHeld(world: World): Promise<string | undefined> {
  const held = new Set<string>();
  for (const inst of world.truth.instances.values()) if (inst.running && inst.held) held.add(inst.held);
  if (held.size === 0) return undefined;
  return (await world.raw.ledger.listAll()).find((e) => held.has(e.keyId) && isRetiredStatus(e.status))
    ?.keyId;
}

type Scan = (where: string, text: string) => void;

/** One run of `misuseHourly`, recorded and judged (R1, R2; I1 is judged at its exchange calls). */
export async function runMisuseHourly(world: World, actor: string, scan: Scan): Promise<MisuseRunRecord> {
  const raw = world.raw;
  const ctx = world.context(actor);
  const run: MisuseRunRecord = {
    actor,
    ctx,
    startedAt: raw.clock.now().getTime(),
    startSeq: world.truth.tick(),
    entriesAtStart: (await raw.ledger.listAll()).map(
      ({ entryId, keyId, secretId, exchangeAccount, status, createdAt }) => ({
        entryId,
        keyId,
        secretId,
        exchangeAccount,
        status,
        createdAt,
      }),
    ),
    reRetiredAtStart: new Map(world.reRetiredAt),
    reRetiredAfterStart: new Map(world.reRetiredAfter),
    keysAtEnd: {},
    unstable: new Set(),
    unlisted: new Set(),
    manualAccounts: new Set([...world.accountOf.values()].filter((a) => a === SIM_MANUAL_ACCOUNT)),
    alerts: [],
    overlapped: false,
  };
  for (const other of inFlight(world)) {
    other.overlapped = true;
    run.overlapped = true;
  }
  world.misuseRuns.push(run);
  const alertsFrom = raw.alerts.sent.length;
  const acks = wrapPort("store", new InMemoryMisuseAcks(), world.env, ctx);
  try {
    run.result = (await invokeWithCrashes(world, actor, "MisuseHourly", ctx, (d) =>
      misuseHourly({
        store: d.store,
        usage: d.usage,
        acks,
        clock: d.clock,
        alerts: d.alerts,
        retiredKeys: { ledger: d.ledger, exchange: observeListings(d.exchange, run.unlisted) },
        stop: d,
      }),
    )) as MisuseHourlyResult;
    scan(`misuse run ${actor}`, JSON.stringify(run.result));
    world.sched.log(actor, `misuse hourly ${JSON.stringify(summaryOf(run.result))}`);
  } catch (err) {
    run.error = `${(err as Error).name}: ${(err as Error).message}`;
    scan(`misuse run ${actor} error`, run.error);
    world.sched.log(actor, `misuse hourly failed ${(err as Error).name}`);
  }
  run.endSeq = world.truth.tick();
  for (const account of new Set(world.accountOf.values()))
    for (const k of raw.exchange.snapshot(account).keys)
      run.keysAtEnd[`${account}#${k.keyId}`] = k.status === "active" ? "active" : "disabled";
  run.alerts = raw.alerts.sent.slice(alertsFrom).filter((a) => a.kind === "misuse-finding");
  for (const v of checkRetiredUseRun(run, world.attackerUses).violations) world.violate(v);
  for (const v of checkNoFalseRetiredAlarm(run, world.acceptedTrades)) world.violate(v);
  return run;
}

function summaryOf(r: MisuseHourlyResult) {
  return {
    findings: r.findings,
    alerts: r.alerts,
    actions: r.retiredKeyActions.map((a) => `${a.entryId}:${a.outcome}`),
    unlisted: r.keyListingFailed,
  };
}

/** The run's exchange, as the world sees it: for which accounts a capabilities or listing call failed. */
function observeListings(exchange: Exchange, unlisted: Set<string>): Exchange {
  return new Proxy(exchange, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if ((prop !== "listKeys" && prop !== "capabilities") || typeof value !== "function") return value;
      return async (account: string) => {
        try {
          return await (value as (a: string) => Promise<unknown>)(account);
        } catch (err) {
          unlisted.add(account);
          throw err;
        }
      };
    },
  });
}

/**
 * Called by the runner after every port call: a running misuse run owes nothing for an entry another
 * invocation moved out of a retired status meanwhile (a restore, a revocation), or whose key it
 * removed — what the run itself does to the entry is what R2 judges.
 */
export async function noteForMisuseRuns(
  world: World,
  port: PortName,
  method: string,
  args: unknown[],
  ctx: CallContext,
): Promise<void> {
  if (port === "consumers" && (method === "putInstance" || method === "touchInstance"))
    await maybeRunHot(world, ctx.actor);
  const runs = inFlight(world).filter((r) => r.ctx !== ctx);
  if (runs.length === 0 || isRead(method)) return;
  if (port === "ledger") {
    const first = args[0];
    const entryId = typeof first === "string" ? first : (first as { entryId?: string } | undefined)?.entryId;
    if (entryId === undefined || isRetiredStatus((await world.raw.ledger.get(entryId))?.status)) return;
    for (const run of runs) run.unstable.add(entryId);
  }
  if (port === "exchange" && method === "removeKey") {
    for (const run of runs)
      for (const e of run.entriesAtStart) if (e.keyId === args[1]) run.unstable.add(e.entryId);
  }
}
