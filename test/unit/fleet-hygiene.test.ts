import { describe, expect, it } from "vitest";
import { hygieneAudit } from "../../src/core/hygiene/audit";
import { readPolicyDriftOf } from "../../src/core/read-policy/sync";
import { addConsumer, type FakeDeps, makeDeps, seedSecret } from "./fakes";

const DAY = 86_400;

/** Secrets on a few accounts, each with a silent required consumer and a disabled schedule (findings). */
async function fleet(deps: FakeDeps, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const seeded = await seedSecret(deps, {
      secretId: `keyshift/exchange/acct-${i % 3}/k${String(i).padStart(3, "0")}`,
      account: `acct-${i % 3}-${i}`,
      settings: { schedule: "rate(30 days)", scheduleEnabled: false },
    });
    await addConsumer(deps, seeded.secretId, "engine");
    ids.push(seeded.secretId);
  }
  deps.clock.advance(40 * DAY);
  return ids;
}

const withDrift = (deps: FakeDeps) => ({
  ...deps,
  policyDrift: (secretId: string, consumers: Parameters<typeof readPolicyDriftOf>[2]) =>
    readPolicyDriftOf(deps, secretId, consumers),
});

describe("the hygiene audit over a fleet, in runs", () => {
  it("a run out of time answers a cursor; the runs continued from it find what one run finds, and alert once", async () => {
    const deps = makeDeps();
    const ids = await fleet(deps, 12);
    const whole = await hygieneAudit({ concurrency: 4 }, withDrift(deps));

    let starts = 0;
    const first = await hygieneAudit(
      { alert: true, concurrency: 4, outOfTime: () => ++starts > 4 },
      withDrift(deps),
    );
    expect(first.cursor).toBe([...ids].sort()[4]);
    expect(deps.alerts.sent).toHaveLength(0);
    const second = await hygieneAudit(
      { alert: true, concurrency: 4, after: first.cursor, carried: first.carried },
      withDrift(deps),
    );

    expect(second.cursor).toBeUndefined();
    expect([...first.findings, ...second.findings]).toEqual(whole.findings);
    expect(second.secrets).toBe(12);
    expect(second.counts).toEqual(whole.counts);
    expect(deps.alerts.sent).toHaveLength(1);
    expect(deps.alerts.sent[0]?.subject).toContain(
      `${whole.counts.high} high, ${whole.counts.medium} medium`,
    );
    expect(deps.alerts.sent[0]?.subject).toContain("over 12 secret(s)");
  });

  it("reads each secret's registrations once, drift included, and gathers several secrets at once", async () => {
    const deps = makeDeps();
    await fleet(deps, 8);
    let reads = 0;
    let inFlight = 0;
    let most = 0;
    const original = deps.consumers.listConsumers.bind(deps.consumers);
    deps.consumers.listConsumers = async (secretId) => {
      reads += 1;
      most = Math.max(most, ++inFlight);
      await Promise.resolve();
      try {
        return await original(secretId);
      } finally {
        inFlight -= 1;
      }
    };

    const report = await hygieneAudit({ concurrency: 4 }, withDrift(deps));

    expect(report.secrets).toBe(8);
    expect(reads).toBe(8);
    expect(most).toBe(4);
  });
});
