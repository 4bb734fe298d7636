import { describe, expect, it } from "vitest";
import {
  GateExchange,
  gateSignature,
  gateSignaturePayload,
  gateSignedHeaders,
  gateTimestamp,
  parseGateAdminSecret,
} from "../../src/adapters/exchange/gate";
import {
  ExchangeIpRefusedError,
  ExchangePermanentError,
  ExchangeRetryableError,
  RotationStateError,
} from "../../src/core/errors";
import { failure, signByHand } from "./gate-helpers";

const SECRET = "gate-test-secret";
const BODY = '{"name":"ks_0123456789ab"}';
/** SHA-512 of the empty string: what a request without a body hashes. */
const EMPTY_SHA512 =
  "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

describe("Gate APIv4 signing", () => {
  it("matches a worked example computed from the documented rule (Python hashlib/hmac, as Gate's SDK)", () => {
    // python3: hmac.new(secret, "POST\n/api/v4/sub_accounts/123/keys\n\n" + sha512(body).hexdigest()
    //          + "\n1765152000", sha512).hexdigest()
    expect(
      gateSignature(SECRET, {
        method: "POST",
        path: "/api/v4/sub_accounts/123/keys",
        query: "",
        body: BODY,
        timestamp: "1765152000",
      }),
    ).toBe(
      "77010fc4dd1a151ffee3450430d46f94d7815ba822ed7cf50699dfe5a0ebd0daf8fd7090b3012598ce5616905eb639b81097797cf5cdabf2008a1a9dc925a246",
    );
    expect(
      gateSignature(SECRET, {
        method: "GET",
        path: "/api/v4/sub_accounts/123/keys",
        query: "",
        body: "",
        timestamp: "1765152000",
      }),
    ).toBe(
      "43c4d911681cbff34e8f1e39fcde3b5784b683986c7f81ef35bba84169a4fbb19308389577a890229772c226c3a12695d806aabca767e97d59bc25b04a0ca059",
    );
  });

  it("hashes an absent body as the empty string and joins the five parts with newlines", () => {
    const payload = gateSignaturePayload({
      method: "DELETE",
      path: "/api/v4/sub_accounts/1/keys/k",
      query: "",
      body: "",
      timestamp: "1",
    });
    expect(payload).toBe(`DELETE\n/api/v4/sub_accounts/1/keys/k\n\n${EMPTY_SHA512}\n1`);
  });

  it("sends KEY, Timestamp (whole seconds) and SIGN, and the signature is the independent one", () => {
    const nowMs = Date.parse("2026-03-01T12:34:56.789Z");
    const headers = gateSignedHeaders(
      { apiKey: "k1", apiSecret: SECRET },
      { method: "POST", path: "/api/v4/x", query: "", body: BODY },
      nowMs,
    );
    expect(headers.timestamp).toBe(gateTimestamp(nowMs));
    expect(headers.timestamp).toBe("1772368496");
    expect(headers.key).toBe("k1");
    expect(headers.sign).toBe(signByHand(SECRET, "POST", "/api/v4/x", "", BODY, "1772368496"));
    expect(JSON.stringify(headers)).not.toContain(SECRET);
  });
});

describe("Gate admin secret", () => {
  const base = { exchange: "gate", apiKey: "a".repeat(32), apiSecret: "s".repeat(64), userId: 12345678 };

  it("reads the main key, the sub-account's user_id (number or digits) and the defaults", () => {
    const cfg = parseGateAdminSecret(base, "keyshift/admin/g");
    expect(cfg).toMatchObject({ endpoint: "https://api.gateio.ws", userId: "12345678", maxKeys: 20 });
    expect(parseGateAdminSecret({ ...base, userId: "42", mode: 2 }, "x")).toMatchObject({
      userId: "42",
      mode: 2,
    });
  });

  it("names the bad field, never its value", () => {
    for (const bad of [
      { ...base, userId: "sub-1" },
      { ...base, apiSecret: "has space" },
      { ...base, endpoint: "http://api.gateio.ws" },
      { ...base, endpoint: "https://api.gateio.ws/api/v4" },
      { ...base, mode: 3 },
      { ...base, maxKeys: 0 },
    ]) {
      let caught: unknown;
      try {
        parseGateAdminSecret(bad, "keyshift/admin/g");
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(RotationStateError);
      expect(String((caught as Error).message)).not.toContain("s".repeat(64));
      expect(String((caught as Error).message)).not.toContain("has space");
    }
  });
});

describe("Gate error mapping", () => {
  const cfg = parseGateAdminSecret(
    { exchange: "gate", endpoint: "http://127.0.0.1:9", apiKey: "main", apiSecret: SECRET, userId: "7" },
    "t",
  );
  const answering = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new GateExchange({
      credentials: async () => cfg,
      fetchImpl: (async () =>
        new Response(typeof body === "string" ? body : JSON.stringify(body), {
          status,
          headers,
        })) as typeof fetch,
    });

  it.each([
    [401, "INVALID_KEY", ExchangePermanentError],
    [401, "INVALID_SIGNATURE", ExchangePermanentError],
    [401, "REQUEST_EXPIRED", ExchangePermanentError],
    [401, "MISSING_REQUIRED_HEADER", ExchangePermanentError],
    [403, "FORBIDDEN", ExchangePermanentError],
    [403, "READ_ONLY", ExchangePermanentError],
    [404, "SUB_ACCOUNT_NOT_FOUND", ExchangePermanentError],
    [500, "SERVER_ERROR", ExchangeRetryableError],
    [503, "TOO_BUSY", ExchangeRetryableError],
    [400, "SOMETHING_NEW", ExchangePermanentError],
  ])("HTTP %i %s → %s, label kept", async (status, label, klass) => {
    const err = await failure(answering(status, { label, message: "m" }).listKeys("acct"));
    expect(err).toBeInstanceOf(klass);
    expect(err.exchangeCode).toBe(label);
    expect(err).not.toBeInstanceOf(ExchangeIpRefusedError);
  });

  it("IP_FORBIDDEN is the IP refusal, TOO_MANY_REQUESTS a retryable one that keeps retry-after", async () => {
    expect(
      await failure(answering(401, { label: "IP_FORBIDDEN", message: "" }).listKeys("a")),
    ).toBeInstanceOf(ExchangeIpRefusedError);
    const limited = await failure(
      answering(429, { label: "TOO_MANY_REQUESTS", message: "" }, { "retry-after": "2" }).listKeys("a"),
    );
    expect(limited).toBeInstanceOf(ExchangeRetryableError);
    expect(limited.retryAfterSeconds).toBe(2);
  });

  it("an answer without Gate's body is never Gate's: a proxy's 404 is permanent, a 502 page retryable", async () => {
    const proxy = await failure(answering(404, "<html>not found</html>").removeKey("a", "k"));
    expect(proxy).toBeInstanceOf(ExchangePermanentError);
    expect(proxy.message).toMatch(/proxy/);
    expect(await failure(answering(502, "<html>bad gateway</html>").listKeys("a"))).toBeInstanceOf(
      ExchangeRetryableError,
    );
  });

  it("a 200 that is not the documented listing is a failure, never an empty account", async () => {
    const err = await failure(answering(200, "<html>login</html>").listKeys("a"));
    expect(err).toBeInstanceOf(ExchangePermanentError);
  });

  it("never puts the secret Gate echoes into a message", async () => {
    const err = await failure(
      answering(400, { label: "BAD_REQUEST", message: `bad ${SECRET}` }).listKeys("a"),
    );
    expect(err.message).not.toContain(SECRET);
  });
});
