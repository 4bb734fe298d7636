/**
 * The retired-use oracle (harness/sim/oracles/retired-use.ts) can fail: a world record where the
 * attacker traded with a key well after its ledger entry opened, and a misuse run that began after
 * that use and completed. Without a `retired-key-used` alert for the key the oracle names R1; with
 * the alert but the key still active and the run claiming it disabled the key, R2; with the alert
 * and the key disabled, or the run saying the guard held it, nothing.
 */
import { describe, expect, it } from "vitest";
import type { AttackerUse } from "../../harness/sim/attacker";
import type { MisuseRunRecord } from "../../harness/sim/misuse-hourly";
import { checkNoFalseRetiredAlarm, checkRetiredUseRun } from "../../harness/sim/oracles/retired-use";
import type { AcceptedTrade } from "../../harness/sim/world";

const T0 = Date.parse("2030-01-01T10:00:00.000Z");
const ENTRY = "acct-1#key-2";

function use(minutesAfterRetirement: number, seq = 5): AttackerUse {
  return {
    account: "acct-1",
    secretId: "keyshift/sim/s1",
    keyId: "key-2",
    at: T0 + minutesAfterRetirement * 60_000,
    seq,
    afterRetirement: minutesAfterRetirement > 2,
  };
}

function run(over: Partial<MisuseRunRecord> = {}): MisuseRunRecord {
  return {
    actor: "misuse",
    ctx: { actor: "misuse", calls: 0, faultsOn: true },
    startedAt: T0 + 30 * 60_000,
    startSeq: 10,
    endSeq: 20,
    entriesAtStart: [
      {
        entryId: ENTRY,
        keyId: "key-2",
        secretId: "keyshift/sim/s1",
        exchangeAccount: "acct-1",
        status: "failed",
        createdAt: new Date(T0).toISOString(),
      },
    ],
    reRetiredAtStart: new Map(),
    reRetiredAfterStart: new Map(),
    keysAtEnd: { "acct-1#key-2": "active", "acct-1#key-3": "active" },
    unstable: new Set(),
    unlisted: new Set(),
    manualAccounts: new Set(),
    alerts: [],
    overlapped: false,
    result: {
      hour: new Date(T0).toISOString(),
      findings: 0,
      acknowledged: 0,
      alerts: 0,
      accountsWithoutExchangeSide: [],
      retiredKeyActions: [],
      keyListingFailed: [],
    },
    ...over,
  };
}

const finding = {
  kind: "misuse-finding" as const,
  secretId: "keyshift/sim/s1",
  subject: "keyshift misuse: critical retired-key-used on keyshift/sim/s1 key key-2",
  details: { kind: "retired-key-used", keyId: "key-2" },
};

describe("retired-use oracle", () => {
  it("names R1 when a run after a use past retirement alerted nothing about the key", () => {
    const out = checkRetiredUseRun(run(), [use(10)]);

    expect(out.violations.map((v) => v.invariant)).toEqual(["R1"]);
    expect(out.obligations).toMatchObject([{ entryId: ENTRY, detected: false }]);
  });

  it("a key an operator restored owes from when the world saw it retired anew, not from the entry's opening", () => {
    const reRetired = run({ reRetiredAtStart: new Map([[ENTRY, T0 + 20 * 60_000]]) });
    // Used while back in service (minute 10): nothing owed; used after the re-retirement: R1.
    expect(checkRetiredUseRun(reRetired, [use(10)]).violations).toEqual([]);
    expect(checkRetiredUseRun(reRetired, [use(25)]).violations.map((v) => v.invariant)).toEqual(["R1"]);
  });

  it("owes nothing for a use within the tolerance, after the run began, or a run that threw", () => {
    expect(checkRetiredUseRun(run(), [use(1)]).violations).toEqual([]);
    expect(checkRetiredUseRun(run(), [use(10, 11)]).violations).toEqual([]);
    expect(checkRetiredUseRun(run({ error: "ThrottlingException: injected" }), [use(10)]).violations).toEqual(
      [],
    );
    expect(checkRetiredUseRun(run({ unlisted: new Set(["acct-1"]) }), [use(10)]).violations).toEqual([]);
  });

  it("names R2 when the run says it stopped the key and the exchange still lets it trade", () => {
    const result = { ...(run().result as NonNullable<MisuseRunRecord["result"]>) };
    result.retiredKeyActions = [{ findingId: "f", entryId: ENTRY, outcome: "disabled" }];
    const out = checkRetiredUseRun(run({ alerts: [finding], result }), [use(10)]);

    expect(out.violations.map((v) => v.invariant)).toEqual(["R2"]);
  });

  it("passes a reported key that is disabled, or one the guard held", () => {
    const disabled = run({ alerts: [finding], keysAtEnd: { "acct-1#key-2": "disabled" } });
    expect(checkRetiredUseRun(disabled, [use(10)]).violations).toEqual([]);
    const result = { ...(run().result as NonNullable<MisuseRunRecord["result"]>) };
    result.retiredKeyActions = [{ findingId: "f", entryId: ENTRY, outcome: "held", reason: "gate" }];
    expect(checkRetiredUseRun(run({ alerts: [finding], result }), [use(10)]).violations).toEqual([]);
  });

  describe("R0: no false alarm", () => {
    const trade = (minutesAfterOpening: number, seq = 5): AcceptedTrade => ({
      account: "acct-1",
      keyId: "key-2",
      at: T0 + minutesAfterOpening * 60_000,
      seq,
    });

    it("names R0 for an alert about a key the exchange saw no trade from after its retirement", () => {
      const alerted = run({ alerts: [finding] });
      expect(checkNoFalseRetiredAlarm(alerted, [trade(1)]).map((v) => v.invariant)).toEqual(["R0"]);
      expect(checkNoFalseRetiredAlarm(alerted, [trade(10, 25)]).map((v) => v.invariant)).toEqual(["R0"]);
      expect(checkNoFalseRetiredAlarm(alerted, [trade(10)])).toEqual([]);
    });

    it("a restored key's use while back in service excuses no alert; a use after it was retired anew does", () => {
      const restored = run({ alerts: [finding], reRetiredAfterStart: new Map([[ENTRY, T0 + 20 * 60_000]]) });
      expect(checkNoFalseRetiredAlarm(restored, [trade(10)]).map((v) => v.invariant)).toEqual(["R0"]);
      expect(checkNoFalseRetiredAlarm(restored, [trade(25)])).toEqual([]);
    });
  });
});
