import {
  ANY_KEY,
  type ConsumerReport,
  type EndpointClass,
  type ExchangeActivity,
  type MisuseInput,
  type RotationEvent,
} from "./model";

/** One secret's rows: the detector's unit of work (its keys share one usage history). */
export interface SecretSlice {
  secretId: string;
  exchange: ExchangeActivity[];
  consumers: ConsumerReport[];
  rotations: RotationEvent[];
  scope: readonly EndpointClass[] | undefined;
}

/** What the exchange saw one key do in one hour, summed over its rows. */
export interface KeyHour {
  keyId: string;
  account: string;
  total: number;
  classes: Map<EndpointClass, number>;
  /** Requests per IP and per country, where the exchange reports them. */
  ips: Map<string, number>;
  countries: Map<string, number>;
}

/** A secret's rows indexed by hour. */
export interface SecretHistory {
  secretId: string;
  /** Hours with exchange-observed activity, ascending. */
  hours: number[];
  exchange: Map<number, Map<string, KeyHour>>;
  /**
   * hour → keyId → endpoint class → count the consumers reported; under `ANY_KEY`, the sum over
   * all the secret's keys (what an `ANY_KEY` row is reconciled with).
   */
  consumed: Map<number, Map<string, Map<EndpointClass, number>>>;
  /**
   * Exchange-observed requests per hour over the secret's named keys: the rate and off-hours
   * baseline. `ANY_KEY` rows are their own series (`anyKeyTotals`): an exchange that reports
   * per account counts other things (logins, fills) than one that reports per key.
   */
  totals: Map<number, number>;
  anyKeyTotals: Map<number, number>;
  firstHour: number;
  /** keyId → the rotation events naming it, in time order (retired or current again). */
  retirements: Map<string, Array<{ atMs: number; retired: boolean }>>;
  /** Whether any consumer of the secret reports usage: reconciliation needs a reporter to compare with. */
  reconciled: boolean;
  scope: readonly EndpointClass[] | undefined;
}

/** Splits the input by secret, keeping each secret's rows in input order. */
export function slicesOf(input: MisuseInput): SecretSlice[] {
  const slices = new Map<string, SecretSlice>();
  const slice = (secretId: string): SecretSlice => {
    let s = slices.get(secretId);
    if (!s) {
      s = { secretId, exchange: [], consumers: [], rotations: [], scope: input.scopes.get(secretId) };
      slices.set(secretId, s);
    }
    return s;
  };
  for (const row of input.exchange) slice(row.secretId).exchange.push(row);
  for (const row of input.consumers) slice(row.secretId).consumers.push(row);
  for (const row of input.rotations) slice(row.secretId).rotations.push(row);
  return [...slices.values()];
}

export function historyOf(slice: SecretSlice): SecretHistory {
  const exchange = new Map<number, Map<string, KeyHour>>();
  const totals = new Map<number, number>();
  const anyKeyTotals = new Map<number, number>();
  let firstHour = Number.POSITIVE_INFINITY;
  for (const row of slice.exchange) {
    const keys = entry(exchange, row.hour, () => new Map<string, KeyHour>());
    let kh = keys.get(row.keyId);
    if (!kh) {
      kh = {
        keyId: row.keyId,
        account: row.account,
        total: 0,
        classes: new Map(),
        ips: new Map(),
        countries: new Map(),
      };
      keys.set(row.keyId, kh);
    }
    kh.total += row.count;
    kh.classes.set(row.endpointClass, (kh.classes.get(row.endpointClass) ?? 0) + row.count);
    if (row.ip !== undefined) kh.ips.set(row.ip, (kh.ips.get(row.ip) ?? 0) + row.count);
    if (row.country !== undefined)
      kh.countries.set(row.country, (kh.countries.get(row.country) ?? 0) + row.count);
    const series = row.keyId === ANY_KEY ? anyKeyTotals : totals;
    series.set(row.hour, (series.get(row.hour) ?? 0) + row.count);
    if (row.hour < firstHour) firstHour = row.hour;
  }
  return {
    secretId: slice.secretId,
    hours: [...exchange.keys()].sort((a, b) => a - b),
    exchange,
    consumed: consumedOf(slice.consumers),
    totals,
    anyKeyTotals,
    firstHour,
    retirements: retiredOf(slice.rotations),
    reconciled: slice.consumers.length > 0,
    scope: slice.scope,
  };
}

function consumedOf(rows: ConsumerReport[]): SecretHistory["consumed"] {
  const consumed: SecretHistory["consumed"] = new Map();
  for (const row of rows) {
    const keys = entry(consumed, row.hour, () => new Map<string, Map<EndpointClass, number>>());
    const classes = entry(keys, row.keyId, () => new Map<EndpointClass, number>());
    classes.set(row.endpointClass, (classes.get(row.endpointClass) ?? 0) + row.count);
    if (row.keyId === ANY_KEY) continue;
    const all = entry(keys, ANY_KEY, () => new Map<EndpointClass, number>());
    all.set(row.endpointClass, (all.get(row.endpointClass) ?? 0) + row.count);
  }
  return consumed;
}

function retiredOf(rotations: RotationEvent[]): SecretHistory["retirements"] {
  const marks = new Map<string, Array<{ atMs: number; retired: boolean }>>();
  const mark = (keyId: string, atMs: number, retired: boolean) => {
    entry(marks, keyId, () => []).push({ atMs, retired });
  };
  for (const r of rotations) {
    mark(r.currentKeyId, r.atMs, false);
    for (const keyId of r.retiredKeyIds) if (keyId !== r.currentKeyId) mark(keyId, r.atMs, true);
  }
  for (const list of marks.values()) list.sort((a, b) => a.atMs - b.atMs);
  return marks;
}

/**
 * The cut-over that retired `keyId` if it is retired for the whole hour starting at `hourStartMs`
 * (a rollback that names it current again un-retires it). The hour holding the cut-over itself is
 * not judged: hourly counts cannot tell use before the cut-over from use after it.
 */
export function retiredSince(history: SecretHistory, keyId: string, hourStartMs: number): number | undefined {
  // "One of the secret's keys" is never a retired key: the current one is among them.
  if (keyId === ANY_KEY) return undefined;
  const list = history.retirements.get(keyId);
  if (!list) return undefined;
  let latest: { atMs: number; retired: boolean } | undefined;
  for (const m of list) if (m.atMs <= hourStartMs) latest = m;
  return latest?.retired ? latest.atMs : undefined;
}

/** The map's value at `key`, made and stored first if there is none. */
function entry<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
