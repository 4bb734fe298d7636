/**
 * The hourly misuse run (issue 20): the hour that just ended, judged by the same report as the
 * CLI; each open finding alerted (most severe first, bounded, the rest summarized); acknowledged
 * findings not alerted; alerts carry ids, kinds and numbers, never a key value.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { InMemoryMisuseAcks, InMemoryUsageStore } from "../../harness/memory";
import { MAX_FINDING_ALERTS, misuseHourly } from "../../src/core/misuse/hourly";
import { type ExchangeActivity, hourOf } from "../../src/core/misuse/model";
import { acknowledgeFinding } from "../../src/core/misuse/report";
import { addConsumer, type FakeDeps, makeDeps, type SeededSecret, seedSecret } from "./fakes";
import { rotateToPromoted } from "./support/flow";

describe("misuse hourly", () => {
  let deps: FakeDeps & {
    usage: InMemoryUsageStore;
    acks: InMemoryMisuseAcks;
    exchangeActivity: () => Promise<ExchangeActivity[] | undefined>;
  };
  let seeded: SeededSecret;
  let rows: ExchangeActivity[] | undefined;
  let h: number;

  beforeEach(async () => {
    rows = undefined;
    deps = {
      ...makeDeps({ start: "2030-03-01T00:00:00.000Z" }),
      usage: new InMemoryUsageStore(),
      acks: new InMemoryMisuseAcks(),
      exchangeActivity: async () => rows,
    };
    seeded = await seedSecret(deps);
    await addConsumer(deps, seeded.secretId, "engine");
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    deps.clock.advance(2 * 86_400 + 1800);
    h = hourOf(deps.clock.now().getTime());
  });

  const seen = (
    hour: number,
    keyId: string,
    count: number,
    endpointClass: ExchangeActivity["endpointClass"] = "spot",
  ) => {
    rows ??= [];
    rows.push({ hour, account: seeded.account, secretId: seeded.secretId, keyId, endpointClass, count });
  };

  it("with no exchange side stored: no alert, and the account named as not judged", async () => {
    const result = await misuseHourly(deps);

    expect(result).toEqual({
      hour: new Date((h - 1) * 3_600_000).toISOString(),
      findings: 0,
      acknowledged: 0,
      alerts: 0,
      accountsWithoutExchangeSide: [seeded.account],
      retiredKeyActions: [],
      keyListingFailed: [],
    });
    expect(deps.alerts.sent).toEqual([]);
  });

  it("alerts each finding of the hour that ended, critical first, with ids and numbers and no key value; older hours are not alerted again", async () => {
    seen(h - 5, seeded.keyId, 3); // the retired key, an earlier hour: judged then, not now
    seen(h - 1, seeded.keyId, 7); // the retired key, the hour that ended
    seen(h - 1, seeded.keyId, 2, "withdrawal");

    const result = await misuseHourly(deps);

    expect(result.findings).toBe(result.alerts);
    const alerts = deps.alerts.sent.filter((a) => a.kind === "misuse-finding");
    // (No consumer of the secret reports usage: reconciliation has nothing to compare with, by design.)
    expect(alerts.map((a) => [a.details.kind, a.details.severity])).toEqual([
      ["retired-key-used", "critical"],
      ["withdrawal", "critical"],
    ]);
    expect(alerts[0]).toMatchObject({
      secretId: seeded.secretId,
      details: {
        severity: "critical",
        keyId: seeded.keyId,
        hour: new Date((h - 1) * 3_600_000).toISOString(),
      },
    });
    expect(alerts.every((a) => a.details.hour === new Date((h - 1) * 3_600_000).toISOString())).toBe(true);
    const text = JSON.stringify(deps.alerts.sent);
    expect(text).not.toContain(seeded.keySecret);
    expect(text).not.toContain(seeded.value);
  });

  it("does not alert an acknowledged finding", async () => {
    seen(h - 1, seeded.keyId, 7);
    await misuseHourly(deps);
    const first = deps.alerts.sent.filter((a) => a.kind === "misuse-finding");
    const retired = first.find((a) => a.details.kind === "retired-key-used");
    await acknowledgeFinding(
      {
        findingId: String(retired?.details.findingId),
        reason: "drill",
        until: new Date(deps.clock.now().getTime() + 86_400_000),
        actor: "operator:test",
      },
      { ...deps, audit: deps.audit },
    );
    deps.alerts.sent.length = 0;

    const again = await misuseHourly(deps);

    expect(deps.alerts.sent.map((a) => a.details.kind)).not.toContain("retired-key-used");
    expect(again.acknowledged).toBe(1);
  });

  it("bounds the alerts: past the first ones, one summary names how many more and how to list them", async () => {
    const current = (await deps.store.getVersions(seeded.secretId))?.current?.exchangeKeyId as string;
    // Many new IPs in one hour on the current key: one finding each.
    rows = [];
    for (let i = 0; i < 6 * 24; i++)
      rows.push({
        hour: h - 48 + Math.floor(i / 6),
        account: seeded.account,
        secretId: seeded.secretId,
        keyId: current,
        endpointClass: "spot",
        count: 1,
        ip: "10.0.0.1",
      });
    for (let i = 0; i < MAX_FINDING_ALERTS + 5; i++)
      rows.push({
        hour: h - 1,
        account: seeded.account,
        secretId: seeded.secretId,
        keyId: current,
        endpointClass: "spot",
        count: 1,
        ip: `192.0.2.${i + 1}`,
      });

    const result = await misuseHourly(deps);

    expect(result.findings).toBeGreaterThan(MAX_FINDING_ALERTS);
    expect(result.alerts).toBe(MAX_FINDING_ALERTS + 1);
    const summary = deps.alerts.sent.at(-1);
    expect(summary?.subject).toContain(`${result.findings - MAX_FINDING_ALERTS} more finding(s)`);
    expect(summary?.details.action).toContain("keyshift misuse report --since");
  });
});
