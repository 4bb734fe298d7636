/**
 * The misuse detector's rules (issue 20), each both ways: it fires on the attack, and stays silent
 * on the clean twin — the same traffic without it.
 */
import { describe, expect, it } from "vitest";
import { detectMisuse, HOUR_MS, type MisuseInput } from "../../src/core/misuse";
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
const kinds = (i: MisuseInput, at?: number) =>
  detectMisuse(i, { now })
    .findings.filter((f) => at === undefined || f.hour === at)
    .map((f) => f.kind);

describe("the clean twin", () => {
  it("four weeks of market-hours traffic, fully reported, raise nothing", () => {
    expect(detectMisuse(input(marketHours(WEEKS)), { now }).findings).toEqual([]);
  });
});

describe("reconciliation", () => {
  const at = marketHour(3);

  it("unaccounted-activity: exchange requests beyond the consumers' reports and the tolerance", () => {
    const attacked = input(marketHours(WEEKS), { exchange: [row(at, "spot", 40)] });
    const [f] = detectMisuse(attacked, { now }).findings;

    expect(f).toMatchObject({ kind: "unaccounted-activity", severity: "high", keyId: KEY, hour: at });
    expect(f?.evidence).toEqual({ exchangeCount: 140, consumerCount: 100, excess: 40, tolerance: 15 });
  });

  it("within the tolerance (5 + 10% of what the consumers report): silent", () => {
    expect(kinds(input(marketHours(WEEKS), { exchange: [row(at, "spot", 15)] }))).toEqual([]);
  });

  it("a secret no consumer reports for is not reconciled (the hygiene audit's finding, not a flood)", () => {
    expect(kinds(input({ exchange: marketHours(WEEKS).exchange, consumers: [] }))).toEqual([]);
  });

  const cutOver = {
    atMs: marketHour(2) * HOUR_MS,
    secretId: SECRET,
    currentKeyId: "k-next",
    retiredKeyIds: [KEY],
  };
  const afterRotation = () => {
    const before = marketHours(WEEKS);
    const keep = (r: { hour: number }) => r.hour < marketHour(2);
    const after = marketHours(WEEKS, "k-next");
    const later = (r: { hour: number }) => r.hour >= marketHour(2);
    return {
      exchange: [...before.exchange.filter(keep), ...after.exchange.filter(later)],
      consumers: [...before.consumers.filter(keep), ...after.consumers.filter(later)],
    };
  };

  it("retired-key-used: any use of the previous key after its cut-over is critical, with the revocation to run", () => {
    const attacked = input(afterRotation(), { exchange: [row(at, "spot", 3)], rotations: [cutOver] });
    const found = detectMisuse(attacked, { now }).findings;

    expect(found).toEqual([
      expect.objectContaining({
        kind: "retired-key-used",
        severity: "critical",
        keyId: KEY,
        hour: at,
        command: `keyshift revocations retry acme#${KEY}`,
      }),
    ]);
  });

  it("the rotation itself, the previous key quiet from its cut-over on: silent", () => {
    expect(kinds(input(afterRotation(), { rotations: [cutOver] }))).toEqual([]);
  });

  it("a rollback that names the key current again un-retires it", () => {
    const back = {
      ...cutOver,
      atMs: marketHour(3) * HOUR_MS - HOUR_MS,
      currentKeyId: KEY,
      retiredKeyIds: ["k-next"],
    };
    expect(kinds(input(marketHours(WEEKS), { rotations: [cutOver, back] }), at)).toEqual([]);
  });
});

describe("novelty (from day one, after a 24-hour bootstrap)", () => {
  const at = marketHour(1);
  const reported = (count: number) => ({
    hour: at,
    secretId: SECRET,
    keyId: KEY,
    consumerId: "engine",
    endpointClass: "spot" as const,
    count,
  });

  it("new-ip: a host never seen, even fully reported", () => {
    const attacked = input(marketHours(WEEKS), {
      exchange: [row(at, "spot", 10, { ip: "198.51.100.7" })],
      consumers: [reported(10)],
    });
    expect(kinds(attacked)).toEqual(["new-ip"]);
  });

  it("new-country: a country never seen", () => {
    const attacked = input(marketHours(WEEKS), {
      exchange: [row(at, "spot", 10, { country: "KP" })],
      consumers: [reported(10)],
    });
    expect(kinds(attacked)).toEqual(["new-country"]);
  });

  it("new-endpoint-class: a spot key calling derivatives", () => {
    const attacked = input(marketHours(WEEKS), { exchange: [row(at, "derivatives", 3)] });
    expect(kinds(attacked)).toEqual(["new-endpoint-class"]);
  });

  it("what the bootstrap day sees is learned, not reported", () => {
    const first = MONDAY + 20;
    const learnedEarly = input(marketHours(WEEKS), {
      exchange: [row(first, "derivatives", 0, { ip: "198.51.100.7", country: "SG" })],
    });
    expect(kinds(learnedEarly)).toEqual([]);
  });

  it("withdrawal: any, by a key whose scope has none — and not when the scope declares it", () => {
    const withdrawing = { exchange: [row(at, "withdrawal", 1)] };
    const found = detectMisuse(input(marketHours(WEEKS), withdrawing), { now }).findings;

    expect(found.map((f) => [f.kind, f.severity])).toEqual([["withdrawal", "critical"]]);
    expect(kinds(input(marketHours(WEEKS), withdrawing, [[SECRET, ["spot", "withdrawal"]]]), at)).toEqual([
      "new-endpoint-class",
    ]);
  });
});

describe("rate and off-hours (after two weeks of learning)", () => {
  it("rate: a 100× burst, reported by the consumer (a runaway strategy)", () => {
    const at = marketHour(3);
    const burst = {
      exchange: [row(at, "spot", 9_900)],
      consumers: [{ ...row(at, "spot", 9_900), consumerId: "engine" }],
    };
    const [f] = detectMisuse(input(marketHours(WEEKS), burst), { now }).findings;

    expect(f).toMatchObject({ kind: "rate", severity: "high", hour: at });
    expect(f?.evidence).toMatchObject({ requests: 10_000, median: 100, ratio: 100, weeks: 3 });
  });

  it("rate: a 5× expiry-day surge stays under the ratio floor", () => {
    const at = marketHour(3);
    const surge = {
      exchange: [row(at, "spot", 400)],
      consumers: [{ ...row(at, "spot", 400), consumerId: "engine" }],
    };
    expect(kinds(input(marketHours(WEEKS), surge))).toEqual([]);
  });

  it("off-hours: activity at 03:00 UTC on a market-hours key", () => {
    const at = nightHour(3);
    const night = {
      exchange: [row(at, "spot", 5)],
      consumers: [{ ...row(at, "spot", 5), consumerId: "engine" }],
    };
    expect(kinds(input(marketHours(WEEKS), night))).toEqual(["off-hours"]);
  });

  it("a market opening one hour earlier (a daylight-saving shift) is the same session, not off-hours", () => {
    const at = marketHour(3) - 3; // 13:00 UTC, the hour before the usual 14:00 opening
    const early = {
      exchange: [row(at, "spot", 100)],
      consumers: [{ ...row(at, "spot", 100), consumerId: "engine" }],
    };
    expect(kinds(input(marketHours(WEEKS), early))).toEqual([]);
  });

  it("before two weeks of history they say learning and find nothing", () => {
    const at = nightHour(1);
    const night = {
      exchange: [row(at, "spot", 5000)],
      consumers: [{ ...row(at, "spot", 5000), consumerId: "engine" }],
    };
    const report = detectMisuse(input(marketHours(2), night), {
      now: new Date((MONDAY + 2 * 168) * HOUR_MS),
    });

    expect(report.findings).toEqual([]);
    expect(report.learning).toEqual([{ secretId: SECRET, untilHour: MONDAY + 14 + 14 * 24 }]);
  });
});

describe("the clock", () => {
  it("judges only hours that ended before now, and reports from `from` on", () => {
    const at = marketHour(3);
    const attacked = input(marketHours(WEEKS), { exchange: [row(at, "withdrawal", 1)] });

    expect(detectMisuse(attacked, { now: new Date(at * HOUR_MS) }).findings).toEqual([]);
    expect(detectMisuse(attacked, { now: new Date((at + 1) * HOUR_MS) }).findings).toHaveLength(1);
    expect(detectMisuse(attacked, { now, from: new Date((at + 1) * HOUR_MS) }).findings).toEqual([]);
  });
});
