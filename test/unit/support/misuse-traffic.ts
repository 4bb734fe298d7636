import type {
  ConsumerReport,
  EndpointClass,
  ExchangeActivity,
  MisuseInput,
  RotationEvent,
} from "../../../src/core/misuse";
import { HOUR_MS } from "../../../src/core/misuse";

/** Monday 2027-03-01 00:00 UTC, as an epoch hour. */
export const MONDAY = Date.UTC(2027, 2, 1) / HOUR_MS;
export const SECRET = "keyshift/exchange/acme/strategy";
export const KEY = "k-current";

/**
 * A market-hours secret: `weeks` weeks of weekday trading 14:00–20:59 UTC, 100 spot requests an
 * hour from 10.0.0.1 (JP), every one reported by its consumer. The clean twin of every attack.
 */
export function marketHours(
  weeks: number,
  keyId = KEY,
): { exchange: ExchangeActivity[]; consumers: ConsumerReport[] } {
  const exchange: ExchangeActivity[] = [];
  const consumers: ConsumerReport[] = [];
  for (let day = 0; day < weeks * 7; day++) {
    if (day % 7 >= 5) continue;
    for (let h = 14; h <= 20; h++) {
      const hour = MONDAY + day * 24 + h;
      exchange.push(row(hour, "spot", 100, { keyId }));
      consumers.push({
        hour,
        secretId: SECRET,
        keyId,
        consumerId: "engine",
        endpointClass: "spot",
        count: 100,
      });
    }
  }
  return { exchange, consumers };
}

export function row(
  hour: number,
  endpointClass: EndpointClass,
  count: number,
  extra: Partial<ExchangeActivity> = {},
): ExchangeActivity {
  return {
    hour,
    account: "acme",
    secretId: SECRET,
    keyId: KEY,
    endpointClass,
    count,
    ip: "10.0.0.1",
    country: "JP",
    ...extra,
  };
}

export function input(
  traffic: { exchange: ExchangeActivity[]; consumers: ConsumerReport[] },
  more: { exchange?: ExchangeActivity[]; consumers?: ConsumerReport[]; rotations?: RotationEvent[] } = {},
  scopes: Array<[string, EndpointClass[]]> = [],
): MisuseInput {
  return {
    exchange: [...traffic.exchange, ...(more.exchange ?? [])],
    consumers: [...traffic.consumers, ...(more.consumers ?? [])],
    rotations: more.rotations ?? [],
    scopes: new Map(scopes),
  };
}

/** A weekday market hour of week `week` (0-based): Wednesday 16:00 UTC. */
export const marketHour = (week: number) => MONDAY + week * 168 + 2 * 24 + 16;
/** The same Wednesday at 03:00 UTC: empty in every week of `marketHours`. */
export const nightHour = (week: number) => MONDAY + week * 168 + 2 * 24 + 3;
