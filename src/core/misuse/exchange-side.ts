/**
 * The exchange side of misuse detection (issue 20, "exchanges report what they saw"): what an
 * exchange's logs say an account did, summed per account × hour × endpoint class × IP, and how
 * those sums become the detector's rows for the one secret the account serves.
 */
import type { ExchangeActivityRow } from "../ports/exchange";
import { ANY_KEY, ENDPOINT_CLASSES, type EndpointClass, type ExchangeActivity, hourOf } from "./model";
import { IPV4, IPV6 } from "./replay-input";
import { USAGE_RETENTION_HOURS } from "./usage";

/** One stored sum: what the exchange saw the account do in one hour, in one class, from one IP. */
export interface ExchangeAggregate {
  account: string;
  hour: number;
  endpointClass: EndpointClass;
  /** The key, where the exchange names one; absent: one of the account's keys. */
  keyId?: string;
  ip?: string;
  country?: string;
  count: number;
}

/** What an exchange calls a country (a code or a name: Deribit says "Local Country"), as it may be shown. */
const COUNTRY = /^[A-Za-z][A-Za-z .,'()-]{0,63}$/;
const KEY_ID = /^[\x21-\x7e]{1,256}$/;

/** The item's TTL: the usage items' nine weeks (the rate rule's eight and the hour judged). */
export const exchangeExpiresAt = (hour: number): number => (hour + USAGE_RETENTION_HOURS) * 3600;

/**
 * Sums a pull's rows per hour × class × key × IP. A field that does not have its shape (an IP that
 * is no address, a country that is no name) is dropped, never stored or echoed; a row of an
 * unknown class or a count that is not a whole number is not counted (and counted as dropped).
 */
export function aggregateActivity(
  account: string,
  rows: readonly ExchangeActivityRow[],
): { aggregates: ExchangeAggregate[]; dropped: number } {
  const sums = new Map<string, ExchangeAggregate>();
  let dropped = 0;
  for (const row of rows) {
    if (!ENDPOINT_CLASSES.includes(row.endpointClass) || !Number.isSafeInteger(row.count) || row.count < 0) {
      dropped++;
      continue;
    }
    const ip = row.ip !== undefined && (IPV4.test(row.ip) || IPV6.test(row.ip)) ? row.ip : undefined;
    const country = row.country !== undefined && COUNTRY.test(row.country) ? row.country : undefined;
    const keyId = row.keyId !== undefined && KEY_ID.test(row.keyId) ? row.keyId : undefined;
    const hour = hourOf(row.atMs);
    const id = `${hour}#${row.endpointClass}#${keyId ?? ANY_KEY}#${ip ?? "-"}`;
    const sum = sums.get(id) ?? {
      account,
      hour,
      endpointClass: row.endpointClass,
      ...(keyId ? { keyId } : {}),
      ...(ip ? { ip } : {}),
      count: 0,
    };
    if (country) sum.country = country;
    sum.count += row.count;
    sums.set(id, sum);
  }
  return { aggregates: [...sums.values()], dropped };
}

/** The detector's rows for the one secret an account serves: a key the exchange did not name is `ANY_KEY`. */
export function activityOfSecret(
  secretId: string,
  aggregates: readonly ExchangeAggregate[],
): ExchangeActivity[] {
  return aggregates.map((a) => ({
    hour: a.hour,
    account: a.account,
    secretId,
    keyId: a.keyId ?? ANY_KEY,
    endpointClass: a.endpointClass,
    count: a.count,
    ...(a.ip ? { ip: a.ip } : {}),
    ...(a.country ? { country: a.country } : {}),
  }));
}
