/**
 * The hygiene audit's `exchange-activity-partial` finding (issue 20): an account whose exchange
 * side of misuse detection reads only part of what the exchange reports (Bybit/OKX without the
 * firm's observer key: transfers, not executions) is said, with the gap and the fix — otherwise
 * nothing would tell the operator that trading on the account is invisible to the detector.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { hygieneAudit } from "../../src/core/hygiene/audit";
import { type FakeDeps, makeDeps, seedSecret } from "./fakes";

describe("hygiene audit: an account whose activity the hourly pull reads only in part", () => {
  let deps: FakeDeps;
  let asked: string[];

  beforeEach(async () => {
    deps = makeDeps();
    asked = [];
    await seedSecret(deps, { secretId: "keyshift/bybit/alpha", account: "bybit-sub-1" });
    await seedSecret(deps, { secretId: "keyshift/bybit/beta", account: "bybit-sub-2" });
  });

  const partial = async () =>
    (await hygieneAudit({}, deps)).findings.filter((f) => f.kind === "exchange-activity-partial");
  const gaps = (byAccount: Record<string, string[]>) =>
    Object.assign(deps.exchange, {
      activityGaps: async (account: string) => {
        asked.push(account);
        return byAccount[account];
      },
    });

  it("is medium on the account's secret, naming the gap and the observer-key fix", async () => {
    gaps({
      "bybit-sub-1": ['executions are not read: the admin secret has no "observer"'],
      "bybit-sub-2": [],
    });

    const found = await partial();

    expect(found.map((f) => [f.secretId, f.severity])).toEqual([["keyshift/bybit/alpha", "medium"]]);
    expect(found[0]?.message).toContain("executions are not read");
    expect(found[0]?.message).toContain("bybit-sub-1");
    expect(found[0]?.fix).toContain('"observer" in the admin secret keyshift/admin/bybit-sub-1');
    expect(asked.sort()).toEqual(["bybit-sub-1", "bybit-sub-2"]);
  });

  it("is absent where the adapter knows of no gap, or cannot say", async () => {
    expect(await partial()).toEqual([]);
    gaps({});
    expect(await partial()).toEqual([]);
  });
});
