/**
 * A labelled corpus for the misuse detector (issue 20), deterministic from a seed: weeks of hourly
 * trading traffic per secret — market hours in New York or London (with their daylight-saving
 * shifts, 2027-03-14 and 2027-03-28, and Good Friday / Easter Monday closed), or crypto around the
 * clock with a daily cycle and quieter weekends — slow growth, several consumers and hosts per
 * secret, rotations whose previous key goes quiet at the cut-over, and (with `attacks`) one
 * injected attack per secret, kinds in turn, each labelled with the finding it should raise.
 * Streams one secret at a time, so a 10,000-secret corpus never sits in memory.
 * The clean twin (`attacks: false`) is the same traffic without the attacks.
 */
import type { SecretSlice } from "../../src/core/misuse/history";
import {
  type ConsumerReport,
  type EndpointClass,
  type ExchangeActivity,
  FINDING_KINDS,
  type FindingKind,
  HOUR_MS,
  hourIso,
  type RotationEvent,
} from "../../src/core/misuse/model";
// The corpus must be the same on every machine: the exchange simulators' seeded PRNG.
import { mulberry32 } from "../local/exchange/faults";
import { type Attack, injectAttack, planAttack } from "./misuse-attacks";

export interface CorpusOptions {
  seed: number;
  secrets: number;
  weeks: number;
  attacks: boolean;
}

export interface Label {
  kind: FindingKind;
  secretId: string;
  keyId: string;
  hour: number;
}

export interface SecretCorpus {
  slice: SecretSlice;
  labels: Label[];
}

/** Monday 2027-02-22 00:00 UTC: three weeks before New York's DST shift, five before London's. */
export const CORPUS_START_MS = Date.UTC(2027, 1, 22);
const HOLIDAYS: Record<Profile, string[]> = {
  "us-equities": ["2027-03-26"],
  "eu-desk": ["2027-03-26", "2027-03-29"],
  "crypto-24x7": [],
};
type Profile = "us-equities" | "eu-desk" | "crypto-24x7";
const SESSIONS = {
  "us-equities": { zone: "America/New_York", open: 9.5 * 60, close: 16 * 60 },
  "eu-desk": { zone: "Europe/London", open: 8 * 60, close: 17 * 60 },
} as const;
const MIXES: Array<Partial<Record<EndpointClass, number>>> = [
  { spot: 0.85, account: 0.15 },
  { derivatives: 0.8, account: 0.2 },
  { spot: 0.5, margin: 0.3, account: 0.2 },
  { derivatives: 0.6, "market-data": 0.3, account: 0.1 },
];
const HOME_COUNTRIES = ["JP", "GB", "US", "SG", "IE"];

/** Everything a secret's clean traffic is drawn from. */
export interface SecretPlan {
  index: number;
  secretId: string;
  account: string;
  profile: Profile;
  peak: number;
  weeklyGrowth: number;
  mix: Array<[EndpointClass, number]>;
  consumers: Array<{ consumerId: string; share: number; hosts: string[] }>;
  country: string;
  reportsIp: boolean;
  /** Epoch hour of each cut-over; key n is used before cut-over n. */
  cutOvers: number[];
  firstHour: number;
  hours: number;
}

const localCache = new Map<string, { weekday: number; minute: number; date: string }>();
/** Local weekday (0 = Sunday), minute of day and date of a UTC hour in a zone: the DST shift lives here. */
function local(zone: string, hour: number) {
  const cacheKey = `${zone}@${hour}`;
  const cached = localCache.get(cacheKey);
  if (cached) return cached;
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    weekday: "short",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(hour * HOUR_MS));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  const weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(get("weekday"));
  const value = {
    weekday,
    minute: Number(get("hour")) * 60 + Number(get("minute")),
    date: `${get("year")}-${get("month")}-${get("day")}`,
  };
  localCache.set(cacheKey, value);
  return value;
}

/** How busy a profile is in a UTC hour, 0..1: the fraction of the hour inside the session, or a daily cycle. */
export function activity(profile: Profile, hour: number): number {
  if (profile === "crypto-24x7") {
    const utcHour = hour % 24;
    const weekday = (Math.floor(hour / 24) + 4) % 7;
    const weekend = weekday === 0 || weekday === 6 ? 0.6 : 1;
    return weekend * (0.55 + 0.45 * Math.sin(((utcHour - 8) / 24) * 2 * Math.PI));
  }
  const session = SESSIONS[profile];
  const at = local(session.zone, hour);
  if (at.weekday === 0 || at.weekday === 6 || HOLIDAYS[profile].includes(at.date)) return 0;
  const inside = Math.min(at.minute + 60, session.close) - Math.max(at.minute, session.open);
  return Math.max(0, inside) / 60;
}

export function planSecret(seed: number, index: number, weeks: number, attackKind?: FindingKind): SecretPlan {
  const r = mulberry32(seed * 1_000_003 + index);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;
  let profile = pick<Profile>(["us-equities", "eu-desk", "crypto-24x7"]);
  // An attack only some secrets can show: off-hours needs nights, IP novelty an exchange that reports IPs.
  if (attackKind === "off-hours" && profile === "crypto-24x7") profile = "us-equities";
  const reportsIp = attackKind === "new-ip" || attackKind === "new-country" || r() < 0.6;
  const mix = Object.entries(pick(MIXES)) as Array<[EndpointClass, number]>;
  const consumerCount = 1 + Math.floor(r() * 3);
  const consumers = Array.from({ length: consumerCount }, (_, c) => ({
    consumerId: `engine-${c + 1}`,
    share: 1 / consumerCount,
    hosts: Array.from({ length: 1 + Math.floor(r() * 2) }, (_, h) => `10.${index % 250}.${c}.${h + 1}`),
  }));
  const firstHour = CORPUS_START_MS / HOUR_MS;
  const hours = weeks * 168;
  const cutOvers: number[] = [];
  for (let at = firstHour + Math.floor((10 + r() * 8) * 24); at < firstHour + hours; ) {
    cutOvers.push(at);
    at += Math.floor((14 + r() * 7) * 24);
  }
  return {
    index,
    secretId: `keyshift/exchange/acct-${index % 50}/strategy-${index}`,
    account: `acct-${index % 50}`,
    profile,
    peak: Math.round(Math.exp(Math.log(50) + r() * Math.log(3000 / 50))),
    weeklyGrowth: r() * 0.04,
    mix,
    consumers,
    country: pick(HOME_COUNTRIES),
    reportsIp,
    cutOvers,
    firstHour,
    hours,
  };
}

export const keyIdOf = (plan: SecretPlan, n: number) => `k${plan.index}-${n}`;

/** The key in use at an hour: key n until cut-over n. */
export function keyAt(plan: SecretPlan, hour: number): string {
  const n = plan.cutOvers.filter((c) => c <= hour).length;
  return keyIdOf(plan, n);
}

/** The secret's clean traffic: exchange rows, the consumers' reports, and the rotations. */
export function cleanTraffic(plan: SecretPlan, seed: number): SecretSlice {
  const r = mulberry32(seed * 7_919 + plan.index);
  const exchange: ExchangeActivity[] = [];
  const consumers: ConsumerReport[] = [];
  for (let hour = plan.firstHour; hour < plan.firstHour + plan.hours; hour++) {
    const busy = activity(plan.profile, hour);
    if (busy === 0) continue;
    const growth = (1 + plan.weeklyGrowth) ** ((hour - plan.firstHour) / 168);
    const keyId = keyAt(plan, hour);
    for (const consumer of plan.consumers) {
      const ip = consumer.hosts[r() < 0.9 ? 0 : consumer.hosts.length - 1] as string;
      for (const [cls, weight] of plan.mix) {
        const noise = Math.exp((r() - 0.5) * 0.4);
        const count = Math.round(plan.peak * busy * growth * weight * consumer.share * noise);
        if (count === 0) continue;
        const base = { hour, secretId: plan.secretId, keyId, endpointClass: cls };
        consumers.push({ ...base, consumerId: consumer.consumerId, count });
        // The exchange's count differs a little: requests in flight at the hour's edge land either side.
        const skew = Math.round(count * (r() - 0.5) * 0.04);
        const where = plan.reportsIp ? { ip, country: plan.country } : {};
        exchange.push({ ...base, account: plan.account, count: Math.max(0, count + skew), ...where });
      }
    }
  }
  const rotations: RotationEvent[] = plan.cutOvers.map((at, n) => ({
    atMs: at * HOUR_MS,
    secretId: plan.secretId,
    currentKeyId: keyIdOf(plan, n + 1),
    retiredKeyIds: [keyIdOf(plan, n)],
  }));
  return { secretId: plan.secretId, exchange, consumers, rotations, scope: undefined };
}

/** The corpus, one secret at a time. */
export function* misuseCorpus(options: CorpusOptions): Generator<SecretCorpus> {
  for (let index = 0; index < options.secrets; index++) {
    const kind = options.attacks ? FINDING_KINDS[index % FINDING_KINDS.length] : undefined;
    const plan = planSecret(options.seed, index, options.weeks, kind);
    const slice = cleanTraffic(plan, options.seed);
    if (!kind) {
      yield { slice, labels: [] };
      continue;
    }
    const attack: Attack = planAttack(plan, kind, mulberry32(options.seed * 104_729 + index), slice);
    yield { slice: injectAttack(slice, attack), labels: [attack.label] };
  }
}

/** A corpus secret as the replay's JSON lines. */
export function toJsonLines(slice: SecretSlice): string[] {
  const t = (hour: number) => hourIso(hour);
  return [
    ...slice.exchange.map(({ hour, ...row }) => JSON.stringify({ t: t(hour), source: "exchange", ...row })),
    ...slice.consumers.map(({ hour, ...row }) => JSON.stringify({ t: t(hour), source: "consumer", ...row })),
    ...slice.rotations.map(({ atMs, ...row }) =>
      JSON.stringify({ t: new Date(atMs).toISOString(), source: "rotation", ...row }),
    ),
  ];
}
