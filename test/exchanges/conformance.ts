import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ExchangeKeyLimitError,
  ExchangeKeyNotFoundError,
  ExchangePermanentError,
  ExchangeRetryableError,
} from "../../src/core/errors";
import type { Exchange, ExchangeKey } from "../../src/core/ports";
import { exchangeLabelFor } from "../../src/core/tokens";

/**
 * One target of the conformance suite: an adapter and the account it manages, backed by the
 * exchange's simulator in CI or by its testnet when `KEYSHIFT_CONTRACT_<EXCHANGE>_*` is set.
 */
export interface ConformanceTarget {
  exchange: Exchange;
  account: string;
  /** True for a simulator: tests that fill the account to its limit or inject faults run only there. */
  simulated: boolean;
  /**
   * The key being rotated, made out of band the way an operator makes it (website, or the simulator's
   * seeding helper), with its scope and IP allow-list as the exchange reports them.
   */
  seedCurrentKey(): Promise<{ keyId: string; secret: string; passphrase?: string }>;
  teardown(): Promise<void>;
}

/** What authenticates as a key: its id, secret and, where the exchange gives keys one (OKX), passphrase. */
const credentialOf = (key: { keyId: string; secret: string; passphrase?: string | undefined }) => ({
  keyId: key.keyId,
  secret: key.secret,
  ...(key.passphrase !== undefined ? { passphrase: key.passphrase } : {}),
});

/** What a call settled to: its value ("ok" for a void success) or the error it threw. */
const settle = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (value) => value ?? "ok",
    (err: unknown) => err,
  );

/**
 * The port's contract as every adapter must keep it (`src/core/ports/exchange.ts`), over the
 * exchange's real wire protocol. Each test cleans up the keys it made, so it can run on a testnet
 * account with room for two extra keys.
 */
export function describeExchangeConformance(name: string, make: () => Promise<ConformanceTarget>): void {
  describe(`${name}: Exchange port conformance`, () => {
    let target: ConformanceTarget;
    let current: { keyId: string; secret: string; passphrase?: string };
    let currentListed: ExchangeKey;
    const made: string[] = [];

    beforeAll(async () => {
      target = await make();
      current = await target.seedCurrentKey();
      const listing = await target.exchange.listKeys(target.account);
      const found = listing.keys.find((k) => k.keyId === current.keyId);
      if (!found) throw new Error(`seeded key ${current.keyId} is not listed`);
      currentListed = found;
    });

    afterAll(async () => {
      for (const keyId of made) await settle(target.exchange.removeKey(target.account, keyId));
      await target?.teardown();
    });

    async function createLike(rotation: string) {
      const created = await target.exchange.createKey(target.account, {
        label: exchangeLabelFor(rotation),
        permissions: currentListed.permissions,
        ...(currentListed.ipAllowlist?.length ? { ipAllowlist: currentListed.ipAllowlist } : {}),
      });
      made.push(created.keyId);
      return created;
    }

    it("lists the account's keys with scope and a positive limit, never a secret", async () => {
      const listing = await target.exchange.listKeys(target.account);
      expect(listing.maxActiveKeys).toBeGreaterThan(0);
      expect(currentListed.status).toBe("active");
      expect(currentListed.permissions.length).toBeGreaterThan(0);
      expect(JSON.stringify(listing)).not.toContain(current.secret);
    });

    it("creates a key with the replaced key's label, scope and IP allow-list, which authenticates", async () => {
      const created = await createLike("conformance-create");
      expect(created.secret.length).toBeGreaterThan(0);
      const listed = (await target.exchange.listKeys(target.account)).keys.find(
        (k) => k.keyId === created.keyId,
      );
      expect(listed?.label).toBe(exchangeLabelFor("conformance-create"));
      expect([...(listed?.permissions ?? [])].sort()).toEqual([...currentListed.permissions].sort());
      expect([...(listed?.ipAllowlist ?? [])].sort()).toEqual([...(currentListed.ipAllowlist ?? [])].sort());
      await target.exchange.verifyKey(target.account, credentialOf(created));
    });

    it("refuses verifyKey with a wrong secret as a permanent error that does not echo it", async () => {
      const wrong = `${current.secret.slice(0, -4)}XXXX`;
      const err = await settle(
        target.exchange.verifyKey(target.account, { ...credentialOf(current), secret: wrong }),
      );
      expect(err).toBeInstanceOf(ExchangePermanentError);
      expect(String((err as Error).message)).not.toContain(wrong);
      expect(String((err as Error).message)).not.toContain(current.secret);
    });

    it("removes a key: removed, then no longer listed, then not-found, and it no longer authenticates", async () => {
      const created = await createLike("conformance-remove");
      expect(await target.exchange.removeKey(target.account, created.keyId)).toBe("removed");
      const after = await target.exchange.listKeys(target.account);
      expect(after.keys.map((k) => k.keyId)).not.toContain(created.keyId);
      const again = await settle(target.exchange.removeKey(target.account, created.keyId));
      expect(again === "not-found" || again instanceof ExchangeKeyNotFoundError).toBe(true);
      const verify = await settle(target.exchange.verifyKey(target.account, credentialOf(created)));
      expect(verify).toBeInstanceOf(ExchangePermanentError);
    });

    it("disables and enables where the exchange can; refuses enable where it cannot", async () => {
      const caps = await target.exchange.capabilities(target.account);
      const created = await createLike("conformance-disable");
      if (!caps.disable) {
        const err = await settle(target.exchange.enableKey(target.account, created.keyId));
        expect(err).toBeInstanceOf(ExchangePermanentError);
        return;
      }
      await target.exchange.disableKey(target.account, created.keyId);
      const disabled = (await target.exchange.listKeys(target.account)).keys.find(
        (k) => k.keyId === created.keyId,
      );
      expect(disabled?.status).toBe("disabled");
      const refused = await settle(target.exchange.verifyKey(target.account, credentialOf(created)));
      expect(refused).toBeInstanceOf(ExchangePermanentError);
      await target.exchange.enableKey(target.account, created.keyId);
      await target.exchange.verifyKey(target.account, credentialOf(created));
    });

    it("answers a removal of a key that never existed as not-found, never as removed", async () => {
      const keys = (await target.exchange.listKeys(target.account)).keys.map((k) => k.keyId);
      const unknown = keys.includes("999999999") ? "999999998" : "999999999";
      const result = await settle(target.exchange.removeKey(target.account, unknown));
      expect(result === "not-found" || result instanceof ExchangeKeyNotFoundError).toBe(true);
    });

    it("maps a full account to ExchangeKeyLimitError (simulators only)", async () => {
      if (!target.simulated) return;
      const listing = await target.exchange.listKeys(target.account);
      const caps = await target.exchange.capabilities(target.account);
      const counted = listing.keys.filter((k) => caps.limitCounts === "all" || k.status === "active").length;
      for (let i = counted; i < listing.maxActiveKeys; i++) await createLike(`conformance-fill-${i}`);
      const err = await settle(createLike("conformance-over"));
      expect(err).toBeInstanceOf(ExchangeKeyLimitError);
      expect(err).not.toBeInstanceOf(ExchangeRetryableError);
    });
  });
}
