/**
 * Activity an exchange attributes to the secret's account but to none of its keys (`ANY_KEY`,
 * Deribit's access and transaction logs): reconciled against every consumer report of the
 * secret, never a retired key's use, its own rate and off-hours series; novelty per secret.
 */
import { describe, expect, it } from "vitest";
import { ANY_KEY, type ConsumerReport, detectMisuse, HOUR_MS, type MisuseInput } from "../../src/core/misuse";
import {
  input,
  KEY,
  MONDAY,
  marketHour,
  marketHours,
  nightHour,
  row,
  SECRET,
} from "./support/misuse-traffic";

const WEEKS = 4;
const now = new Date((MONDAY + WEEKS * 168) * HOUR_MS);
const findings = (i: MisuseInput) => detectMisuse(i, { now }).findings;

/** The market-hours secret as Deribit reports it: the same traffic, no key named. */
function perAccount(weeks: number) {
  const traffic = marketHours(weeks);
  return { ...traffic, exchange: traffic.exchange.map((r) => ({ ...r, keyId: ANY_KEY })) };
}

const report = (hour: number, keyId: string, count: number, consumerId = "engine"): ConsumerReport => ({
  hour,
  secretId: SECRET,
  keyId,
  consumerId,
  endpointClass: "spot",
  count,
});

describe("ANY_KEY rows (the exchange names the account, not the key)", () => {
  it("the clean twin: four weeks of per-account traffic, fully reported per key, raise nothing", () => {
    expect(findings(input(perAccount(WEEKS)))).toEqual([]);
  });

  describe("reconciliation against the sum of all the secret's consumer reports", () => {
    const at = marketHour(3);
    // During a rotation's overlap one consumer is on the previous key and one on the current:
    // the exchange's 100 + 60 requests are the secret's, whichever key made them.
    const overlap = () => {
      const traffic = perAccount(WEEKS);
      return {
        exchange: [
          ...traffic.exchange.filter((r) => r.hour !== at),
          row(at, "spot", 160, { keyId: ANY_KEY }),
        ],
        consumers: [
          ...traffic.consumers.filter((r) => r.hour !== at),
          report(at, KEY, 100),
          report(at, "k-previous", 60, "gateway"),
        ],
      };
    };

    it("reports spread over two keys account for the hour: silent (one key's 100 alone would not)", () => {
      expect(findings(input(overlap()))).toEqual([]);
    });

    it("beyond the sum and the tolerance: unaccounted-activity on key *, with the sum as the consumers' count", () => {
      const attacked = input(overlap(), { exchange: [row(at, "spot", 40, { keyId: ANY_KEY })] });
      const [f] = findings(attacked);

      expect(f).toMatchObject({ kind: "unaccounted-activity", keyId: ANY_KEY, hour: at, subject: "spot" });
      expect(f?.evidence).toEqual({ exchangeCount: 200, consumerCount: 160, excess: 40, tolerance: 21 });
    });
  });

  it("retired-key-used never fires from an ANY_KEY row, even when every key but the current is retired", () => {
    const at = marketHour(3);
    const cutOver = {
      atMs: marketHour(2) * HOUR_MS,
      secretId: SECRET,
      currentKeyId: "k-next",
      retiredKeyIds: [KEY, ANY_KEY],
    };
    const attacked = input(perAccount(WEEKS), { rotations: [cutOver] });

    expect(findings(attacked).filter((f) => f.hour >= at)).toEqual([]);
  });

  it("novelty is per secret: a new IP and a new country on an ANY_KEY row", () => {
    const at = marketHour(1);
    const attacked = input(perAccount(WEEKS), {
      exchange: [row(at, "spot", 10, { keyId: ANY_KEY, ip: "198.51.100.7", country: "KP" })],
      consumers: [report(at, KEY, 10)],
    });
    expect(findings(attacked).map((f) => [f.kind, f.keyId, f.subject])).toEqual([
      ["new-ip", ANY_KEY, "198.51.100.7"],
      ["new-country", ANY_KEY, "KP"],
    ]);
  });

  it("a withdrawal by one of the secret's keys, outside its scope: critical", () => {
    const at = marketHour(3);
    const attacked = input(perAccount(WEEKS), { exchange: [row(at, "withdrawal", 1, { keyId: ANY_KEY })] });
    expect(findings(attacked).map((f) => [f.kind, f.keyId])).toEqual([["withdrawal", ANY_KEY]]);
  });

  describe("rate and off-hours: ANY_KEY is its own series", () => {
    it("rate: a 100× burst of the per-account series", () => {
      const at = marketHour(3);
      const burst = {
        exchange: [row(at, "spot", 9_900, { keyId: ANY_KEY })],
        consumers: [report(at, KEY, 9_900)],
      };
      const [f] = findings(input(perAccount(WEEKS), burst));
      expect(f).toMatchObject({ kind: "rate", keyId: ANY_KEY, hour: at });
      expect(f?.evidence).toMatchObject({ requests: 10_000, median: 100 });
    });

    it("off-hours: the per-account series empty at night, even though a named key's series is not", () => {
      const at = nightHour(3);
      // A named key (another exchange's rows for the same secret, say) trades every night at 03:00:
      // its series must not fill the per-account one's empty slot.
      const nights = [0, 1, 2, 3].map((w) => row(nightHour(w), "spot", 5, { keyId: KEY, ip: "10.0.0.1" }));
      const nightReports = [0, 1, 2, 3].map((w) => report(nightHour(w), KEY, 5));
      const attacked = input(perAccount(WEEKS), {
        exchange: [...nights, row(at, "spot", 5, { keyId: ANY_KEY })],
        consumers: [...nightReports, report(at, KEY, 5)],
      });
      expect(findings(attacked).map((f) => [f.kind, f.keyId, f.hour])).toEqual([["off-hours", ANY_KEY, at]]);
    });

    it("and the named keys' series does not count the per-account rows", () => {
      const at = nightHour(3);
      // Per-account activity every night; a named key's first night at 03:00 is still off-hours.
      const nights = [0, 1, 2].map((w) => row(nightHour(w), "spot", 5, { keyId: ANY_KEY }));
      const nightReports = [0, 1, 2].map((w) => report(nightHour(w), KEY, 5));
      const attacked = input(perAccount(WEEKS), {
        exchange: [...nights, row(at, "spot", 5, { keyId: KEY })],
        consumers: [...nightReports, report(at, KEY, 5)],
      });
      expect(findings(attacked).map((f) => [f.kind, f.keyId, f.hour])).toEqual([["off-hours", KEY, at]]);
    });
  });
});
