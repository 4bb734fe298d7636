/**
 * The hygiene audit's `shared-exchange-account` finding (issue 20): two enrolled secrets on one
 * account of an exchange whose reports of use name the account, never the key (Deribit) — the
 * exchange side cannot say which secret did what; the fix is one key per sub-account.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { hygieneAudit } from "../../src/core/hygiene/audit";
import { type FakeDeps, makeDeps, seedSecret } from "./fakes";

describe("hygiene audit: secrets sharing an account whose exchange reports use per account", () => {
  let deps: FakeDeps;

  beforeEach(async () => {
    deps = makeDeps();
    await seedSecret(deps, { secretId: "keyshift/deribit/alpha", account: "deribit-shared" });
    await seedSecret(deps, { secretId: "keyshift/deribit/beta", account: "deribit-shared" });
    await seedSecret(deps, { secretId: "keyshift/deribit/solo", account: "deribit-solo" });
  });

  const shared = async () =>
    (await hygieneAudit({}, deps)).findings.filter((f) => f.kind === "shared-exchange-account");

  it("is medium on each secret of the shared account, naming the others and the one-key-per-sub-account fix", async () => {
    deps.exchange.capabilitiesValue = { ...deps.exchange.capabilitiesValue, activityAttribution: "account" };

    const found = await shared();

    expect(found.map((f) => [f.secretId, f.severity])).toEqual([
      ["keyshift/deribit/alpha", "medium"],
      ["keyshift/deribit/beta", "medium"],
    ]);
    expect(found[0]?.message).toContain("keyshift/deribit/beta");
    expect(found[0]?.fix).toContain("one key per sub-account");
  });

  it("is absent where the exchange names the key in what it reports, or reports nothing", async () => {
    deps.exchange.capabilitiesValue = { ...deps.exchange.capabilitiesValue, activityAttribution: "key" };
    expect(await shared()).toEqual([]);
    const { activityAttribution: _none, ...silent } = deps.exchange.capabilitiesValue;
    deps.exchange.capabilitiesValue = silent;
    expect(await shared()).toEqual([]);
  });
});
