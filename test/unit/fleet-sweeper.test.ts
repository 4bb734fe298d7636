import { beforeEach, describe, expect, it } from "vitest";
import type { LedgerEntry } from "../../src/core/model";
import { retryRevocations } from "../../src/core/revocation/retry";
import { newLedgerEntry } from "../../src/core/revocation/through-ledger";
import { ledgerEntryId } from "../../src/core/tokens";
import { type FakeDeps, makeDeps } from "./fakes";

const ACCOUNT = "acct-fleet";

async function openEntry(deps: FakeDeps, secretId: string, keyId: string): Promise<LedgerEntry> {
  await deps.secrets.listVersions(secretId).catch(() => deps.secrets.create(secretId, "{}"));
  return deps.ledger.openPending(
    newLedgerEntry(
      {
        secretId,
        exchangeAccount: ACCOUNT,
        keyId,
        versionId: `v-${keyId}`,
        rotationId: "r",
        kind: "unpromoted",
      },
      ledgerEntryId(ACCOUNT, keyId),
      deps.clock.now(),
    ),
  );
}

/** Counts removeKey calls in flight, per secret and overall, each held open for a few ticks. */
function watchInFlight(deps: FakeDeps, secretOf: Map<string, string>) {
  const seen = { max: 0, maxPerSecret: 0 };
  const now = new Map<string, number>();
  let total = 0;
  const original = deps.exchange.removeKey.bind(deps.exchange);
  deps.exchange.removeKey = async (account, keyId) => {
    const secret = secretOf.get(keyId) ?? "?";
    now.set(secret, (now.get(secret) ?? 0) + 1);
    total += 1;
    seen.max = Math.max(seen.max, total);
    seen.maxPerSecret = Math.max(seen.maxPerSecret, now.get(secret) ?? 0);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    try {
      return await original(account, keyId);
    } finally {
      total -= 1;
      now.set(secret, (now.get(secret) ?? 1) - 1);
    }
  };
  return seen;
}

describe("the sweeper over many due entries", () => {
  let deps: FakeDeps;
  const secretOf = new Map<string, string>();
  let keeper = "";

  beforeEach(async () => {
    deps = makeDeps();
    deps.exchange.addAccount(ACCOUNT, 100);
    // A key that stays: the listing must show a key known to be on the account before a
    // "no such key" counts as revoked.
    keeper = deps.exchange.seedKey(ACCOUNT, { label: "current", permissions: [] }).keyId;
    secretOf.clear();
    for (let s = 0; s < 6; s++) {
      await deps.store.putVersions({
        secretId: `secret-${s}`,
        current: { versionId: "v-current", fingerprint: "fp1_0000000000000000", exchangeKeyId: keeper },
        updatedAt: deps.clock.now().toISOString(),
      });
      for (let k = 0; k < 3; k++) {
        const key = deps.exchange.seedKey(ACCOUNT, { label: `s${s}k${k}`, permissions: [] });
        secretOf.set(key.keyId, `secret-${s}`);
        await openEntry(deps, `secret-${s}`, key.keyId);
      }
    }
    deps.clock.advance(300); // the pending entries' safety delay
  });

  it("works several secrets at once, one entry of a secret at a time", async () => {
    const seen = watchInFlight(deps, secretOf);

    const out = await retryRevocations({ limit: 100, concurrency: 4 }, deps);

    expect(out).toMatchObject({ due: 18, revoked: 18, deferred: 0 });
    expect(seen.max).toBe(4);
    expect(seen.maxPerSecret).toBe(1);
    expect(deps.exchange.activeKeyIds(ACCOUNT)).toEqual([keeper]);
  });

  it("out of time, starts nothing more; the next run finishes the rest (the ledger is the cursor)", async () => {
    let attempts = 0;
    const out = await retryRevocations(
      { limit: 100, concurrency: 3, outOfTime: () => attempts++ >= 7 },
      deps,
    );

    expect(out.revoked + out.deferred).toBe(18);
    expect(out.deferred).toBeGreaterThan(0);
    expect(deps.exchange.callsTo("removeKey")).toHaveLength(out.revoked);
    expect(await retryRevocations({ limit: 100, concurrency: 3 }, deps)).toMatchObject({
      due: out.deferred,
      revoked: out.deferred,
    });
    expect(deps.exchange.activeKeyIds(ACCOUNT)).toEqual([keeper]);
  });

  it("a fault half-way loses nothing: what was not settled is still due and the next run revokes it", async () => {
    const original = deps.ledger.markRevoked.bind(deps.ledger);
    let writes = 0;
    // The 5th ledger write after a removal dies (a Lambda killed between the effect and its record).
    deps.ledger.markRevoked = async (...args) => {
      if (++writes === 5) throw new Error("injected: DynamoDB unavailable");
      return original(...args);
    };

    await expect(retryRevocations({ limit: 100, concurrency: 4 }, deps)).rejects.toThrow(
      "DynamoDB unavailable",
    );
    const open = (await deps.ledger.listAll()).filter((e) => e.status !== "revoked");
    expect(open.length).toBeGreaterThan(0);
    deps.clock.advance(3600);
    await retryRevocations({ limit: 100, concurrency: 4 }, deps);

    expect((await deps.ledger.listAll()).filter((e) => e.status !== "revoked")).toEqual([]);
    expect(deps.exchange.activeKeyIds(ACCOUNT)).toEqual([keeper]);
  });
});
