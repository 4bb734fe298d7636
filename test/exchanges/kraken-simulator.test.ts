import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  CONSUMER_HOST_IP,
  EGRESS_IP,
  fetchFrom,
  OUTSIDE_IP,
} from "../../harness/local/exchange/caller-address";
import { type KrakenSimulator, startKrakenSimulator } from "../../harness/local/exchange/kraken";
import { FULL_TRADING, rawKrakenCall } from "./kraken-helpers";

const fromEgress = fetchFrom(EGRESS_IP);

/** The simulator refuses what Kraken refuses, with Kraken's error strings, over real HTTP. */
describe("Kraken simulator", () => {
  let sim: KrakenSimulator;
  let clock = Date.now();
  let nonce = 1_700_000_000_000;
  const next = () => ++nonce;

  beforeAll(async () => {
    sim = await startKrakenSimulator({ seed: 3, now: () => clock, timeoutMs: 500 });
    sim.createAccount("acct-k");
  });
  afterAll(async () => {
    await sim.close();
  });
  beforeEach(() => sim.clearFaults());

  const bound = (extra: Partial<Parameters<KrakenSimulator["createKey"]>[1]> = {}) =>
    sim.createKey("acct-k", {
      name: `key-${next()}`,
      permissions: FULL_TRADING,
      ipAllowlist: [EGRESS_IP, CONSUMER_HOST_IP],
      ...extra,
    });

  it("accepts a well-signed Balance call from an allowed address, in Kraken's envelope", async () => {
    const key = bound();
    const res = await rawKrakenCall(sim, key, "Balance", next(), { fetchImpl: fromEgress });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ error: [], result: { ZUSD: expect.any(String) } });
  });

  it("accepts a JSON body signed the same way (Kraken's newer reference shows JSON)", async () => {
    const key = bound();
    const res = await rawKrakenCall(sim, key, "Balance", next(), { fetchImpl: fromEgress, json: true });
    expect(res.body).toMatchObject({ error: [] });
  });

  it("refuses a bad signature with EAPI:Invalid signature, HTTP 200", async () => {
    const key = bound();
    const other = bound();
    const wrongSecret = await rawKrakenCall(
      sim,
      { keyId: key.keyId, secret: other.secret },
      "Balance",
      next(),
      {
        fetchImpl: fromEgress,
      },
    );
    expect(wrongSecret).toEqual({ status: 200, body: { error: ["EAPI:Invalid signature"] } });
    const garbage = await rawKrakenCall(sim, key, "Balance", next(), {
      fetchImpl: fromEgress,
      signature: "AAAA",
    });
    expect(garbage.body).toEqual({ error: ["EAPI:Invalid signature"] });
  });

  it("refuses a reused or lower nonce with EAPI:Invalid nonce", async () => {
    const key = bound();
    const n = next();
    expect((await rawKrakenCall(sim, key, "Balance", n, { fetchImpl: fromEgress })).body).toMatchObject({
      error: [],
    });
    expect((await rawKrakenCall(sim, key, "Balance", n, { fetchImpl: fromEgress })).body).toEqual({
      error: ["EAPI:Invalid nonce"],
    });
    expect((await rawKrakenCall(sim, key, "Balance", n - 1, { fetchImpl: fromEgress })).body).toEqual({
      error: ["EAPI:Invalid nonce"],
    });
    expect((await rawKrakenCall(sim, key, "Balance", next(), { fetchImpl: fromEgress })).body).toMatchObject({
      error: [],
    });
  });

  it("keeps nonces per key: another key's higher nonce does not matter", async () => {
    const a = bound();
    const b = bound();
    const high = next() + 1_000_000;
    expect((await rawKrakenCall(sim, a, "Balance", high, { fetchImpl: fromEgress })).body).toMatchObject({
      error: [],
    });
    expect((await rawKrakenCall(sim, b, "Balance", next(), { fetchImpl: fromEgress })).body).toMatchObject({
      error: [],
    });
  });

  it("takes a lower nonce inside the key's nonce window, once", async () => {
    const key = bound({ nonceWindow: 1_000 });
    const top = next() + 500;
    expect((await rawKrakenCall(sim, key, "Balance", top, { fetchImpl: fromEgress })).body).toMatchObject({
      error: [],
    });
    const late = top - 100;
    expect((await rawKrakenCall(sim, key, "Balance", late, { fetchImpl: fromEgress })).body).toMatchObject({
      error: [],
    });
    expect((await rawKrakenCall(sim, key, "Balance", late, { fetchImpl: fromEgress })).body).toEqual({
      error: ["EAPI:Invalid nonce"],
    });
    expect((await rawKrakenCall(sim, key, "Balance", top - 1_000, { fetchImpl: fromEgress })).body).toEqual({
      error: ["EAPI:Invalid nonce"],
    });
  });

  it("a forged request does not move the key's nonce", async () => {
    const key = bound();
    const n = next();
    const forged = await rawKrakenCall(sim, key, "Balance", n + 10_000, {
      fetchImpl: fromEgress,
      signature: "x",
    });
    expect(forged.body).toEqual({ error: ["EAPI:Invalid signature"] });
    expect((await rawKrakenCall(sim, key, "Balance", n, { fetchImpl: fromEgress })).body).toMatchObject({
      error: [],
    });
  });

  it("refuses a caller off the key's IP allow-list with EGeneral:Permission denied, even for GetApiKeyInfo", async () => {
    const key = bound();
    const outside = fetchFrom(OUTSIDE_IP);
    expect((await rawKrakenCall(sim, key, "Balance", next(), { fetchImpl: outside })).body).toEqual({
      error: ["EGeneral:Permission denied"],
    });
    expect((await rawKrakenCall(sim, key, "GetApiKeyInfo", next(), { fetchImpl: outside })).body).toEqual({
      error: ["EGeneral:Permission denied"],
    });
    const unbound = sim.createKey("acct-k", { name: `open-${next()}`, permissions: ["query-funds"] });
    expect((await rawKrakenCall(sim, unbound, "Balance", next(), { fetchImpl: outside })).body).toMatchObject(
      {
        error: [],
      },
    );
  });

  it("refuses Balance to a key without Query Funds, but lets it describe itself", async () => {
    const key = bound({ permissions: ["modify-trades"] });
    expect((await rawKrakenCall(sim, key, "Balance", next(), { fetchImpl: fromEgress })).body).toEqual({
      error: ["EGeneral:Permission denied"],
    });
    const info = await rawKrakenCall(sim, key, "GetApiKeyInfo", next(), { fetchImpl: fromEgress });
    expect(info.body).toMatchObject({
      error: [],
      result: {
        apiKey: key.keyId,
        permissions: ["modify-trades"],
        ipAllowlist: [EGRESS_IP, CONSUMER_HOST_IP],
      },
    });
    expect(JSON.stringify(info.body)).not.toContain(key.secret);
  });

  it("refuses a deleted key with EAPI:Invalid key, and logs the call as made with a removed key", async () => {
    const key = bound();
    expect((await rawKrakenCall(sim, key, "Balance", next(), { fetchImpl: fromEgress })).body).toMatchObject({
      error: [],
    });
    sim.deleteKey("acct-k", key.keyId);
    expect((await rawKrakenCall(sim, key, "Balance", next(), { fetchImpl: fromEgress })).body).toEqual({
      error: ["EAPI:Invalid key"],
    });
    expect(sim.keys("acct-k").find((k) => k.keyId === key.keyId)?.status).toBe("removed");
    const last = sim.requestLog().at(-1);
    expect(last).toMatchObject({ endpoint: "account", keyId: key.keyId, keyState: "removed", status: 200 });
    expect(() => sim.deleteKey("acct-k", key.keyId)).toThrow();
  });

  it("refuses an expired key with EAPI:Invalid key", async () => {
    const key = bound({ validUntil: Math.floor(clock / 1000) + 60 });
    expect((await rawKrakenCall(sim, key, "Balance", next(), { fetchImpl: fromEgress })).body).toMatchObject({
      error: [],
    });
    clock += 61_000;
    expect((await rawKrakenCall(sim, key, "Balance", next(), { fetchImpl: fromEgress })).body).toEqual({
      error: ["EAPI:Invalid key"],
    });
  });

  it("refuses an unknown key and an unknown method", async () => {
    const fake = { keyId: "A".repeat(56), secret: Buffer.alloc(64, 1).toString("base64") };
    expect((await rawKrakenCall(sim, fake, "Balance", next())).body).toEqual({ error: ["EAPI:Invalid key"] });
    const key = bound();
    const res = await rawKrakenCall(sim, key, "AddOrder", next(), { fetchImpl: fromEgress });
    expect(res).toEqual({ status: 404, body: { error: ["EGeneral:Unknown method"] } });
  });

  it("injects faults before authentication: 5xx is EService:Unavailable, 429 the rate limit, 4xx Cloudflare's page", async () => {
    const key = bound();
    sim.setFault("account", { failNext: 1, kind: "5xx" });
    expect(await rawKrakenCall(sim, key, "Balance", next(), { fetchImpl: fromEgress })).toEqual({
      status: 503,
      body: { error: ["EService:Unavailable"] },
    });
    sim.setFault("account", { failNext: 1, kind: "429" });
    expect((await rawKrakenCall(sim, key, "Balance", next(), { fetchImpl: fromEgress })).body).toEqual({
      error: ["EAPI:Rate limit exceeded"],
    });
    sim.setFault("account", { failNext: 1, kind: "4xx" });
    const edge = await rawKrakenCall(sim, key, "Balance", next(), { fetchImpl: fromEgress });
    expect(edge.status).toBe(403);
    expect(typeof edge.body).toBe("string");
    expect((await rawKrakenCall(sim, key, "Balance", next(), { fetchImpl: fromEgress })).body).toMatchObject({
      error: [],
    });
  });

  it("the scripted operator creates and deletes keys over the control plane, as a person in the web UI", async () => {
    const created = await fetch(`${sim.url}/_sim/accounts/acct-k/keys`, {
      method: "POST",
      body: JSON.stringify({ name: "via-http", permissions: ["query-funds"], ipAllowlist: [EGRESS_IP] }),
    });
    expect(created.status).toBe(201);
    const key = (await created.json()) as { keyId: string; secret: string };
    expect((await rawKrakenCall(sim, key, "Balance", next(), { fetchImpl: fromEgress })).body).toMatchObject({
      error: [],
    });
    const deleted = await fetch(`${sim.url}/_sim/accounts/acct-k/delete-key`, {
      method: "POST",
      body: JSON.stringify({ keyId: key.keyId }),
    });
    expect(deleted.status).toBe(204);
    expect((await rawKrakenCall(sim, key, "Balance", next(), { fetchImpl: fromEgress })).body).toEqual({
      error: ["EAPI:Invalid key"],
    });
    const listed = (await (await fetch(`${sim.url}/_sim/accounts/acct-k/keys`)).json()) as {
      keys: unknown[];
    };
    expect(JSON.stringify(listed)).not.toContain(key.secret);
  });
});
