import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ExchangeSimulator,
  startExchangeSimulator,
} from "../../harness/local/exchange/keyshift-sim/server";
import { computeSignature, SIGNATURE_HEADERS } from "../../harness/local/exchange/keyshift-sim/signing";

interface Credential {
  keyId: string;
  secret: string;
}

interface RawCall {
  body?: unknown;
  /** Overrides of what gets signed / sent, to forge bad requests. */
  ts?: number;
  nonce?: string;
  signWith?: string;
  sendBody?: string;
}

interface Answer {
  status: number;
  json: { error?: { code?: string; message?: string } } & Record<string, unknown>;
  headers: Headers;
  elapsedMs: number;
}

function signedHeaders(cred: Credential, method: string, path: string, payload: string, call: RawCall = {}) {
  const timestamp = String(call.ts ?? Date.now());
  const nonce = call.nonce ?? randomBytes(12).toString("hex");
  const sig = computeSignature(call.signWith ?? cred.secret, {
    timestamp,
    nonce,
    method,
    pathWithQuery: path,
    body: payload,
  });
  return {
    [SIGNATURE_HEADERS.keyId]: cred.keyId,
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: sig,
    "content-type": "application/json",
  };
}

async function send(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
) {
  const started = Date.now();
  const res = await fetch(`${url}${path}`, { method, headers, ...(body ? { body } : {}) });
  const text = await res.text();
  return {
    status: res.status,
    json: text ? JSON.parse(text) : {},
    headers: res.headers,
    elapsedMs: Date.now() - started,
  } as Answer;
}

async function call(
  sim: ExchangeSimulator,
  cred: Credential,
  method: string,
  path: string,
  opts: RawCall = {},
) {
  const payload = opts.body === undefined ? "" : JSON.stringify(opts.body);
  const headers = signedHeaders(cred, method, path, payload, opts);
  return send(sim.url, method, path, headers, opts.sendBody ?? payload);
}

function adminOf(created: { adminKeyId: string; adminSecret: string }): Credential {
  return { keyId: created.adminKeyId, secret: created.adminSecret };
}

async function faultPattern(seed: number, calls: number): Promise<number[]> {
  const sim = await startExchangeSimulator({ seed });
  try {
    const admin = adminOf(sim.createAccount("acct-det"));
    sim.setFault("account", { errorRate: 0.3, kind: "5xx" });
    const statuses: number[] = [];
    for (let i = 0; i < calls; i++) statuses.push((await call(sim, admin, "GET", "/v1/account")).status);
    return statuses;
  } finally {
    await sim.close();
  }
}

describe("exchange simulator: keys and limits", () => {
  let sim: ExchangeSimulator;
  beforeAll(async () => {
    sim = await startExchangeSimulator({ seed: 42 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it("refuses a third active key naming the two it holds, and accepts one after a removal", async () => {
    const admin = adminOf(sim.createAccount("acct-limit"));
    const a = await call(sim, admin, "POST", "/v1/keys", { body: { label: "a", permissions: ["read"] } });
    const b = await call(sim, admin, "POST", "/v1/keys", {
      body: { label: "b", permissions: ["read", "trade"] },
    });

    const third = await call(sim, admin, "POST", "/v1/keys", { body: { label: "c", permissions: ["read"] } });

    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.json.keyId).toMatch(/^k_[0-9a-f]{16}$/);
    expect(String(a.json.secret).length).toBeGreaterThanOrEqual(43);
    expect(third.status).toBe(409);
    expect(third.json.error?.code).toBe("KEY_LIMIT_EXCEEDED");
    expect(third.json.error?.message).toBe(
      `account acct-limit already has 2 active keys: ${a.json.keyId}, ${b.json.keyId}`,
    );

    const removed = await call(sim, admin, "DELETE", `/v1/keys/${a.json.keyId}`);
    const retried = await call(sim, admin, "POST", "/v1/keys", {
      body: { label: "c", permissions: ["read"] },
    });
    expect(removed.status).toBe(200);
    expect(retried.status).toBe(201);
  });

  it("does not count the admin key toward the limit nor list it", async () => {
    const admin = adminOf(sim.createAccount("acct-one", { maxActiveKeys: 1 }));

    const first = await call(sim, admin, "POST", "/v1/keys", {
      body: { label: "only", permissions: ["trade"] },
    });
    const second = await call(sim, admin, "POST", "/v1/keys", {
      body: { label: "two", permissions: ["trade"] },
    });
    const list = await call(sim, admin, "GET", "/v1/keys");

    expect(first.status).toBe(201);
    expect(second.status).toBe(409);
    expect(second.json.error?.message).toBe(
      `account acct-one already has 1 active keys: ${first.json.keyId}`,
    );
    expect(list.json).toEqual({
      account: "acct-one",
      keys: [
        {
          keyId: first.json.keyId,
          label: "only",
          permissions: ["trade"],
          status: "active",
          createdAt: first.json.createdAt,
        },
      ],
      maxActiveKeys: 1,
    });
  });

  it("counts only active keys: a disabled key frees a slot", async () => {
    const admin = adminOf(sim.createAccount("acct-disabled", { maxActiveKeys: 1 }));
    const old = sim.seedKey("acct-disabled", { label: "old", permissions: ["read"] });
    await call(sim, admin, "POST", `/v1/keys/${old.keyId}/disable`);

    const next = await call(sim, admin, "POST", "/v1/keys", {
      body: { label: "new", permissions: ["read"] },
    });

    expect(next.status).toBe(201);
    expect(sim.keys("acct-disabled").map((k) => [k.label, k.status])).toEqual([
      ["old", "disabled"],
      ["new", "active"],
    ]);
  });

  it("rejects permissions outside the catalogue and key management with a trading key", async () => {
    const admin = adminOf(sim.createAccount("acct-perm"));
    const trading = sim.seedKey("acct-perm", { label: "t", permissions: ["read"] });

    const badPerm = await call(sim, admin, "POST", "/v1/keys", {
      body: { label: "x", permissions: ["read", "sudo"] },
    });
    const notAdmin = await call(sim, trading, "POST", "/v1/keys", {
      body: { label: "x", permissions: ["read"] },
    });

    expect(badPerm.status).toBe(400);
    expect(badPerm.json.error?.code).toBe("INVALID_PERMISSION");
    expect(notAdmin.status).toBe(403);
    expect(sim.keys("acct-perm")).toHaveLength(1);
  });

  it("answers 404 KEY_NOT_FOUND for removing an unknown or already removed key", async () => {
    const admin = adminOf(sim.createAccount("acct-404"));
    const key = sim.seedKey("acct-404", { label: "t", permissions: ["read"] });
    await call(sim, admin, "DELETE", `/v1/keys/${key.keyId}`);

    const again = await call(sim, admin, "DELETE", `/v1/keys/${key.keyId}`);
    const unknown = await call(sim, admin, "DELETE", "/v1/keys/k_0000000000000000");

    expect(again.status).toBe(404);
    expect(again.json.error?.code).toBe("KEY_NOT_FOUND");
    expect(unknown.status).toBe(404);
    expect(sim.keys("acct-404")[0]).toMatchObject({ keyId: key.keyId, status: "removed" });
    expect(sim.keys("acct-404")[0]?.removedAt).toBeTypeOf("string");
  });
});

describe("exchange simulator: authentication", () => {
  let sim: ExchangeSimulator;
  let key: Credential;
  let admin: Credential;
  beforeAll(async () => {
    sim = await startExchangeSimulator({ seed: 1, clockSkewToleranceMs: 30_000 });
    admin = adminOf(sim.createAccount("acct-auth", { maxActiveKeys: 5 }));
    key = sim.seedKey("acct-auth", { label: "trader", permissions: ["read", "trade"] });
  });
  afterAll(async () => {
    await sim.close();
  });

  it("accepts a correctly signed call and tells who signed it", async () => {
    const answer = await call(sim, key, "GET", "/v1/account");

    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ account: "acct-auth", keyId: key.keyId, permissions: ["read", "trade"] });
  });

  it.each([
    ["unknown key", { keyId: "k_ffffffffffffffff" }, {}, "UNKNOWN_KEY"],
    ["bad signature", {}, { signWith: "not-the-secret" }, "BAD_SIGNATURE"],
    ["stale timestamp", {}, { ts: Date.now() - 31_000 }, "TIMESTAMP_OUT_OF_WINDOW"],
    ["future timestamp", {}, { ts: Date.now() + 31_000 }, "TIMESTAMP_OUT_OF_WINDOW"],
  ])("refuses %s with 401", async (_name, credOverride, callOverride, code) => {
    const answer = await call(
      sim,
      { ...key, ...credOverride },
      "GET",
      "/v1/account",
      callOverride as RawCall,
    );

    expect(answer.status).toBe(401);
    expect(answer.json.error?.code).toBe(code);
  });

  it("refuses a body other than the one signed, and creates nothing", async () => {
    const signed = { label: "signed", permissions: ["read"] };
    const tampered = JSON.stringify({ label: "tampered", permissions: ["read", "withdraw"] });

    const answer = await call(sim, admin, "POST", "/v1/keys", { body: signed, sendBody: tampered });

    expect(answer.status).toBe(401);
    expect(answer.json.error?.code).toBe("BAD_SIGNATURE");
    expect(sim.keys("acct-auth").map((k) => k.label)).toEqual(["trader"]);
  });

  it("refuses a replayed nonce", async () => {
    const headers = signedHeaders(key, "GET", "/v1/account", "");

    const first = await send(sim.url, "GET", "/v1/account", headers);
    const replay = await send(sim.url, "GET", "/v1/account", headers);

    expect(first.status).toBe(200);
    expect(replay.status).toBe(401);
    expect(replay.json.error?.code).toBe("NONCE_REPLAYED");
  });

  it("refuses an unsigned call", async () => {
    const answer = await send(sim.url, "GET", "/v1/account", {});

    expect(answer.status).toBe(401);
    expect(answer.json.error?.code).toBe("MISSING_SIGNATURE");
  });

  it("refuses disabled and removed keys and logs each call with the key's state", async () => {
    const admin = adminOf(sim.createAccount("acct-states"));
    const victim = sim.seedKey("acct-states", { label: "old", permissions: ["trade"] });
    await call(sim, admin, "POST", `/v1/keys/${victim.keyId}/disable`);
    const whileDisabled = await call(sim, victim, "GET", "/v1/account");
    await call(sim, admin, "DELETE", `/v1/keys/${victim.keyId}`);

    const whileRemoved = await call(sim, victim, "GET", "/v1/account");

    expect(whileDisabled.status).toBe(401);
    expect(whileDisabled.json.error?.code).toBe("KEY_DISABLED");
    expect(whileRemoved.status).toBe(401);
    expect(whileRemoved.json.error?.code).toBe("KEY_REMOVED");
    const byVictim = sim.requestLog().filter((entry) => entry.keyId === victim.keyId);
    expect(byVictim.map((e) => [e.endpoint, e.keyState, e.status])).toEqual([
      ["account", "disabled", 401],
      ["account", "removed", 401],
    ]);
    expect(byVictim[0]?.account).toBe("acct-states");
    const adminCalls = sim.requestLog().filter((entry) => entry.keyId === admin.keyId);
    expect(adminCalls.map((e) => [e.endpoint, e.keyState, e.status])).toEqual([
      ["disableKey", "admin", 200],
      ["removeKey", "admin", 200],
    ]);
  });

  it("never puts a secret in an error body or the request log", async () => {
    const secretAsKeyId = await call(sim, { keyId: key.secret, secret: key.secret }, "GET", "/v1/account");

    expect(secretAsKeyId.status).toBe(401);
    expect(JSON.stringify(secretAsKeyId.json)).not.toContain(key.secret);
    expect(JSON.stringify(sim.requestLog())).not.toContain(key.secret);
  });
});

describe("exchange simulator: fault injection", () => {
  let sim: ExchangeSimulator;
  let admin: Credential;
  beforeAll(async () => {
    sim = await startExchangeSimulator({ seed: 7, timeoutMs: 300 });
    admin = adminOf(sim.createAccount("acct-faults", { maxActiveKeys: 10 }));
  });
  afterAll(async () => {
    await sim.close();
  });

  it("gives the same fault pattern for the same seed and a different one for another seed", async () => {
    const first = await faultPattern(11, 200);
    const again = await faultPattern(11, 200);
    const other = await faultPattern(12, 200);

    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    const failures = first.filter((status) => status === 503).length;
    expect(failures).toBeGreaterThan(30);
    expect(failures).toBeLessThan(90);
    expect(first.every((status) => status === 200 || status === 503)).toBe(true);
  });

  it("fails exactly the next K calls with failNext, then lets calls through", async () => {
    sim.setFault("account", { failNext: 3 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await call(sim, admin, "GET", "/v1/account")).status);

      expect(statuses).toEqual([503, 503, 503, 200, 200]);
    } finally {
      sim.clearFaults();
    }
  });

  it.each([
    ["4xx", 400, "INJECTED"],
    ["5xx", 503, "INJECTED_UNAVAILABLE"],
    ["429", 429, "RATE_LIMITED"],
  ] as const)("answers a %s fault with HTTP %i", async (kind, status, code) => {
    sim.setFault("listKeys", { failNext: 1, kind });
    try {
      const answer = await call(sim, admin, "GET", "/v1/keys");

      expect(answer.status).toBe(status);
      expect(answer.json.error?.code).toBe(code);
      if (kind === "429") expect(answer.headers.get("retry-after")).toBe("1");
      expect(sim.requestLog().at(-1)).toMatchObject({ endpoint: "listKeys", status, fault: kind });
    } finally {
      sim.clearFaults();
    }
  });

  it("holds a timeout fault for timeoutMs and drops the connection without answering", async () => {
    sim.setFault("listKeys", { failNext: 1, kind: "timeout" });
    const started = Date.now();
    try {
      const outcome = call(sim, admin, "GET", "/v1/keys");

      await expect(outcome).rejects.toThrow(/fetch failed/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(sim.requestLog().at(-1)).toMatchObject({ endpoint: "listKeys", status: 0, fault: "timeout" });
    } finally {
      sim.clearFaults();
    }
  });

  it("adds latencyMs to every call", async () => {
    sim.setFault("account", { latencyMs: 200 });
    try {
      const slow = await call(sim, admin, "GET", "/v1/account");
      sim.clearFaults();
      const fast = await call(sim, admin, "GET", "/v1/account");

      expect(slow.status).toBe(200);
      expect(slow.elapsedMs).toBeGreaterThanOrEqual(195);
      expect(fast.elapsedMs).toBeLessThan(150);
    } finally {
      sim.clearFaults();
    }
  });

  it("lets a faulted call take no effect", async () => {
    const victim = sim.seedKey("acct-faults", { label: "victim", permissions: ["read"] });
    const before = sim.keys("acct-faults").length;
    sim.setFault("removeKey", { failNext: 1, kind: "5xx" });
    sim.setFault("disableKey", { failNext: 1, kind: "4xx" });
    sim.setFault("createKey", { failNext: 1, kind: "429" });
    try {
      const remove = await call(sim, admin, "DELETE", `/v1/keys/${victim.keyId}`);
      const disable = await call(sim, admin, "POST", `/v1/keys/${victim.keyId}/disable`);
      const create = await call(sim, admin, "POST", "/v1/keys", {
        body: { label: "n", permissions: ["read"] },
      });

      expect([remove.status, disable.status, create.status]).toEqual([503, 400, 429]);
      expect(sim.keys("acct-faults").find((k) => k.keyId === victim.keyId)?.status).toBe("active");
      expect(sim.keys("acct-faults")).toHaveLength(before);
      const retried = await call(sim, admin, "DELETE", `/v1/keys/${victim.keyId}`);
      expect(retried.status).toBe(200);
    } finally {
      sim.clearFaults();
    }
  });

  it("applies the effect but loses the answer with 5xx-after-effect", async () => {
    const victim = sim.seedKey("acct-faults", { label: "half-way", permissions: ["read"] });
    sim.setFault("removeKey", { failNext: 1, kind: "5xx-after-effect" });
    try {
      const lost = await call(sim, admin, "DELETE", `/v1/keys/${victim.keyId}`);
      const retry = await call(sim, admin, "DELETE", `/v1/keys/${victim.keyId}`);

      expect(lost.status).toBe(503);
      expect(sim.keys("acct-faults").find((k) => k.keyId === victim.keyId)?.status).toBe("removed");
      expect(retry.status).toBe(404);
    } finally {
      sim.clearFaults();
    }
  });
});

describe("exchange simulator: HTTP control plane", () => {
  let sim: ExchangeSimulator;
  beforeAll(async () => {
    sim = await startExchangeSimulator({ seed: 3 });
  });
  afterAll(async () => {
    await sim.close();
  });

  const control = (method: string, path: string, body?: unknown) =>
    send(
      sim.url,
      method,
      path,
      { "content-type": "application/json" },
      body ? JSON.stringify(body) : undefined,
    );

  it("creates an account whose admin credential manages keys", async () => {
    const created = await control("POST", "/_sim/accounts", { account: "acct-cp", maxActiveKeys: 3 });
    const admin = { keyId: String(created.json.adminKeyId), secret: String(created.json.adminSecret) };

    const list = await call(sim, admin, "GET", "/v1/keys");

    expect(created.status).toBe(201);
    expect(list.status).toBe(200);
    expect(list.json).toEqual({ account: "acct-cp", keys: [], maxActiveKeys: 3 });
    expect((await control("POST", "/_sim/accounts", { account: "acct-cp" })).status).toBe(409);
  });

  it("sets and clears faults, lists requests and keys", async () => {
    const created = await control("POST", "/_sim/accounts", { account: "acct-cp2" });
    const admin = { keyId: String(created.json.adminKeyId), secret: String(created.json.adminSecret) };
    const seeded = await control("POST", "/_sim/accounts/acct-cp2/keys", {
      label: "s",
      permissions: ["read"],
    });

    const setFault = await control("POST", "/_sim/faults", {
      endpoint: "listKeys",
      failNext: 1,
      kind: "5xx",
    });
    const faulted = await call(sim, admin, "GET", "/v1/keys");
    await control("POST", "/_sim/faults", { endpoint: "listKeys", errorRate: 1 });
    const cleared = await control("DELETE", "/_sim/faults");
    const healthy = await call(sim, admin, "GET", "/v1/keys");
    const requests = await control("GET", "/_sim/requests");
    const keys = await control("GET", "/_sim/accounts/acct-cp2/keys");
    const badSpec = await control("POST", "/_sim/faults", { endpoint: "listKeys", errorRate: 2 });
    const badEndpoint = await control("POST", "/_sim/faults", { endpoint: "nope" });

    expect(seeded.status).toBe(201);
    expect([setFault.status, cleared.status]).toEqual([204, 204]);
    expect([faulted.status, healthy.status]).toEqual([503, 200]);
    const log = requests.json.requests as Array<{ endpoint: string; status: number; keyId?: string }>;
    expect(log.filter((e) => e.keyId === admin.keyId).map((e) => e.status)).toEqual([503, 200]);
    expect(keys.json.keys).toEqual([expect.objectContaining({ keyId: seeded.json.keyId, status: "active" })]);
    expect(JSON.stringify(keys.json)).not.toContain(String(seeded.json.secret));
    expect([badSpec.status, badEndpoint.status]).toEqual([400, 400]);
  });
});
