import { describe, expect, it } from "vitest";
import { RotationInProgressError } from "../../src/core/errors";
import { STAGE } from "../../src/core/model";
import { newLedgerEntry } from "../../src/core/revocation/through-ledger";
import { FakeRevocationLedger, FakeRotationStore, FakeSecretStore } from "./fakes";

/** The fakes stand in for AWS in every other unit test, so their semantics are pinned here. */
const TOKEN_A = "a".repeat(40);
const TOKEN_B = "b".repeat(40);

async function rejection(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (err) {
    if (err instanceof Error) return err;
  }
  throw new Error("expected a rejection");
}

describe("FakeSecretStore staging labels", () => {
  it("putPending attaches AWSPENDING and moves it off any other version", async () => {
    const sm = new FakeSecretStore();
    const v1 = sm.create("s", "one");
    await sm.putPending("s", TOKEN_A, "two");
    await sm.putPending("s", TOKEN_B, "three");
    expect(await sm.listVersions("s")).toEqual([
      { versionId: v1, stages: [STAGE.current] },
      { versionId: TOKEN_B, stages: [STAGE.next] },
    ]);
  });

  it("same token + same value is a no-op; same token + another value is ResourceExistsException", async () => {
    const sm = new FakeSecretStore();
    sm.create("s", "one");
    await sm.putPending("s", TOKEN_A, "two");
    const before = sm.dump("s");
    expect(await sm.putPending("s", TOKEN_A, "two")).toEqual({ versionId: TOKEN_A });
    const err = await rejection(sm.putPending("s", TOKEN_A, "other"));
    expect(err.name).toBe("ResourceExistsException");
    expect(sm.dump("s")).toBe(before);
  });

  it("moving AWSCURRENT leaves AWSPREVIOUS on the old current; AWSPENDING stays until removed", async () => {
    const sm = new FakeSecretStore();
    const v1 = sm.create("s", "one");
    await sm.putPending("s", TOKEN_A, "two");
    await sm.moveStage("s", STAGE.current, { to: TOKEN_A, from: v1 });
    expect(await sm.listVersions("s")).toEqual([
      { versionId: v1, stages: [STAGE.previous] },
      { versionId: TOKEN_A, stages: [STAGE.next, STAGE.current] },
    ]);
  });

  it("moving a label held elsewhere without `from` is InvalidParameterException and changes nothing", async () => {
    const sm = new FakeSecretStore();
    sm.create("s", "one");
    await sm.putPending("s", TOKEN_A, "two");
    const before = sm.dump("s");
    const err = await rejection(sm.moveStage("s", STAGE.current, { to: TOKEN_A }));
    expect(err.name).toBe("InvalidParameterException");
    expect(sm.dump("s")).toBe(before);
  });
});

describe("FakeRotationStore lock conditions", () => {
  const t0 = new Date("2030-01-01T00:00:00Z");
  const later = new Date("2030-01-01T02:00:00Z");

  it("is free, re-entrant, never taken over (even past the lease), and never expires once stalled", async () => {
    const lock = new FakeRotationStore();
    await lock.acquire("s", "r1", t0, 3600);
    await expect(lock.acquire("s", "r1", t0, 3600)).resolves.toMatchObject({ rotationId: "r1" });
    await expect(lock.acquire("s", "r2", t0, 3600)).rejects.toBeInstanceOf(RotationInProgressError);
    await expect(lock.acquire("s", "r2", later, 3600)).rejects.toBeInstanceOf(RotationInProgressError);
    await expect(lock.markStalled("s", "r1", { expiredAt: t0 })).rejects.toBeInstanceOf(
      RotationInProgressError,
    );
    await lock.markStalled("s", "r1", { expiredAt: later });
    await lock.release("s", "r1");
    await lock.acquire("s", "r2", later, 3600);
    await lock.markStalled("s", "r2");
    await expect(lock.acquire("s", "r3", new Date("2040-01-01T00:00:00Z"), 3600)).rejects.toBeInstanceOf(
      RotationInProgressError,
    );
    await lock.release("s", "r3");
    expect((await lock.get("s"))?.rotationId).toBe("r2");
  });
});

describe("FakeRevocationLedger transitions", () => {
  it("only moves forward: revoked stays revoked and openPending never resets", async () => {
    const ledger = new FakeRevocationLedger();
    const now = new Date("2030-01-01T00:00:00Z");
    const fields = {
      secretId: "s",
      exchangeAccount: "a",
      keyId: "k",
      versionId: "v",
      rotationId: "r",
      kind: "previous" as const,
    };
    await ledger.openPending(newLedgerEntry(fields, "a#k", now));
    await ledger.markRevoked("a#k", now);
    const after = await ledger.markFailed("a#k", {
      at: now,
      error: "x",
      nextAttemptAt: now,
      needsOperator: false,
    });
    const reopened = await ledger.openPending(newLedgerEntry(fields, "a#k", now));
    expect(after.status).toBe("revoked");
    expect(reopened.status).toBe("revoked");
    expect(await ledger.listDue(new Date("2031-01-01T00:00:00Z"), 10)).toEqual([]);
  });
});
