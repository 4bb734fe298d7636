/**
 * The hygiene audit's usage-reporting finding (issue 20): consumers that heartbeat but report no
 * usage leave misuse reconciliation blind, and the detector is quiet on such a secret by design —
 * so the audit says it (medium while instances run, low when nothing does).
 */
import { beforeEach, describe, expect, it } from "vitest";
import { InMemoryUsageStore } from "../../harness/memory";
import { hygieneAudit } from "../../src/core/hygiene/audit";
import { hourOf } from "../../src/core/misuse/model";
import {
  addConsumer,
  type FakeDeps,
  makeDeps,
  type SeededConsumer,
  type SeededSecret,
  seedSecret,
} from "./fakes";
import { report } from "./support/flow";

const DAY = 86_400;

describe("hygiene audit: keys with no usage reporting", () => {
  let deps: FakeDeps & { usage: InMemoryUsageStore };
  let seeded: SeededSecret;
  let engine: SeededConsumer;

  beforeEach(async () => {
    deps = { ...makeDeps(), usage: new InMemoryUsageStore() };
    seeded = await seedSecret(deps, { settings: { schedule: "rate(30 days)", scheduleEnabled: true } });
    engine = await addConsumer(deps, seeded.secretId, "engine");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    deps.clock.advance(DAY);
  });

  const usageFinding = async (d: Parameters<typeof hygieneAudit>[1] = deps) =>
    (await hygieneAudit({}, d)).findings.filter((f) => f.kind === "no-usage-reporting");

  it("is medium when an instance heartbeats and no consumer reported usage in the week", async () => {
    expect(await usageFinding()).toEqual([
      expect.objectContaining({
        secretId: seeded.secretId,
        severity: "medium",
        fix: expect.stringContaining("recordUsage"),
      }),
    ]);
  });

  it("is low when nothing heartbeats either", async () => {
    deps.clock.advance(8 * DAY);
    expect((await usageFinding()).map((f) => f.severity)).toEqual(["low"]);
  });

  it("is absent once a consumer reports usage within the week, and when usage is not checked", async () => {
    await deps.usage.addUsage({
      secretId: seeded.secretId,
      hour: hourOf(deps.clock.now().getTime()) - 30,
      fingerprint: seeded.fingerprint,
      keyId: seeded.keyId,
      consumerId: "engine",
      requests: { spot: 1 },
      authFailures: {},
      expiresAt: 0,
    });
    expect(await usageFinding()).toEqual([]);
    const { usage: _none, ...withoutUsage } = deps;
    expect(await usageFinding(withoutUsage)).toEqual([]);
  });

  it("says nothing for a secret with no registered consumer (nobody is expected to report)", async () => {
    await deps.consumers.deregister(seeded.secretId, "engine");
    expect(await usageFinding()).toEqual([]);
  });
});
