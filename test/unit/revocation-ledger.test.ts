import { beforeEach, describe, expect, it } from "vitest";
import { revocationBackoffSeconds } from "../../src/core/backoff";
import {
  ExchangeKeyNotFoundError,
  ExchangePermanentError,
  ExchangeRetryableError,
  RevocationFailedError,
} from "../../src/core/errors";
import type { LedgerEntry } from "../../src/core/model";
import { retryRevocations } from "../../src/core/revocation/retry";
import { revokePrevious } from "../../src/core/revocation/revoke-previous";
import { attemptRevocation, newLedgerEntry } from "../../src/core/revocation/through-ledger";
import { ledgerEntryId } from "../../src/core/tokens";
import { addConsumer, type FakeDeps, makeDeps, type SeededSecret, seedSecret, TINY_OVERLAP } from "./fakes";
import { currentFingerprint, report, rotateToPromoted } from "./support/flow";

const ACCOUNT = "acct-main";

/**
 * A ledger entry for a key that exists on the fake exchange and was never promoted (an aborted
 * rotation's), so the sweeper's mechanics are tested without the consumer gate in the way.
 */
async function openEntry(deps: FakeDeps, keyId: string): Promise<LedgerEntry> {
  await deps.secrets.listVersions("s").catch(() => deps.secrets.create("s", "{}"));
  return deps.ledger.openPending(
    newLedgerEntry(
      {
        secretId: "s",
        exchangeAccount: ACCOUNT,
        keyId,
        versionId: `v-${keyId}`,
        rotationId: "rot-1",
        kind: "unpromoted",
      },
      ledgerEntryId(ACCOUNT, keyId),
      deps.clock.now(),
    ),
  );
}

describe("revokePrevious through the ledger", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  const ref = () => ({ secretId: seeded.secretId, rotationId: "rot-1" });
  const entryId = () => ledgerEntryId(seeded.account, seeded.keyId);

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps, { settings: TINY_OVERLAP });
    const engine = await addConsumer(deps, seeded.secretId, "engine");
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    deps.clock.advance(1); // past the (one-second) overlap
    await report(deps, seeded.secretId, engine, "i-1", await currentFingerprint(deps, seeded.secretId));
  });

  it("writes the entry as pending before calling the exchange", async () => {
    const seen: (string | undefined)[] = [];
    deps.exchange.before.removeKey = async (call) => {
      seen.push((await deps.ledger.get(ledgerEntryId(call.account, call.keyId ?? "")))?.status);
    };

    await revokePrevious(ref(), deps);

    expect(seen).toEqual(["pending"]);
    expect((await deps.ledger.get(entryId()))?.status).toBe("revoked");
  });

  it("on success records revoked with the time and one attempt, and audits it", async () => {
    deps.clock.advance(5);

    await revokePrevious(ref(), deps);

    expect(await deps.ledger.get(entryId())).toMatchObject({
      status: "revoked",
      attempts: 1,
      revokedAt: deps.clock.now().toISOString(),
      needsOperator: false,
    });
    expect((await deps.ledger.get(entryId()))?.nextAttemptAt).toBeUndefined();
    expect(deps.audit.actions(seeded.secretId).at(-1)).toBe("key-revoked");
  });

  it("on failure records failed with attempts, sanitized last error and next attempt time, and throws RevocationFailedError", async () => {
    deps.exchange.faults.failNext(
      "removeKey",
      1,
      ExchangeRetryableError,
      `HTTP 503 upstream said {"secret":"${seeded.keySecret}"} secret=${seeded.keySecret}`,
    );

    const err = await revokePrevious(ref(), deps).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RevocationFailedError);
    expect((err as Error).message).not.toContain(seeded.keySecret);
    const entry = await deps.ledger.get(entryId());
    expect(entry).toMatchObject({ status: "failed", attempts: 1, needsOperator: false });
    expect(entry?.lastError).toMatch(/^ExchangeRetryableError: HTTP 503/);
    expect(entry?.lastError).not.toContain(seeded.keySecret);
    // attempt 1: ceiling 60 s, jitter 0.5 → 45 s.
    expect(entry?.nextAttemptAt).toBe(new Date(deps.clock.now().getTime() + 45_000).toISOString());
    expect(deps.audit.actions(seeded.secretId).at(-1)).toBe("revocation-attempt-failed");
    expect(deps.exchange.key(seeded.account, seeded.keyId)?.status).toBe("active");
  });

  it("a retry after a failure revokes and keeps counting attempts", async () => {
    deps.exchange.faults.failNext("removeKey", 1, ExchangeRetryableError);
    await expect(revokePrevious(ref(), deps)).rejects.toBeInstanceOf(RevocationFailedError);

    const out = await revokePrevious(ref(), deps);

    expect(out).toMatchObject({ status: "revoked", attempts: 2 });
  });

  it("counts 'not found' from the exchange as revoked", async () => {
    await deps.exchange.removeKey(seeded.account, seeded.keyId);

    const out = await revokePrevious(ref(), deps);

    expect(out.status).toBe("revoked");
    expect(await deps.ledger.get(entryId())).toMatchObject({ status: "revoked" });
  });

  it("counts ExchangeKeyNotFoundError as revoked once the listing confirms the key is gone", async () => {
    await deps.exchange.removeKey(seeded.account, seeded.keyId);
    deps.exchange.faults.failNext("removeKey", 1, ExchangeKeyNotFoundError, "HTTP 404 KEY_NOT_FOUND");

    await revokePrevious(ref(), deps);

    expect(await deps.ledger.get(entryId())).toMatchObject({ status: "revoked" });
  });

  it("break 6: a 'not found' or 'removed' answer while the exchange still lists the key is a failure, not a revocation", async () => {
    deps.exchange.faults.failNext("removeKey", 1, ExchangeKeyNotFoundError, "HTTP 404 from a proxy");

    await expect(revokePrevious(ref(), deps)).rejects.toBeInstanceOf(RevocationFailedError);

    expect(await deps.ledger.get(entryId())).toMatchObject({ status: "failed", attempts: 1 });
    expect((await deps.ledger.get(entryId()))?.lastError).toMatch(/still lists it/);
    expect(deps.audit.actions(seeded.secretId)).not.toContain("key-revoked");
  });

  it("break 6: a removal whose answer was lost to a timeout is settled by the listing", async () => {
    deps.exchange.before.removeKey = () => {
      deps.exchange.before.removeKey = undefined;
    };
    const realRemove = deps.exchange.removeKey.bind(deps.exchange);
    deps.exchange.removeKey = async (account, keyId) => {
      await realRemove(account, keyId);
      throw new ExchangeRetryableError("exchange removeKey: no answer within 5000 ms");
    };

    const out = await revokePrevious(ref(), deps);

    expect(out).toMatchObject({ status: "revoked", attempts: 1 });
    expect(deps.alerts.kinds()).not.toContain("revocation-needs-operator");
  });
});

describe("attemptRevocation", () => {
  let deps: FakeDeps;

  beforeEach(() => {
    deps = makeDeps({ revocation: { maxAttempts: 3 } });
    deps.exchange.addAccount(ACCOUNT);
  });

  it("never moves a revoked entry back, even when a stale copy's attempt fails", async () => {
    const key = deps.exchange.seedKey(ACCOUNT, { label: "old", permissions: [] });
    const stale = await openEntry(deps, key.keyId);
    await deps.ledger.markRevoked(stale.entryId, deps.clock.now());
    deps.exchange.faults.failNext("removeKey", 5, ExchangeRetryableError);

    const out = await attemptRevocation({ ...stale, attempts: 2 }, "sweeper", deps);

    expect(out.entry.status).toBe("revoked");
    expect((await deps.ledger.get(stale.entryId))?.status).toBe("revoked");
    expect(deps.alerts.sent).toEqual([]);
  });

  it("does not call the exchange for an entry already revoked", async () => {
    const key = deps.exchange.seedKey(ACCOUNT, { label: "old", permissions: [] });
    const entry = await openEntry(deps, key.keyId);
    const revoked = await deps.ledger.markRevoked(entry.entryId, deps.clock.now());

    await attemptRevocation(revoked, "sweeper", deps);

    expect(deps.exchange.callsTo("removeKey")).toEqual([]);
  });

  it("flags the entry for an operator at maxAttempts, alerts, stops scheduling it, and still lists it", async () => {
    const key = deps.exchange.seedKey(ACCOUNT, { label: "old", permissions: [] });
    let entry = await openEntry(deps, key.keyId);
    deps.exchange.faults.failNext("removeKey", 3, ExchangePermanentError, "HTTP 403 IP_NOT_WHITELISTED");

    for (let i = 0; i < 2; i++) entry = (await attemptRevocation(entry, "sweeper", deps)).entry;
    expect(entry).toMatchObject({ status: "failed", attempts: 2, needsOperator: false });
    expect(deps.alerts.sent).toEqual([]);
    const last = await attemptRevocation(entry, "sweeper", deps);

    expect(last.entry).toMatchObject({ status: "failed", attempts: 3, needsOperator: true });
    expect(last.entry.nextAttemptAt).toBeUndefined();
    expect(deps.alerts.sent).toEqual([
      expect.objectContaining({
        kind: "revocation-needs-operator",
        details: expect.objectContaining({
          keyId: key.keyId,
          lastError: expect.stringContaining("IP_NOT_WHITELISTED"),
        }),
      }),
    ]);
    expect(deps.audit.actions("s").at(-1)).toBe("revocation-needs-operator");
    deps.clock.advance(365 * 86_400);
    expect(await deps.ledger.listDue(deps.clock.now(), 100)).toEqual([]);
    expect((await deps.ledger.listAll()).map((e) => e.entryId)).toEqual([entry.entryId]);
  });
});

describe("revocationBackoffSeconds", () => {
  const policy = { baseSeconds: 60, capSeconds: 3600 };

  it("doubles per attempt from the base and caps, with jitter between half and all of the ceiling", () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) =>
      revocationBackoffSeconds(n, { ...policy, random: () => 1 }),
    );
    const floors = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) =>
      revocationBackoffSeconds(n, { ...policy, random: () => 0 }),
    );

    expect(ceilings).toEqual([60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    expect(floors).toEqual([30, 60, 120, 240, 480, 960, 1800, 1800, 1800]);
    expect(revocationBackoffSeconds(0, { ...policy, random: () => 1 })).toBe(60);
  });
});

describe("retryRevocations (the sweeper)", () => {
  let deps: FakeDeps;

  beforeEach(() => {
    deps = makeDeps({ revocation: { baseSeconds: 60, capSeconds: 600, maxAttempts: 10 } });
    deps.exchange.addAccount(ACCOUNT, 10);
  });

  it("retries with growing backoff, capped", async () => {
    const key = deps.exchange.seedKey(ACCOUNT, { label: "old", permissions: [] });
    await openEntry(deps, key.keyId);
    deps.exchange.faults.failNext("removeKey", 7, ExchangeRetryableError);
    const gaps: number[] = [];

    deps.clock.advance(300); // the pending entry's safety delay
    for (let i = 0; i < 7; i++) {
      const out = await retryRevocations({ limit: 10 }, deps);
      expect(out).toEqual({ due: 1, deferred: 0, revoked: 0, failed: 1, needsOperator: 0, held: 0 });
      const next = (await deps.ledger.get(ledgerEntryId(ACCOUNT, key.keyId)))?.nextAttemptAt ?? "";
      gaps.push((Date.parse(next) - deps.clock.now().getTime()) / 1000);
      deps.clock.set(next);
    }
    const out = await retryRevocations({ limit: 10 }, deps);

    // random = 0.5 → 3/4 of min(600, 60 × 2^(n-1)).
    expect(gaps).toEqual([45, 90, 180, 360, 450, 450, 450]);
    expect(out).toEqual({ due: 1, deferred: 0, revoked: 1, failed: 0, needsOperator: 0, held: 0 });
    expect(deps.exchange.key(ACCOUNT, key.keyId)).toBeUndefined();
    expect((await deps.ledger.get(ledgerEntryId(ACCOUNT, key.keyId)))?.attempts).toBe(8);
  });

  it("revokes due entries and skips those not yet due", async () => {
    const early = deps.exchange.seedKey(ACCOUNT, { label: "a", permissions: [] });
    const late = deps.exchange.seedKey(ACCOUNT, { label: "b", permissions: [] });
    await openEntry(deps, early.keyId);
    deps.clock.advance(120);
    await openEntry(deps, late.keyId);

    deps.clock.advance(299 - 120);
    expect(await retryRevocations({ limit: 10 }, deps)).toEqual({
      due: 0,
      deferred: 0,
      revoked: 0,
      failed: 0,
      needsOperator: 0,
      held: 0,
    });
    expect(deps.exchange.callsTo("removeKey")).toEqual([]);

    deps.clock.advance(1);
    expect(await retryRevocations({ limit: 10 }, deps)).toMatchObject({ due: 1, revoked: 1 });
    expect(deps.exchange.callsTo("removeKey").map((c) => c.keyId)).toEqual([early.keyId]);
    expect((await deps.ledger.get(ledgerEntryId(ACCOUNT, late.keyId)))?.status).toBe("pending");

    deps.clock.advance(120);
    expect(await retryRevocations({ limit: 10 }, deps)).toMatchObject({ due: 1, revoked: 1 });
    expect(deps.exchange.activeKeyIds(ACCOUNT)).toEqual([]);
  });

  it("skips a failed entry until its next attempt time, then revokes it", async () => {
    const key = deps.exchange.seedKey(ACCOUNT, { label: "old", permissions: [] });
    const entry = await openEntry(deps, key.keyId);
    deps.exchange.faults.failNext("removeKey", 1, ExchangeRetryableError);
    await attemptRevocation(entry, "rotation:rot-1", deps);
    const next = Date.parse((await deps.ledger.get(entry.entryId))?.nextAttemptAt ?? "");

    deps.clock.set(new Date(next - 1000).toISOString());
    const early = await retryRevocations({ limit: 10 }, deps);
    deps.clock.set(new Date(next).toISOString());
    const due = await retryRevocations({ limit: 10 }, deps);

    expect(early.due).toBe(0);
    expect(due).toEqual({ due: 1, deferred: 0, revoked: 1, failed: 0, needsOperator: 0, held: 0 });
    expect(await deps.ledger.get(entry.entryId)).toMatchObject({ status: "revoked", attempts: 2 });
  });

  it("stops between entries when out of time, leaving the rest due for the next run", async () => {
    for (const label of ["a", "b", "c"])
      await openEntry(deps, deps.exchange.seedKey(ACCOUNT, { label, permissions: [] }).keyId);
    deps.clock.advance(300);
    let checks = 0;

    const out = await retryRevocations({ limit: 10, outOfTime: () => ++checks > 1 }, deps);

    expect(out).toMatchObject({ due: 3, deferred: 2, revoked: 1 });
    expect(deps.exchange.callsTo("removeKey")).toHaveLength(1);
    expect((await retryRevocations({ limit: 10 }, deps)).revoked).toBe(2);
  });

  it("respects the batch limit", async () => {
    for (const label of ["a", "b", "c"])
      await openEntry(deps, deps.exchange.seedKey(ACCOUNT, { label, permissions: [] }).keyId);
    deps.clock.advance(300);

    expect((await retryRevocations({ limit: 2 }, deps)).due).toBe(2);
    expect((await retryRevocations({ limit: 2 }, deps)).due).toBe(1);
  });
});
