import { describe, expect, it } from "vitest";
import { GateExchange, parseGateAdminSecret } from "../../src/adapters/exchange/gate";
import { ExchangePermanentError } from "../../src/core/errors";
import { failure } from "./gate-helpers";

const cfg = parseGateAdminSecret(
  {
    exchange: "gate",
    endpoint: "http://127.0.0.1:9",
    apiKey: "main",
    apiSecret: "s".repeat(64),
    userId: "7",
  },
  "t",
);
const listing = (entries: unknown[]) =>
  new GateExchange({
    credentials: async () => cfg,
    fetchImpl: (async () => new Response(JSON.stringify(entries), { status: 200 })) as typeof fetch,
  });
const entry = (extra: Record<string, unknown>) => ({
  user_id: 7,
  mode: 1,
  name: "ks_abc",
  perms: [
    { name: "spot", read_only: false },
    { name: "wallet", read_only: true },
  ],
  ip_whitelist: ["10.0.0.2", "10.0.0.1"],
  key: "a".repeat(32),
  state: 1,
  created_at: 1_765_152_000,
  updated_at: 1_765_152_000,
  last_access: 0,
  ...extra,
});

describe("Gate listing in the port's terms", () => {
  it("last_access in seconds becomes lastUsedAt; 0 means never used (no lastUsedAt)", async () => {
    const { keys, maxActiveKeys } = await listing([
      entry({ last_access: 1_765_155_600 }),
      entry({ key: "b".repeat(32) }),
    ]).listKeys("acct");
    expect(maxActiveKeys).toBe(20);
    expect(keys[0]).toEqual({
      keyId: "a".repeat(32),
      label: "ks_abc",
      permissions: ["spot:write", "wallet:read"],
      ipAllowlist: ["10.0.0.1", "10.0.0.2"],
      status: "active",
      createdAt: "2025-12-08T00:00:00.000Z",
      lastUsedAt: "2025-12-08T01:00:00.000Z",
    });
    expect(keys[1]?.lastUsedAt).toBeUndefined();
  });

  it("reads the older reference's string times and user_id; a state other than normal is disabled", async () => {
    const { keys } = await listing([
      entry({ user_id: "7", created_at: "1765152000", last_access: "1765155600", state: 2 }),
    ]).listKeys("acct");
    expect(keys[0]).toMatchObject({
      status: "disabled",
      createdAt: "2025-12-08T00:00:00.000Z",
      lastUsedAt: "2025-12-08T01:00:00.000Z",
    });
  });

  it("an unbound key has no ipAllowlist; a listing holding another user's key is refused, not trusted", async () => {
    const { keys } = await listing([entry({ ip_whitelist: [] })]).listKeys("acct");
    expect(keys[0]?.ipAllowlist).toBeUndefined();
    const err = await failure(listing([entry({ user_id: 8 })]).listKeys("acct"));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toMatch(/user 8/);
  });

  it("a creation time that is not Unix seconds is refused", async () => {
    expect(await failure(listing([entry({ created_at: "2025-12-08" })]).listKeys("acct"))).toBeInstanceOf(
      ExchangePermanentError,
    );
  });
});
