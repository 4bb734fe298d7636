/**
 * Credential misuse detection (issue 20): the vocabulary. Everything here is per secret × key ×
 * UTC hour; an hour is a whole number of hours since the Unix epoch (`hourOf`), so "the same hour
 * last week" is `hour - 168` and no calendar code is needed.
 */

/** What a request did, as the exchange adapter or the consumer SDK classifies it. */
export const ENDPOINT_CLASSES = [
  "spot",
  "derivatives",
  "margin",
  "withdrawal",
  "transfer",
  "account",
  "market-data",
  "other",
] as const;
export type EndpointClass = (typeof ENDPOINT_CLASSES)[number];

/** Classes that move funds out of the account: never in a trading key's scope unless declared. */
export const FUND_MOVEMENT: readonly EndpointClass[] = ["withdrawal", "transfer"];

/**
 * The key id of activity an exchange attributes to the secret's account but to none of its keys
 * (Deribit's access and transaction logs name no key): "one of this secret's keys". Reconciled
 * against every consumer report of the secret; never a retired key's use; its own rate series.
 */
export const ANY_KEY = "*";

/** What the exchange saw a key do in one hour (one row per endpoint class, and per IP where reported). */
export interface ExchangeActivity {
  hour: number;
  account: string;
  secretId: string;
  /** The exchange key id, or `ANY_KEY` where the exchange says only which account was used. */
  keyId: string;
  endpointClass: EndpointClass;
  count: number;
  ip?: string;
  country?: string;
}

/** What one consumer says it did with a key in one hour. */
export interface ConsumerReport {
  hour: number;
  secretId: string;
  keyId: string;
  consumerId: string;
  endpointClass: EndpointClass;
  count: number;
}

/** A cut-over: from `atMs` on, `retiredKeyIds` must not be used. */
export interface RotationEvent {
  atMs: number;
  secretId: string;
  currentKeyId: string;
  retiredKeyIds: string[];
}

export interface MisuseInput {
  exchange: ExchangeActivity[];
  consumers: ConsumerReport[];
  rotations: RotationEvent[];
  /** Declared scope per secret; a secret absent here is a trading key: no withdrawal, no transfer. */
  scopes: ReadonlyMap<string, readonly EndpointClass[]>;
}

export const FINDING_KINDS = [
  "unaccounted-activity",
  "retired-key-used",
  "new-ip",
  "new-country",
  "new-endpoint-class",
  "withdrawal",
  "rate",
  "off-hours",
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];
export type Severity = "critical" | "high" | "medium";

/**
 * One finding. `evidence` holds numbers only; `subject` is the thing first seen (an IP, a country
 * code, an endpoint class), each validated to its shape at the input, so no value can ride on it.
 */
export interface Finding {
  kind: FindingKind;
  severity: Severity;
  secretId: string;
  keyId: string;
  /** Start of the UTC hour the finding is about, epoch hours. */
  hour: number;
  evidence: Record<string, number>;
  subject?: string;
  /** What an operator runs to act on it. */
  command: string;
}

/** A secret whose rate and off-hours rules have too little history to judge yet. */
export interface Learning {
  secretId: string;
  /** First hour the rules judge (epoch hours). */
  untilHour: number;
}

export interface MisuseReport {
  findings: Finding[];
  learning: Learning[];
}

export interface MisuseParams {
  /** Reconciliation: exchange count may exceed the consumers' by this many requests... */
  unaccountedAbsolute: number;
  /** ...plus this fraction of the consumers' count (clock skew at hour edges, in-flight requests). */
  unaccountedRelative: number;
  /** Novelty: first hours of a secret's history whose IPs, countries and classes are learned silently. */
  noveltyBootstrapHours: number;
  /** Rate and off-hours say "learning" until the secret has this many hours of history. */
  learningHours: number;
  /** Rate: weeks of the same hour-of-week compared against. */
  rateWeeks: number;
  /** Rate: below this count in the hour, never a finding. */
  rateMinCount: number;
  /** Rate: the count must be at least this multiple of the baseline median... */
  rateRatioFloor: number;
  /** ...and above the median by this many scaled MADs. */
  rateMadK: number;
  /** Off-hours: weeks the slot must have been empty. */
  offHoursWeeks: number;
  /** Off-hours: below this count in the hour, never a finding. */
  offHoursMinCount: number;
}

export const DEFAULT_PARAMS: MisuseParams = {
  unaccountedAbsolute: 5,
  unaccountedRelative: 0.1,
  noveltyBootstrapHours: 24,
  learningHours: 14 * 24,
  rateWeeks: 8,
  rateMinCount: 50,
  rateRatioFloor: 10,
  rateMadK: 8,
  offHoursWeeks: 4,
  offHoursMinCount: 1,
};

export const HOUR_MS = 3_600_000;
export const WEEK_HOURS = 168;

/** The epoch hour a time falls in. */
export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS);
export const hourIso = (hour: number): string => new Date(hour * HOUR_MS).toISOString();
