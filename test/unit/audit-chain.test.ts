import { beforeEach, describe, expect, it } from "vitest";
import { AUDIT_GENESIS_HASH, auditHash, verifyAuditChain } from "../../src/core/audit-chain";
import type { AuditEntry } from "../../src/core/model";
import { FakeAuditLog, FakeClock } from "./fakes";

const SECRET = "keyshift/binance/main";

describe("audit hash chain", () => {
  let entries: AuditEntry[];

  beforeEach(async () => {
    const clock = new FakeClock();
    const log = new FakeAuditLog(clock);
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
