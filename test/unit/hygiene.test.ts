import { describe, expect, it } from "vitest";
import { InMemoryOperatorRequests } from "../../harness/memory";
import { hygieneAudit } from "../../src/core/hygiene/audit";
import { openRequest, signOffReview } from "../../src/core/operator/approvals";
import { planReadPolicy, readPolicyDrift } from "../../src/core/read-policy/sync";
import { newLedgerEntry } from "../../src/core/revocation/through-ledger";
import { scheduleIntervalSeconds } from "../../src/core/schedule";
import { ledgerEntryId } from "../../src/core/tokens";
import { addConsumer, type FakeDeps, makeDeps, seedSecret } from "./fakes";
import { report } from "./support/flow";

const DAY = 86_400;

async function cleanSecret(deps: FakeDeps) {
  const seeded = await seedSecret(deps, { settings: { schedule: "rate(30 days)", scheduleEnabled: true } });
  const engine = await addConsumer(deps, seeded.secretId, "engine");
  await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
  return { seeded, engine };
}

describe("hygiene audit", () => {
  it("reports nothing on a clean secret", async () => {
    const deps = makeDeps();
    await cleanSecret(deps);
    deps.clock.advance(DAY);

    const result = await hygieneAudit({ alert: true }, deps);

    expect(result.findings).toEqual([]);
    expect(deps.alerts.sent).toHaveLength(0);
  });

  it("reports one finding of each kind, each with its severity and fix, and alerts once", async () => {
    const deps = makeDeps();
    const { seeded, engine } = await cleanSecret(deps);
    await addConsumer(deps, seeded.secretId, "old-batch-job");
    await deps.store.putSettings({ ...seeded.settings, scheduleEnabled: false });
    // An orphan key no version or ledger entry names; the current key's scope widened by hand.
    deps.exchange.seedKey(seeded.account, { label: "someone-made-this", permissions: ["read"] });
    deps.exchange.edit(seeded.account, seeded.keyId, { permissions: [...seeded.permissions, "withdraw"] });
    // A ledger entry that needs an operator.
    const entry = newLedgerEntry(
      {
        secretId: seeded.secretId,
        exchangeAccount: seeded.account,
        keyId: "key-old",
        versionId: "v0",
        rotationId: "r0",
        kind: "previous",
      },
      ledgerEntryId(seeded.account, "key-old"),
      deps.clock.now(),
    );
    await deps.ledger.openPending(entry);
    await deps.ledger.hold(entry.entryId, {
      at: deps.clock.now(),
      reason: "x",
      nextAttemptAt: undefined,
      needsOperator: true,
    });
    deps.clock.advance(61 * DAY);
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);

    const result = await hygieneAudit(
      { alert: true },
      {
        ...deps,
        policyDrift: async () => [
          {
            message: "arn:aws:iam::1:role/x may read but is not registered",
            severity: "high",
            fix: "keyshift enroll ...",
          },
        ],
      },
    );

    const kinds = result.findings.map((f) => f.kind).sort();
    expect(kinds).toEqual(
      [
        "ledger-needs-operator",
        "never-rotated",
        "orphan-key",
        "read-policy-drift",
        "schedule-disabled",
        "scope-broader",
        "silent-consumer",
      ].sort(),
    );
    const byKind = Object.fromEntries(result.findings.map((f) => [f.kind, f]));
    expect(byKind["never-rotated"]?.severity).toBe("high");
    expect(byKind["silent-consumer"]?.fix).toBe(
      `keyshift consumers remove ${seeded.secretId} old-batch-job --reason "decommissioned"`,
    );
    expect(byKind["scope-broader"]?.message).toMatch(/withdraw/);
    expect(byKind["ledger-needs-operator"]?.fix).toContain(`keyshift revocations retry ${entry.entryId}`);
    expect(result.counts.high).toBeGreaterThan(0);
    expect(deps.alerts.sent.filter((a) => a.kind === "hygiene-findings")).toHaveLength(1);
  });

  it("reports a read policy that does not guard itself (written before the guard) as its own high finding", async () => {
    const deps = makeDeps();
    const { seeded } = await cleanSecret(deps);
    const policy = await planReadPolicy(deps, seeded.secretId);
    const audit = () =>
      hygieneAudit({}, { ...deps, policyDrift: (secretId) => readPolicyDrift(deps, secretId) });
    await deps.policies.putResourcePolicy(seeded.secretId, policy.document);
    expect((await audit()).findings).toEqual([]);

    // The read Deny alone: whoever may call DeleteResourcePolicy can remove it, then read.
    const doc = JSON.parse(policy.document) as { Statement: unknown[] };
    await deps.policies.putResourcePolicy(
      seeded.secretId,
      JSON.stringify({ ...doc, Statement: doc.Statement.slice(0, 1) }),
    );
    const result = await audit();

    expect(result.findings).toEqual([
      expect.objectContaining({
        kind: "read-policy-unguarded",
        severity: "high",
        message: expect.stringContaining("does not guard itself"),
        fix: `keyshift enroll ${seeded.secretId} (re-applies the read policy from the registry)`,
      }),
    ]);
  });

  it("warns when the current key expires before its next scheduled rotation", async () => {
    const deps = makeDeps();
    const { seeded } = await cleanSecret(deps);
    const expiresAt = new Date(deps.clock.now().getTime() + 10 * DAY * 1000).toISOString();
    deps.exchange.edit(seeded.account, seeded.keyId, { expiresAt });

    const result = await hygieneAudit({}, deps);

    expect(result.findings).toMatchObject([{ kind: "key-expiring", severity: "high" }]);
    expect(result.findings[0]?.message).toMatch(/before its next scheduled rotation/);
  });

  it("reads how often a schedule fires", () => {
    expect(scheduleIntervalSeconds("rate(30 days)")).toBe(30 * DAY);
    expect(scheduleIntervalSeconds("rate(1 hour)")).toBe(3600);
    expect(scheduleIntervalSeconds("cron(0 6 ? * MON#1 *)")).toBe(31 * DAY);
    expect(scheduleIntervalSeconds("cron(0 6 ? * MON-FRI *)")).toBe(7 * DAY);
    expect(scheduleIntervalSeconds("cron(0 6 * * ? *)")).toBe(DAY);
    expect(scheduleIntervalSeconds("every tuesday")).toBeUndefined();
  });
});

describe("hygiene: scope", () => {
  it("does not count a `<group>:none` token the exchange lists as scope beyond the declared one", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);
    deps.exchange.edit(seeded.account, seeded.keyId, {
      permissions: [...seeded.permissions, "block_rfq:none"],
    });
    expect((await hygieneAudit({}, deps)).findings.map((f) => f.kind)).not.toContain("scope-broader");

    deps.exchange.edit(seeded.account, seeded.keyId, {
      permissions: [...seeded.permissions, "block_rfq:read"],
    });
    const found = (await hygieneAudit({}, deps)).findings.find((f) => f.kind === "scope-broader");
    expect(found?.message).toContain("block_rfq:read");
  });
});

describe("CreateNext and exchange-imposed expiry", () => {
  it("alerts when the new key expires before the next scheduled rotation, and not otherwise", async () => {
    const { createNext } = await import("../../src/core/rotation/create-next");
    const { startRotation } = await import("./support/flow");
    const deps = makeDeps();
    const seeded = await seedSecret(deps, {
      settings: { schedule: "rate(100 days)", scheduleEnabled: true },
    });
    deps.exchange.newKeyExpiresAt = new Date(deps.clock.now().getTime() + 90 * DAY * 1000).toISOString();
    await startRotation(deps, seeded.secretId, "rot-1");

    await createNext({ secretId: seeded.secretId, rotationId: "rot-1" }, deps);

    const alert = deps.alerts.sent.find((a) => a.kind === "key-expiring");
    expect(alert?.details).toMatchObject({
      expiresAt: deps.exchange.newKeyExpiresAt,
      schedule: "rate(100 days)",
    });

    const calm = makeDeps();
    const other = await seedSecret(calm, { settings: { schedule: "rate(30 days)", scheduleEnabled: true } });
    calm.exchange.newKeyExpiresAt = new Date(calm.clock.now().getTime() + 90 * DAY * 1000).toISOString();
    await startRotation(calm, other.secretId, "rot-1");
    await createNext({ secretId: other.secretId, rotationId: "rot-1" }, calm);
    expect(calm.alerts.sent.filter((a) => a.kind === "key-expiring")).toEqual([]);
  });
});

describe("hygiene audit: deletions a person owes (manual accounts)", () => {
  it("a deletion asked for is low for a day, then high with the exact step; a revoked one is no finding", async () => {
    const deps = makeDeps();
    const { seeded } = await cleanSecret(deps);
    const entry = newLedgerEntry(
      {
        secretId: seeded.secretId,
        exchangeAccount: seeded.account,
        keyId: "key-old",
        versionId: "v0",
        rotationId: "r0",
        kind: "previous",
      },
      ledgerEntryId(seeded.account, "key-old"),
      deps.clock.now(),
    );
    await deps.ledger.openPending(entry);
    await deps.ledger.markAwaitingOperator(entry.entryId, { at: deps.clock.now() });

    deps.clock.advance(3600);
    const early = (await hygieneAudit({}, deps)).findings.filter((f) => f.kind.startsWith("manual-deletion"));
    expect(early.map((f) => [f.kind, f.severity])).toEqual([["manual-deletion-pending", "low"]]);

    deps.clock.advance(DAY);
    const late = (await hygieneAudit({}, deps)).findings.filter((f) => f.kind.startsWith("manual-deletion"));
    expect(late.map((f) => [f.kind, f.severity])).toEqual([["manual-deletion-overdue", "high"]]);
    expect(late[0]?.fix).toBe(
      `delete key key-old in the exchange's web UI (docs/exchanges.md), then keyshift keys confirm-deleted ${entry.entryId}`,
    );
    // Never reported as a revocation to retry: a retry cannot delete a key only a person can.
    expect((await hygieneAudit({}, deps)).findings.map((f) => f.kind)).not.toContain("ledger-needs-operator");

    await deps.ledger.markRevoked(entry.entryId, deps.clock.now());
    expect(
      (await hygieneAudit({}, deps)).findings.filter((f) => f.kind.startsWith("manual-deletion")),
    ).toEqual([]);
  });
});

describe("hygiene audit: emergencies reviewed after the fact", () => {
  it("reports an emergency rotation nobody else signed off, until a second principal does", async () => {
    const deps = makeDeps();
    await cleanSecret(deps);
    const requests = new InMemoryOperatorRequests();
    const approvals = { requests, audit: deps.audit, clock: deps.clock };
    const { request } = await openRequest(
      {
        kind: "review",
        command: "rotate --compromised",
        idempotencyKey: "key-00000009",
        secretId: "keyshift/exchange/x",
        requester: "operator:alice",
        reason: "key pasted in chat",
      },
      approvals,
    );

    const before = await hygieneAudit({}, { ...deps, requests });
    await signOffReview({ requestId: request.requestId, principal: "operator:bob" }, approvals);
    const after = await hygieneAudit({}, { ...deps, requests });

    expect(before.findings).toEqual([
      expect.objectContaining({
        kind: "emergency-unreviewed",
        severity: "medium",
        secretId: "keyshift/exchange/x",
        fix: `keyshift approvals sign-off ${request.requestId} (by a principal other than operator:alice)`,
      }),
    ]);
    expect(after.findings).toEqual([]);
  });
});
