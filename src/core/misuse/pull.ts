/**
 * The hourly pull of what the exchanges saw (issue 20, deliverable 2), run before the detector.
 */
import { runBounded } from "../bounded";
import { sanitizeErrorMessage } from "../errors";
import type { Clock, Exchange, ExchangeActivityRow, ExchangeActivityStore, RotationStore } from "../ports";
import { activityOfSecret, aggregateActivity } from "./exchange-side";
import type { ExchangeActivity } from "./model";

/** How long a pull holds an account between storing its sums and advancing its cursor. */
export const PULL_CLAIM_MS = 10 * 60_000;
/**
 * Accounts pulled at once: each has its own rate limits (Deribit's are per sub-account), and a
 * Deribit account takes about a second a currency (its transaction log's sustained rate).
 */
export const PULL_CONCURRENCY = 8;
/**
 * No account is started after this long: the detector runs after the pull in the same Lambda
 * (300 s), and an account left is pulled by the next run from its cursor (nothing is lost).
 */
export const PULL_BUDGET_MS = 150_000;

export interface PullDeps {
  store: Pick<RotationStore, "listSettings">;
  exchange: Pick<Exchange, "activitySince">;
  exchangeSide: ExchangeActivityStore;
  clock: Clock;
  /**
   * keyshift's own egress IPs: logins from them are keyshift's (its admin key reading the logs),
   * not a consumer's, and are not counted. Only logins: keyshift never trades or moves funds, so
   * any other row from its egress is counted like any other. Absent: nothing excluded.
   */
  egressIps?: readonly string[] | undefined;
}

export interface PullResult {
  /** Accounts pulled and stored: rows read, sums written, what the exchange log could not give. */
  pulled: Array<{
    account: string;
    rows: number;
    sums: number;
    dropped: number;
    /** keyshift's own logins (from its egress), not counted. */
    own: number;
    skipped?: string[];
  }>;
  /** Stored, but two or more enrolled secrets use the account: the exchange cannot say which did what. */
  unattributed: Array<{ account: string; secrets: string[] }>;
  /** Their exchange reports no activity to keyshift (none-stored in the report). */
  notReported: string[];
  /** Another run moved or holds the account's cursor: this run stored nothing for it. */
  busy: string[];
  /** The pull failed (the message as the adapter sanitized it); the cursor stayed where it was. */
  failed: Array<{ account: string; error: string }>;
  /** Not started within the run's time budget: the next run pulls them from their cursors. */
  left: string[];
}

/**
 * Pulls what each enrolled account's exchange saw since the account's cursor.
 *
 * Input: none (the enrolled secrets name the accounts). Output: per account, what was stored.
 * 1. Group the enrolled secrets by exchange account; each account once, in account order from the
 *    one the last run left unstarted (`getPullStart`), which is recorded again at the end.
 * 2. Read its cursor (version v) and ask the exchange for what is new since it; an exchange that
 *    reports nothing (`activitySince` absent or undefined) is left as it is.
 * 3. Claim the account at v (no other run holds it, none advanced it): otherwise store nothing —
 *    the run that moved it stored this batch.
 * 4. Leave out keyshift's own logins (from its egress IPs). Add the batch's sums per hour × class × key × IP, THEN advance the cursor at v: a run that dies
 *    between the two leaves the cursor behind and its claim lapses, so the next run pulls the batch
 *    again (counted twice, as a lost heartbeat answer is: it can hide activity, never invent it).
 * 5. An account two or more enrolled secrets use is stored and said (`unattributed`): its activity
 *    is per account and cannot be split between them (the hygiene finding `shared-exchange-account`).
 * One account's failure is recorded and the others still pulled; `PULL_CONCURRENCY` accounts at
 * once, none started after `PULL_BUDGET_MS` (the detector still needs the Lambda's time).
 */
export async function pullExchangeActivity(
  deps: PullDeps,
  opts: { budgetMs?: number; concurrency?: number } = {},
): Promise<PullResult> {
  const out: PullResult = { pulled: [], unattributed: [], notReported: [], busy: [], failed: [], left: [] };
  const started = deps.clock.now().getTime();
  const spent = () => deps.clock.now().getTime() - started >= (opts.budgetMs ?? PULL_BUDGET_MS);
  // In account order, from where the last run stopped: a fleet too big for one run is pulled
  // round-robin, each account once every ⌈accounts / accounts a run⌉ hours, none starved.
  const all = [...secretsByAccount(await deps.store.listSettings())].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const start = await deps.exchangeSide.getPullStart();
  const first = Math.max(0, start === undefined ? 0 : all.findIndex(([account]) => account >= start));
  const accounts = [...all.slice(first), ...all.slice(0, first)];
  const run = await runBounded(
    accounts,
    opts.concurrency ?? PULL_CONCURRENCY,
    async ([account, secrets]) => {
      try {
        await pullAccount(account, secrets, deps, out);
      } catch (err) {
        out.failed.push({ account, error: sanitizeErrorMessage(err) });
      }
    },
    spent,
  );
  out.left = run.left.map(([account]) => account);
  const next = out.left[0];
  if (next !== undefined) await deps.exchangeSide.setPullStart(next);
  return out;
}

async function pullAccount(
  account: string,
  secrets: string[],
  deps: PullDeps,
  out: PullResult,
): Promise<void> {
  const { cursor, version } = await deps.exchangeSide.getCursor(account);
  const page = deps.exchange.activitySince ? await deps.exchange.activitySince(account, cursor) : undefined;
  if (!page) {
    out.notReported.push(account);
    return;
  }
  const now = deps.clock.now().getTime();
  if (!(await deps.exchangeSide.claimCursor(account, version, now + PULL_CLAIM_MS, now))) {
    out.busy.push(account);
    return;
  }
  const own = new Set(deps.egressIps ?? []);
  const isOwn = (r: ExchangeActivityRow) =>
    r.endpointClass === "account" && r.ip !== undefined && own.has(r.ip);
  const counted = page.rows.filter((r) => !isOwn(r));
  const { aggregates, dropped } = aggregateActivity(account, counted);
  await deps.exchangeSide.addActivity(aggregates);
  if (!(await deps.exchangeSide.advanceCursor(account, page.cursor, version))) {
    out.busy.push(account);
    return;
  }
  out.pulled.push({
    account,
    rows: page.rows.length,
    sums: aggregates.length,
    dropped,
    own: page.rows.length - counted.length,
    ...(page.skipped ? { skipped: page.skipped } : {}),
  });
  if (secrets.length > 1) out.unattributed.push({ account, secrets });
}

export function secretsByAccount(
  settings: ReadonlyArray<{ secretId: string; exchangeAccount: string }>,
): Map<string, string[]> {
  const accounts = new Map<string, string[]>();
  for (const s of settings) {
    const list = accounts.get(s.exchangeAccount) ?? [];
    list.push(s.secretId);
    accounts.set(s.exchangeAccount, list);
  }
  return accounts;
}

/**
 * `MisuseReportDeps.exchangeActivity` over the stored sums: undefined while no pull ever stored
 * anything for the account (the report says none-stored); the sums as the one enrolled secret's
 * rows (a key the exchange did not name is `ANY_KEY`); none when two or more secrets share the
 * account (the report says unattributed).
 */
export function storedExchangeSide(exchangeSide: Pick<ExchangeActivityStore, "getCursor" | "readActivity">) {
  return async (
    account: string,
    fromHour: number,
    toHour: number,
    secretIds: readonly string[] = [],
  ): Promise<ExchangeActivity[] | undefined> => {
    if ((await exchangeSide.getCursor(account)).version === 0) return undefined;
    const [only, ...more] = secretIds;
    if (only === undefined || more.length > 0) return [];
    return activityOfSecret(only, await exchangeSide.readActivity(account, fromHour, toHour));
  };
}
