import { beforeEach, describe, expect, it } from "vitest";
import { ThrottlingException } from "../../harness/memory/faults";
import {
  AUDIT_GENESIS_HASH,
  auditHash,
  auditHeadFor,
  verifyAuditChain,
  verifyAuditTrail,
} from "../../src/core/audit/chain";
import { AuditChainBrokenError } from "../../src/core/errors";
import type { AuditEntry } from "../../src/core/model";
import { FakeClock, InMemoryAuditLog } from "./fakes";

const SECRET = "keyshift/binance/main";

describe("audit hash chain", () => {
  let entries: AuditEntry[];

  beforeEach(async () => {
    const clock = new FakeClock();
    const log = new InMemoryAuditLog(clock);
    for (const action of ["rotation-started", "next-created", "current-promoted", "key-revoked"]) {
      clock.advance(60);
      await log.append({
        secretId: SECRET,
        actor: "rotation:r1",
        action,
        details: { rotationId: "r1", n: 1 },
      });
    }
    await log.append({ secretId: "other", actor: "x", action: "secret-enrolled" });
    entries = await log.list(SECRET);
  });

  it("verifies a real chain, one chain per secret starting from the genesis hash", () => {
    expect(verifyAuditChain(entries)).toEqual({ ok: true, entries: 4 });
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(entries[0]?.prevHash).toBe(AUDIT_GENESIS_HASH);
    expect(entries[1]?.prevHash).toBe(entries[0]?.hash);
  });

  it("does not depend on attribute order (canonical JSON)", () => {
    const [first] = entries;
    if (!first) throw new Error("no entry");
    const { hash, ...body } = first;
    const reordered = Object.fromEntries(Object.entries(body).reverse()) as Omit<AuditEntry, "hash">;

    expect(auditHash(reordered)).toBe(hash);
  });

  it("breaks at the edited entry when a detail is changed", () => {
    const tampered = entries.map((e) =>
      e.seq === 3 ? { ...e, details: { ...e.details, rotationId: "r2" } } : e,
    );

    expect(verifyAuditChain(tampered)).toMatchObject({
      ok: false,
      brokenAt: { seq: 3, reason: "content does not match hash" },
    });
  });

  it("breaks at the edited entry when the actor is changed", () => {
    const tampered = entries.map((e) => (e.seq === 2 ? { ...e, actor: "operator:mallory" } : e));

    expect(verifyAuditChain(tampered).brokenAt?.seq).toBe(2);
  });

  it("breaks right after a deleted entry", () => {
    const deleted = entries.filter((e) => e.seq !== 2);

    expect(verifyAuditChain(deleted)).toMatchObject({
      ok: false,
      brokenAt: { seq: 3, reason: "expected seq 2" },
    });
  });

  it("breaks at a deleted entry even when the later ones are renumbered", () => {
    const renumbered = entries.filter((e) => e.seq !== 2).map((e, i) => ({ ...e, seq: i + 1 }));

    // Entry 2 (formerly 3) links to the deleted entry's hash, and its seq no longer matches its hash.
    expect(verifyAuditChain(renumbered)).toMatchObject({ ok: false, brokenAt: { seq: 2 } });
  });

  it("breaks at the first entry out of place when two are swapped", () => {
    const [a, b, c, d] = entries;
    if (!a || !b || !c || !d) throw new Error("expected four entries");

    expect(verifyAuditChain([a, c, b, d])).toMatchObject({
      ok: false,
      brokenAt: { seq: 3, reason: "expected seq 2" },
    });
  });

  it("breaks on a forged prevHash even if the hash is recomputed", () => {
    const forged = entries.map((e) => {
      if (e.seq !== 3) return e;
      const { hash: _old, ...body } = { ...e, prevHash: "f".repeat(64) };
      return { ...body, hash: auditHash(body) };
    });

    expect(verifyAuditChain(forged)).toMatchObject({
      ok: false,
      brokenAt: { seq: 3, reason: "prevHash does not link" },
    });
  });
});

describe("break 12: the head anchors the end of the trail", () => {
  let clock: FakeClock;
  let log: InMemoryAuditLog;

  async function appendSteps(n: number): Promise<void> {
    for (let i = 1; i <= n; i++) {
      clock.advance(60);
      await log.append({ secretId: SECRET, actor: "rotation:r1", action: `step-${i}`, details: { i } });
    }
  }
  const verify = async () => verifyAuditTrail(await log.list(SECRET), await log.head(SECRET));

  beforeEach(() => {
    clock = new FakeClock();
    log = new InMemoryAuditLog(clock);
  });

  it("break 12: verifies a trail that reaches its committed head", async () => {
    await appendSteps(4);

    expect(await verify()).toEqual({ ok: true, entries: 4 });
    expect(await log.head(SECRET)).toMatchObject({ seq: 4, committed: true });
  });

  it("break 12: deleting the last entry, the last two, or all of them does not verify", async () => {
    await appendSteps(5);

    log.remove(SECRET, 5);
    const lastGone = await verify();
    log.remove(SECRET, 4);
    const twoGone = await verify();
    log.remove(SECRET, 1, 2, 3);
    const allGone = await verify();

    expect(lastGone).toMatchObject({ ok: false, entries: 4, brokenAt: { seq: 5 } });
    expect(lastGone.brokenAt?.reason).toContain("truncated");
    expect(twoGone).toMatchObject({ ok: false, brokenAt: { seq: 4 } });
    expect(allGone).toMatchObject({ ok: false, entries: 0, brokenAt: { seq: 1 } });
  });

  it("break 12: an edited last entry does not verify, even with its hash recomputed", async () => {
    await appendSteps(3);
    const entries = await log.list(SECRET);
    const forged = entries.map((e) => {
      if (e.seq !== 3) return e;
      const { hash: _old, ...body } = { ...e, actor: "operator:mallory" };
      return { ...body, hash: auditHash(body) };
    });

    expect(verifyAuditChain(forged)).toEqual({ ok: true, entries: 3 });
    expect(verifyAuditTrail(forged, await log.head(SECRET))).toMatchObject({
      ok: false,
      brokenAt: { seq: 3, reason: "entry does not match the head" },
    });
  });

  it("break 12: no head and no entries is no trail; entries without a head are not anchored", async () => {
    expect(await verify()).toMatchObject({ ok: false, entries: 0, brokenAt: { reason: "no audit trail" } });

    await appendSteps(2);
    log.remove(SECRET, 2);
    log.removeHead(SECRET);

    expect(await verify()).toMatchObject({
      ok: false,
      brokenAt: { seq: 1, reason: expect.stringContaining("no head") },
    });
    await expect(appendSteps(1)).rejects.toBeInstanceOf(AuditChainBrokenError);
    expect(await log.list(SECRET)).toHaveLength(1);
  });

  it("break 12: a crash after the head, before the entry, verifies with the entry pending, and the next append stores it", async () => {
    await appendSteps(2);
    log.faults.failNext("putEntry", 1, ThrottlingException);

    await expect(appendSteps(1)).rejects.toBeInstanceOf(ThrottlingException);
    const afterCrash = await verify();
    const stored = (await log.list(SECRET)).length;
    await appendSteps(1);

    expect(afterCrash).toEqual({ ok: true, entries: 3, pending: 3 });
    expect(stored).toBe(2);
    expect((await log.list(SECRET)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(await verify()).toEqual({ ok: true, entries: 4 });
  });

  it("break 12: the same crash on the very first append leaves a head with its one entry pending", async () => {
    log.faults.failNext("putEntry", 1, ThrottlingException);

    await expect(appendSteps(1)).rejects.toBeInstanceOf(ThrottlingException);

    expect(await log.list(SECRET)).toEqual([]);
    expect(await verify()).toEqual({ ok: true, entries: 1, pending: 1 });
  });

  it("break 12: a crash after the entry, before the commit, verifies; the next append moves the head on", async () => {
    await appendSteps(2);
    log.faults.failNext("commit", 1, ThrottlingException);

    await expect(appendSteps(1)).rejects.toBeInstanceOf(ThrottlingException);
    const afterCrash = await verify();
    await appendSteps(1);

    expect(afterCrash).toEqual({ ok: true, entries: 3 });
    expect(await log.head(SECRET)).toMatchObject({ seq: 4, committed: true });
    expect(await verify()).toEqual({ ok: true, entries: 4 });
  });

  it("break 12: a crash does not let a later truncation hide: once the next append ran, removing any entry is a break", async () => {
    await appendSteps(2);
    log.faults.failNext("putEntry", 1, ThrottlingException);
    await expect(appendSteps(1)).rejects.toBeInstanceOf(ThrottlingException);
    await appendSteps(1);

    log.remove(SECRET, 3);
    const middleGone = await verify();
    log.remove(SECRET, 4);
    const lastTwoGone = await verify();

    expect(middleGone).toMatchObject({ ok: false, brokenAt: { seq: 4 } });
    expect(lastTwoGone).toMatchObject({ ok: false, brokenAt: { seq: 3 } });
  });

  it("break 12: a pending entry in the head must link to the stored trail and verify on its own", async () => {
    await appendSteps(3);
    const entries = await log.list(SECRET);
    const head = await log.head(SECRET);
    if (!head) throw new Error("no head");
    const stale = auditHeadFor({ ...head.entry, prevHash: "f".repeat(64) });
    const { hash: _h, ...body } = { ...head.entry, prevHash: "f".repeat(64) };
    const relinked = auditHeadFor({ ...body, hash: auditHash(body) });

    expect(verifyAuditTrail(entries.slice(0, 2), stale)).toMatchObject({
      ok: false,
      brokenAt: { seq: 3, reason: "head record does not verify" },
    });
    expect(verifyAuditTrail(entries.slice(0, 2), relinked)).toMatchObject({
      ok: false,
      brokenAt: { seq: 3, reason: "head's pending entry does not link" },
    });
    expect(verifyAuditTrail(entries.slice(0, 2), auditHeadFor(head.entry))).toEqual({
      ok: true,
      entries: 3,
      pending: 3,
    });
  });

  it("leaves out entries appended after the head was read", async () => {
    await appendSteps(2);
    const head = await log.head(SECRET);
    await appendSteps(2);

    expect(verifyAuditTrail(await log.list(SECRET), head)).toEqual({ ok: true, entries: 2 });
  });
});
