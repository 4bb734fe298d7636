import { beforeEach, describe, expect, it } from "vitest";
import {
  ExchangeKeyLimitError,
  ExchangePermanentError,
  ExchangeRetryableError,
  KeyVerificationFailedError,
  RevocationFailedError,
} from "../../src/core/errors";
import { fingerprint } from "../../src/core/fingerprint";
import { STAGE } from "../../src/core/model";
import { revokePrevious } from "../../src/core/revocation/revoke-previous";
import { completeRotation } from "../../src/core/rotation/complete-rotation";
import { createNext } from "../../src/core/rotation/create-next";
import { promoteCurrent } from "../../src/core/rotation/promote-current";
import { exchangeLabelFor, ledgerEntryId, versionTokenFor } from "../../src/core/tokens";
import { addConsumer, type FakeDeps, makeDeps, type SeededSecret, seedSecret, TINY_OVERLAP } from "./fakes";
import { currentFingerprint, report, rotateToPromoted, startRotation } from "./support/flow";

describe("createNext", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  const rotationId = "rot-1";

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps);
    await startRotation(deps, seeded.secretId, rotationId);
  });

  const ref = () => ({ secretId: seeded.secretId, rotationId });

  it("creates a verified key with the current key's permissions and stores it as AWSPENDING under the rotation's token", async () => {
    const out = await createNext(ref(), deps);

    const token = versionTokenFor(rotationId);
    const created = deps.exchange.callsTo("createKey");
    expect(created).toEqual([
      { method: "createKey", account: seeded.account, label: exchangeLabelFor(rotationId) },
    ]);
    expect(out.next.versionId).toBe(token);
    expect(out.reused).toBe(false);
    expect(deps.secrets.holder(seeded.secretId, STAGE.next)).toBe(token);
    expect(deps.secrets.holder(seeded.secretId, STAGE.current)).toBe(seeded.versionId);

    const stored = await deps.secrets.getValue(seeded.secretId, { versionId: token });
    const parsed = JSON.parse(stored.value) as { keyId: string; account: string; permissions: string[] };
    expect(parsed).toMatchObject({
      keyId: out.next.exchangeKeyId,
      account: seeded.account,
      permissions: seeded.permissions,
    });
    expect(out.next.fingerprint).toBe(fingerprint(stored.value));
    expect(deps.exchange.key(seeded.account, out.next.exchangeKeyId)?.permissions).toEqual(
      seeded.permissions,
    );
    expect(deps.exchange.callsTo("verifyKey")).toEqual([
      { method: "verifyKey", account: seeded.account, keyId: out.next.exchangeKeyId },
    ]);
  });

  it("records current and next fingerprints and the phase", async () => {
    const out = await createNext(ref(), deps);

    expect(out.current).toEqual({
      versionId: seeded.versionId,
      fingerprint: seeded.fingerprint,
      exchangeKeyId: seeded.keyId,
    });
    expect(await deps.store.getVersions(seeded.secretId)).toMatchObject({
      current: out.current,
      next: out.next,
    });
    expect(await deps.store.getRotation(seeded.secretId, rotationId)).toMatchObject({
      phase: "next-created",
      current: out.current,
      next: out.next,
    });
    expect(deps.audit.actions(seeded.secretId)).toContain("next-created");
  });

  it("is idempotent when retried: same version, no second key", async () => {
    const first = await createNext(ref(), deps);
    const second = await createNext(ref(), deps);

    expect(second.next).toEqual(first.next);
    expect(deps.exchange.callsTo("createKey")).toHaveLength(1);
    expect(deps.exchange.activeKeyIds(seeded.account)).toHaveLength(2);
    expect((await deps.secrets.listVersions(seeded.secretId)).length).toBe(2);
  });

  it("reuses an AWSPENDING version left by an unfinished attempt instead of making a key", async () => {
    // A crashed attempt created and stored its key but never recorded the phase.
    const orphan = deps.exchange.seedKey(seeded.account, {
      label: exchangeLabelFor(rotationId),
      permissions: seeded.permissions,
    });
    const value = JSON.stringify({
      account: seeded.account,
      keyId: orphan.keyId,
      secret: orphan.secret,
      permissions: seeded.permissions,
    });
    await deps.secrets.putPending(seeded.secretId, versionTokenFor(rotationId), value);

    const out = await createNext(ref(), deps);

    expect(out.reused).toBe(true);
    expect(out.next).toEqual({
      versionId: versionTokenFor(rotationId),
      fingerprint: fingerprint(value),
      exchangeKeyId: orphan.keyId,
      permissions: seeded.permissions,
      ipAllowlist: [],
    });
    expect(deps.exchange.callsTo("createKey")).toHaveLength(0);
    expect(deps.exchange.callsTo("removeKey")).toHaveLength(0);
    expect(deps.exchange.activeKeyIds(seeded.account)).toEqual([seeded.keyId, orphan.keyId]);
  });

  it("refuses to reuse a pending version whose key no longer authenticates", async () => {
    const stray = deps.exchange.seedKey(seeded.account, {
      label: "elsewhere",
      permissions: seeded.permissions,
    });
    const value = JSON.stringify({
      account: seeded.account,
      keyId: stray.keyId,
      secret: "wrong",
      permissions: [],
    });
    await deps.secrets.putPending(seeded.secretId, "c".repeat(40), value);

    await expect(createNext(ref(), deps)).rejects.toBeInstanceOf(KeyVerificationFailedError);
    expect(deps.exchange.callsTo("createKey")).toHaveLength(0);
  });

  it("removes an orphan key carrying this rotation's label before creating", async () => {
    // Crashed after createKey, before PutSecretValue: the key exists, its secret is lost.
    const orphan = deps.exchange.seedKey(seeded.account, {
      label: exchangeLabelFor(rotationId),
      permissions: [],
    });

    const out = await createNext(ref(), deps);

    const calls = deps.exchange.calls.map((c) => `${c.method}${c.keyId ? `:${c.keyId}` : ""}`);
    expect(calls.indexOf(`removeKey:${orphan.keyId}`)).toBeGreaterThanOrEqual(0);
    expect(calls.indexOf(`removeKey:${orphan.keyId}`)).toBeLessThan(calls.indexOf("createKey"));
    expect(deps.exchange.key(seeded.account, orphan.keyId)).toBeUndefined();
    expect(deps.exchange.activeKeyIds(seeded.account)).toEqual([seeded.keyId, out.next.exchangeKeyId]);
    expect(deps.audit.actions(seeded.secretId)).toContain("orphan-key-found");
    // I5: the orphan is revoked through the ledger like every key, its entry written before the call.
    expect(await deps.ledger.get(ledgerEntryId(seeded.account, orphan.keyId))).toMatchObject({
      status: "revoked",
      kind: "unpromoted",
    });
  });

  it("does not touch a key labelled by another rotation", async () => {
    const foreign = deps.exchange.seedKey(seeded.account, {
      label: exchangeLabelFor("rot-0"),
      permissions: [],
    });

    await expect(createNext(ref(), deps)).rejects.toBeInstanceOf(ExchangeKeyLimitError);
    expect(deps.exchange.key(seeded.account, foreign.keyId)?.status).toBe("active");
  });

  it("refuses at the 2-key limit naming the unrevoked key, 'not in the ledger' when it is not", async () => {
    const extra = deps.exchange.seedKey(seeded.account, { label: "manual", permissions: [] });

    const err = await createNext(ref(), deps).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ExchangeKeyLimitError);
    expect((err as Error).message).toContain(`${extra.keyId} (not in the ledger)`);
    expect((err as Error).message).not.toContain(`${seeded.keyId} (`);
    expect(deps.exchange.callsTo("createKey")).toHaveLength(0);
    expect(deps.secrets.holder(seeded.secretId, STAGE.next)).toBeUndefined();
  });

  it("refuses, below the account's limit, while an aborted attempt's key of this secret still lives in the ledger (I3)", async () => {
    // Room on the account for a new key; the secret still holds an unpromoted key whose removal failed.
    deps = makeDeps();
    seeded = await seedSecret(deps, { maxActiveKeys: 5 });
    await startRotation(deps, seeded.secretId, rotationId);
    const leftover = deps.exchange.seedKey(seeded.account, {
      label: exchangeLabelFor("rot-0"),
      permissions: [],
    });
    const now = deps.clock.now().toISOString();
    await deps.ledger.openPending({
      entryId: ledgerEntryId(seeded.account, leftover.keyId),
      secretId: seeded.secretId,
      exchangeAccount: seeded.account,
      keyId: leftover.keyId,
      versionId: "unstored",
      rotationId: "rot-0",
      kind: "unpromoted",
      status: "pending",
      attempts: 0,
      needsOperator: false,
      createdAt: now,
      updatedAt: now,
    });

    const err = await createNext(ref(), deps).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ExchangeKeyLimitError);
    expect((err as Error).message).toMatch(new RegExp(`${leftover.keyId} \\(ledger entry .*pending`));
    expect(deps.exchange.callsTo("createKey")).toHaveLength(0);
  });

  it("wraps a failed verification of the new key in KeyVerificationFailedError and stores nothing", async () => {
    deps.exchange.faults.failNext("verifyKey", 1, ExchangePermanentError, "HTTP 401 INVALID_SIGNATURE");

    const err = await createNext(ref(), deps).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(KeyVerificationFailedError);
    expect((err as Error).message).toMatch(/does not authenticate.*INVALID_SIGNATURE/);
    expect(deps.secrets.holder(seeded.secretId, STAGE.next)).toBeUndefined();
    expect(deps.secrets.puts).toHaveLength(0);
    expect((await deps.store.getRotation(seeded.secretId, rotationId))?.phase).toBe("started");
  });

  it("lets an exchange error through untouched for the state's retry", async () => {
    deps.exchange.faults.failNext("createKey", 1, ExchangeRetryableError, "HTTP 503");

    await expect(createNext(ref(), deps)).rejects.toBeInstanceOf(ExchangeRetryableError);
    const retried = await createNext(ref(), deps);

    expect(retried.reused).toBe(false);
    expect(deps.exchange.activeKeyIds(seeded.account)).toHaveLength(2);
  });

  it("re-run after promotion creates nothing and reports the refs as they were at creation", async () => {
    const first = await createNext(ref(), deps);

    await promoteCurrent(ref(), deps);

    const again = await createNext(ref(), deps);

    expect(deps.exchange.callsTo("createKey")).toHaveLength(1);
    expect(again.current).toEqual(first.current);
    expect(again.next).toEqual(first.next);
    expect(again.reused).toBe(true);
  });
});

describe("createNext after a revocation was deferred", () => {
  it("refuses with ExchangeKeyLimitError naming the unrevoked previous key and its ledger status", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps, { settings: TINY_OVERLAP });
    const engine = await addConsumer(deps, seeded.secretId, "engine");
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    deps.clock.advance(1); // past the (one-second) overlap
    await report(deps, seeded.secretId, engine, "i1", await currentFingerprint(deps, seeded.secretId));
    deps.exchange.faults.failNext("removeKey", 1, ExchangeRetryableError, "HTTP 503");
    await expect(
      revokePrevious({ secretId: seeded.secretId, rotationId: "rot-1" }, deps),
    ).rejects.toBeInstanceOf(RevocationFailedError);
    await completeRotation(
      { secretId: seeded.secretId, rotationId: "rot-1", outcome: "revocation-deferred" },
      deps,
    );
    await startRotation(deps, seeded.secretId, "rot-2");

    const err = await createNext({ secretId: seeded.secretId, rotationId: "rot-2" }, deps).catch(
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(ExchangeKeyLimitError);
    expect((err as Error).message).toContain(`${seeded.keyId} (ledger failed, 1 attempt(s))`);
    expect((await deps.ledger.get(ledgerEntryId(seeded.account, seeded.keyId)))?.status).toBe("failed");
    expect(deps.exchange.callsTo("createKey")).toHaveLength(1);
  });
});
