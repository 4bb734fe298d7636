/**
 * `keyshift misuse report` and `misuse ack` over stored aggregates (issue 20): the consumer side
 * from the heartbeats' usage items, the exchange side from whatever is stored (said per account when
 * nothing is), the detector's findings with stable ids, and acks that are audited and expire.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { InMemoryMisuseAcks, InMemoryUsageStore } from "../../harness/memory";
import { InvalidInputError } from "../../src/core/errors";
import type { ExchangeActivity } from "../../src/core/misuse/model";
import { hourOf } from "../../src/core/misuse/model";
import {
  acknowledgeFinding,
  findingId,
  type MisuseReportDeps,
  misuseReport,
} from "../../src/core/misuse/report";
import { addConsumer, type FakeDeps, makeDeps, type SeededSecret, seedSecret } from "./fakes";
import { rotateToPromoted } from "./support/flow";

const HOUR_MS = 3_600_000;
const ACTOR = "operator:arn:aws:sts::123456789012:assumed-role/ops/alice";

describe("misuse report", () => {
  let deps: FakeDeps & MisuseReportDeps & { usage: InMemoryUsageStore; acks: InMemoryMisuseAcks };
  let seeded: SeededSecret;
  let exchangeRows: ExchangeActivity[] | undefined;
  let h: number;

  beforeEach(async () => {
    exchangeRows = undefined;
    const base = makeDeps({ start: "2030-03-01T00:00:00.000Z" });
    deps = {
      ...base,
      usage: new InMemoryUsageStore(),
      acks: new InMemoryMisuseAcks(),
      exchangeActivity: async (account, from, to) =>
        exchangeRows?.filter((r) => r.account === account && r.hour >= from && r.hour < to),
    };
    seeded = await seedSecret(deps);
    await addConsumer(deps, seeded.secretId, "engine");
    // Three days of history before "now": the bootstrap day is behind, rate/off-hours still learn.
    deps.clock.advance(3 * 24 * 3600);
    h = hourOf(deps.clock.now().getTime());
  });

  const reported = async (hour: number, keyId: string, spot: number) =>
    deps.usage.addUsage({
      secretId: seeded.secretId,
      hour,
      fingerprint: seeded.fingerprint,
      keyId,
      consumerId: "engine",
      requests: { spot },
      authFailures: {},
      expiresAt: 0,
    });
  const seen = (
    hour: number,
    keyId: string,
    count: number,
    endpointClass: ExchangeActivity["endpointClass"] = "spot",
  ) => {
    exchangeRows ??= [];
    exchangeRows.push({
      hour,
      account: seeded.account,
      secretId: seeded.secretId,
      keyId,
      endpointClass,
      count,
    });
  };
  const since = (hoursAgo: number) => new Date((h - hoursAgo) * HOUR_MS);

  it("says, per account, that no exchange side is stored, and reports the consumer side it has", async () => {
    await reported(h - 2, seeded.keyId, 40);
    await reported(h - 1, seeded.keyId, 60);

    const out = await misuseReport({ since: since(24) }, deps);

    expect(out.findings).toEqual([]);
    expect(out.accounts).toEqual([
      { account: seeded.account, secrets: [seeded.secretId], exchangeSide: "none-stored" },
    ]);
    expect(out.consumerSide).toEqual([
      { secretId: seeded.secretId, keyHours: 2, requests: 100, authFailures: 0 },
    ]);
  });

  it("reconciles the exchange side with the stored usage: activity no consumer reports is a finding with numbers and a stable id", async () => {
    for (let i = 60; i >= 1; i--) {
      await reported(h - i, seeded.keyId, 50);
      seen(h - i, seeded.keyId, i === 3 ? 250 : 51);
    }

    const out = await misuseReport({ since: since(24) }, deps);
    const again = await misuseReport({ since: since(24) }, deps);
    const narrower = await misuseReport({ since: since(2) }, deps);

    expect(out.accounts[0]?.exchangeSide).toBe("stored");
    expect(out.findings).toEqual([
      expect.objectContaining({
        kind: "unaccounted-activity",
        severity: "high",
        keyId: seeded.keyId,
        hour: h - 3,
        evidence: expect.objectContaining({ exchangeCount: 250, consumerCount: 50 }),
        id: findingId({
          kind: "unaccounted-activity",
          secretId: seeded.secretId,
          keyId: seeded.keyId,
          hour: h - 3,
          subject: "spot",
        }),
      }),
    ]);
    expect(again.findings.map((f) => f.id)).toEqual(out.findings.map((f) => f.id));
    expect(narrower.findings).toEqual([]);
  });

  it("finds the retired key in use after the cut-over the versions record names", async () => {
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    deps.clock.advance(2 * 3600);
    h = hourOf(deps.clock.now().getTime());
    const current = (await deps.store.getVersions(seeded.secretId))?.current?.exchangeKeyId as string;
    await reported(h - 1, current, 30);
    seen(h - 1, current, 30);
    seen(h - 1, seeded.keyId, 12);

    const out = await misuseReport({ since: since(24) }, deps);

    expect(out.findings.filter((f) => f.kind === "retired-key-used")).toEqual([
      expect.objectContaining({ severity: "critical", keyId: seeded.keyId, hour: h - 1 }),
    ]);
    expect(JSON.stringify(out)).not.toContain(seeded.keySecret);
    expect(JSON.stringify(out)).not.toContain(seeded.value);
  });

  describe("ack", () => {
    beforeEach(async () => {
      for (let i = 30; i >= 1; i--) {
        await reported(h - i, seeded.keyId, 50);
        seen(h - i, seeded.keyId, i === 2 ? 400 : 50);
      }
    });

    it("is audited in the secret's chain with the principal and reason before it hides the finding, until it expires", async () => {
      const [finding] = (await misuseReport({ since: since(24) }, deps)).findings;
      if (!finding) throw new Error("expected a finding");
      const until = new Date(deps.clock.now().getTime() + 2 * 86_400_000);

      const ack = await acknowledgeFinding(
        { findingId: finding.id, reason: "load test, ticket OPS-7", until, actor: ACTOR },
        deps,
      );

      const entry = (await deps.audit.list(seeded.secretId)).at(-1);
      expect(entry).toMatchObject({
        actor: ACTOR,
        action: "misuse-finding-acknowledged",
        details: {
          findingId: finding.id,
          kind: "unaccounted-activity",
          reason: "load test, ticket OPS-7",
          until: until.toISOString(),
        },
      });
      const during = await misuseReport({ since: since(24) }, deps);
      expect(during.findings).toEqual([]);
      expect(during.acknowledged).toEqual([
        expect.objectContaining({
          id: finding.id,
          acknowledged: { reason: ack.reason, actor: ACTOR, at: ack.at, until: ack.until },
        }),
      ]);

      deps.clock.advance(2 * 86_400 + 1);
      const after = await misuseReport({ since: new Date(finding.hour * HOUR_MS) }, deps);
      expect(after.findings.map((f) => f.id)).toContain(finding.id);
      expect(after.acknowledged).toEqual([]);
    });

    it("refuses an id that names no finding, and an until in the past or beyond 90 days — auditing and storing nothing", async () => {
      const [finding] = (await misuseReport({ since: since(24) }, deps)).findings;
      if (!finding) throw new Error("expected a finding");
      const entries = (await deps.audit.list(seeded.secretId)).length;
      const now = deps.clock.now().getTime();
      const ack = (findingId: string, untilMs: number) =>
        acknowledgeFinding({ findingId, reason: "r", until: new Date(untilMs), actor: ACTOR }, deps);

      await expect(ack("mf_0000000000000000", now + 86_400_000)).rejects.toThrow(
        /no finding mf_0000000000000000/,
      );
      await expect(ack(finding.id, now - 1)).rejects.toBeInstanceOf(InvalidInputError);
      await expect(ack(finding.id, now + 91 * 86_400_000)).rejects.toThrow(/90 days/);
      expect((await deps.audit.list(seeded.secretId)).length).toBe(entries);
      expect(await deps.acks.listAcks(seeded.secretId)).toEqual([]);
    });
  });
});
