/**
 * The attacks the misuse corpus injects (harness/bench/misuse-corpus.ts), one per secret, each
 * labelled with the finding it must raise. Each is the article's pattern in its plainest form:
 * a retired key still trading, activity no consumer reports, a host or a country never seen, a
 * spot key calling derivatives, a withdrawal, a runaway strategy at 100×, a 3 a.m. session.
 */
import type { SecretSlice } from "../../src/core/misuse/history";
import type {
  ConsumerReport,
  EndpointClass,
  ExchangeActivity,
  FindingKind,
} from "../../src/core/misuse/model";
import { activity, keyAt, keyIdOf, type Label, type SecretPlan } from "./misuse-corpus";

export interface Attack {
  label: Label;
  exchange: ExchangeActivity[];
  consumers: ConsumerReport[];
}

const TRADING: EndpointClass[] = ["spot", "derivatives", "margin", "market-data"];
const AWAY = ["KP", "RU", "BR", "NG", "VN"];

/** An hour from week 3 on (past the rules' learning) that `fits`, drawn until one does. */
function hourWhere(plan: SecretPlan, r: () => number, fits: (hour: number) => boolean): number {
  const from = plan.firstHour + 3 * 168;
  const span = plan.firstHour + plan.hours - from;
  for (let tries = 0; tries < 5000; tries++) {
    const hour = from + Math.floor(r() * span);
    if (fits(hour)) return hour;
  }
  throw new Error(`no hour fits an attack on ${plan.secretId}`);
}

/** Empty in the slot and its neighbours for the last four weeks, and in the hour itself. */
function night(plan: SecretPlan, hour: number): boolean {
  for (let w = 0; w <= 4; w++)
    for (let d = -1; d <= 1; d++) if (activity(plan.profile, hour - w * 168 + d) > 0) return false;
  return true;
}

export function planAttack(plan: SecretPlan, kind: FindingKind, r: () => number, slice: SecretSlice): Attack {
  const busy = (hour: number) => activity(plan.profile, hour) >= 0.9;
  let hour: number;
  let keyId: string;
  if (kind === "retired-key-used") {
    const n = Math.floor(r() * plan.cutOvers.length);
    const cut = plan.cutOvers[n] as number;
    hour = Math.min(cut + 1 + Math.floor(r() * 72), plan.firstHour + plan.hours - 1);
    keyId = keyIdOf(plan, n);
  } else {
    hour = hourWhere(plan, r, kind === "off-hours" ? (h) => night(plan, h) : busy);
    keyId = keyAt(plan, hour);
  }
  const main = plan.mix[0]?.[0] ?? "spot";
  const host = plan.consumers[0]?.hosts[0] ?? "10.0.0.1";
  const at = (cls: EndpointClass, count: number, ip = host, country = plan.country): ExchangeActivity => ({
    hour,
    account: plan.account,
    secretId: plan.secretId,
    keyId,
    endpointClass: cls,
    count,
    ...(plan.reportsIp ? { ip, country } : {}),
  });
  const reported = (cls: EndpointClass, count: number): ConsumerReport => ({
    hour,
    secretId: plan.secretId,
    keyId,
    consumerId: plan.consumers[0]?.consumerId ?? "engine-1",
    endpointClass: cls,
    count,
  });
  const label: Label = { kind, secretId: plan.secretId, keyId, hour };
  const some = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const cleanTotal = slice.exchange
    .filter((e) => e.hour === hour && e.keyId === keyId)
    .reduce((s, e) => s + e.count, 0);
  switch (kind) {
    case "retired-key-used":
      return { label, exchange: [at(main, some(20, 200))], consumers: [] };
    case "unaccounted-activity":
      return { label, exchange: [at(main, Math.max(30, Math.round(cleanTotal * 0.5)))], consumers: [] };
    case "new-ip":
      return { label, exchange: [at(main, some(10, 50), `198.51.100.${plan.index % 250}`)], consumers: [] };
    case "new-country": {
      const away = AWAY[plan.index % AWAY.length] as string;
      return {
        label,
        exchange: [at(main, some(10, 100), `203.0.113.${plan.index % 250}`, away)],
        consumers: [],
      };
    }
    case "new-endpoint-class": {
      const unused = TRADING.filter((c) => !plan.mix.some(([m]) => m === c));
      const cls = unused[plan.index % unused.length] ?? "margin";
      return { label, exchange: [at(cls, some(5, 50))], consumers: [] };
    }
    case "withdrawal":
      return { label, exchange: [at("withdrawal", some(1, 3))], consumers: [] };
    case "rate": {
      // A runaway strategy on a consumer's own host: reported, so only the rate rule can see it.
      const extra = 99 * Math.max(cleanTotal, 1);
      return { label, exchange: [at(main, extra)], consumers: [reported(main, extra)] };
    }
    case "off-hours": {
      const count = some(5, 40);
      return { label, exchange: [at(main, count)], consumers: [reported(main, count)] };
    }
  }
}

export function injectAttack(slice: SecretSlice, attack: Attack): SecretSlice {
  return {
    ...slice,
    exchange: [...slice.exchange, ...attack.exchange],
    consumers: [...slice.consumers, ...attack.consumers],
  };
}
