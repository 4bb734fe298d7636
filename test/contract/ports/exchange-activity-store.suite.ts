/**
 * The `ExchangeActivityStore` port (issue 20): what the exchanges saw is added per account ×
 * hour × class × key × IP — counts grow, the country is kept — and a window of hours reads back
 * in order, the account's own sums only; the pull cursor is claimed and advanced only at the
 * version read, so two runs never both pull an account nor both advance its cursor.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ExchangeAggregate } from "../../../src/core/misuse/exchange-side";
import type { ExchangeActivityStore } from "../../../src/core/ports";
import type { PortTarget } from "./support";

const H = 534_000; // an epoch hour in 2030
const NOW = H * 3_600_000;

export function exchangeActivityStoreContract(target: PortTarget<ExchangeActivityStore>): void {
  describe(`ExchangeActivityStore (${target.name})`, () => {
    let store: ExchangeActivityStore;
    beforeEach(() => {
      store = target.make();
    });
    const sum = (account: string, over: Partial<ExchangeAggregate> = {}): ExchangeAggregate => ({
      account,
      hour: H,
      endpointClass: "derivatives",
      ip: "203.0.113.9",
      count: 3,
      ...over,
    });

    it("adds the sums of an hour × class × key × IP into one item; other IPs, classes and keys apart", async () => {
      const account = target.id("acct");
      await store.addActivity([
        sum(account),
        sum(account, { endpointClass: "account", country: "Local Country" }),
      ]);
      await store.addActivity([
        sum(account, { count: 4 }),
        sum(account, { endpointClass: "account", count: 2 }),
        sum(account, { ip: "198.51.100.7", count: 1 }),
        sum(account, { keyId: "k1", count: 5 }),
      ]);

      const read = await store.readActivity(account, H, H + 1);
      const byKey = (a: ExchangeAggregate) => `${a.endpointClass}#${a.keyId ?? "*"}#${a.ip ?? "-"}`;
      expect(read.sort((a, b) => byKey(a).localeCompare(byKey(b)))).toEqual([
        { account, hour: H, endpointClass: "account", ip: "203.0.113.9", country: "Local Country", count: 5 },
        { account, hour: H, endpointClass: "derivatives", ip: "198.51.100.7", count: 1 },
        { account, hour: H, endpointClass: "derivatives", ip: "203.0.113.9", count: 7 },
        { account, hour: H, endpointClass: "derivatives", keyId: "k1", ip: "203.0.113.9", count: 5 },
      ]);
    });

    it("reads [from, to) by hour, the account's own sums only; a sum without IP stays without", async () => {
      const account = target.id("acct");
      await store.addActivity([
        sum(account, { hour: H + 2 }),
        sum(account, { hour: H - 1 }),
        sum(account, { hour: H + 1, ip: undefined }),
        sum(account, { hour: H }),
        sum(`${account}-other`, { hour: H }),
      ]);

      const read = await store.readActivity(account, H, H + 2);
      expect(read.map((a) => a.hour)).toEqual([H, H + 1]);
      expect(read[1]).not.toHaveProperty("ip");
      expect(await store.readActivity(account, H + 2, H + 2)).toEqual([]);
    });

    it("keeps the fleet's pull pointer apart from every account's items, the last write winning", async () => {
      const account = target.id("ptr");
      const before = await store.getPullStart();
      await store.setPullStart(account);
      expect(await store.getPullStart()).toBe(account);
      await store.setPullStart(`${account}-b`);
      expect(await store.getPullStart()).toBe(`${account}-b`);
      expect(await store.getCursor(account)).toEqual({ version: 0 });
      expect(before === undefined || typeof before === "string").toBe(true);
    });

    it("a cursor advances only from the version read: the second of two runs is refused", async () => {
      const account = target.id("acct");
      expect(await store.getCursor(account)).toEqual({ version: 0 });

      expect(await store.advanceCursor(account, "c1", 0)).toBe(true);
      expect(await store.advanceCursor(account, "c1-again", 0)).toBe(false);
      expect(await store.getCursor(account)).toEqual({ cursor: "c1", version: 1 });
      expect(await store.advanceCursor(account, "c2", 1)).toBe(true);
      expect(await store.getCursor(account)).toEqual({ cursor: "c2", version: 2 });
    });

    it("a claim holds the account until it lapses or the cursor advances; a stale version cannot claim", async () => {
      const account = target.id("acct");
      expect(await store.claimCursor(account, 0, NOW + 60_000, NOW)).toBe(true);
      expect(await store.claimCursor(account, 0, NOW + 60_000, NOW + 1_000)).toBe(false);
      expect(await store.getCursor(account)).toEqual({ version: 0, claimedUntilMs: NOW + 60_000 });
      // A run that died holding the claim: after it lapses, the next run takes the account.
      expect(await store.claimCursor(account, 0, NOW + 180_000, NOW + 120_000)).toBe(true);
      expect(await store.advanceCursor(account, "c1", 0)).toBe(true);
      expect(await store.getCursor(account)).toEqual({ cursor: "c1", version: 1 });
      expect(await store.claimCursor(account, 0, NOW + 300_000, NOW + 200_000)).toBe(false);
      expect(await store.claimCursor(account, 1, NOW + 300_000, NOW + 200_000)).toBe(true);
    });
  });
}
