import { describe, expect, it } from "vitest";
import { permissionsFromScope, scopeFromPermissions } from "../../src/adapters/exchange/deribit/scope";
import {
  deribitAuthorizationHeader,
  deribitSignature,
  deribitSignatureMatches,
  parseDeribitAuthorization,
} from "../../src/adapters/exchange/deribit/signing";
import { base32Decode, hotp, InvalidTotpSeedError, totp } from "../../src/adapters/exchange/deribit/totp";

describe("TOTP (RFC 6238, Appendix B test vectors)", () => {
  // RFC 6238 Appendix B (8 digits, X = 30, T0 = 0); per errata 2866 each algorithm has its own seed.
  const seeds = {
    sha1: Buffer.from("12345678901234567890", "ascii"),
    sha256: Buffer.from("12345678901234567890123456789012", "ascii"),
    sha512: Buffer.from("1234567890123456789012345678901234567890123456789012345678901234", "ascii"),
  };
  const vectors: Array<[number, string, string, string]> = [
    [59, "94287082", "46119246", "90693936"],
    [1111111109, "07081804", "68084774", "25091201"],
    [1111111111, "14050471", "67062674", "99943326"],
    [1234567890, "89005924", "91819424", "93441116"],
    [2000000000, "69279037", "90698825", "38618901"],
    [20000000000, "65353130", "77737706", "47863826"],
  ];

  it.each(vectors)("at %i s: SHA1 %s, SHA256 %s, SHA512 %s", (seconds, sha1, sha256, sha512) => {
    const at = seconds * 1000;
    expect(totp(seeds.sha1, at, { digits: 8, algorithm: "sha1" })).toBe(sha1);
    expect(totp(seeds.sha256, at, { digits: 8, algorithm: "sha256" })).toBe(sha256);
    expect(totp(seeds.sha512, at, { digits: 8, algorithm: "sha512" })).toBe(sha512);
  });

  it("gives Deribit's 6-digit codes: the RFC 4226 Appendix D HOTP values, leading zeros kept", () => {
    const expected = [
      "755224",
      "287082",
      "359152",
      "969429",
      "338314",
      "254676",
      "287922",
      "162583",
      "399871",
      "520489",
    ];
    expect(expected.map((_, counter) => hotp(seeds.sha1, counter, 6))).toEqual(expected);
    // 1111111109 s is step 0x23523EC: the 8-digit 07081804 truncated to six keeps its leading zero.
    expect(totp(seeds.sha1, 1111111109_000)).toBe("081804");
  });

  it("reads base32 seeds as authenticator apps show them (RFC 4648 vectors, case, spaces, padding)", () => {
    expect(base32Decode("MZXW6YTBOI======").toString()).toBe("foobar");
    expect(base32Decode("mzxw 6ytb oi").toString()).toBe("foobar");
    expect(base32Decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")).toEqual(seeds.sha1);
  });

  it("refuses a seed that is not base32 without echoing it", () => {
    const seed = "NOT-BASE32-1890!";
    const err = (() => {
      try {
        base32Decode(seed);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(InvalidTotpSeedError);
    expect(err?.message).not.toContain("1890");
  });
});

describe("deri-hmac-sha256 signing", () => {
  // Expected values computed with Deribit's documented shell recipe:
  //   echo -ne "${Timestamp}\n${Nonce}\n${HttpMethod}\n${URI}\n${Body}\n" | openssl sha256 -r -hmac "$ClientSecret"
  const example = { timestamp: "1554883365000", nonce: "fdbmmz79" };

  it("signs a GET as Deribit's documentation does (URI with its query, empty body)", () => {
    const parts = {
      ...example,
      method: "GET",
      uri: "/api/v2/private/get_account_summary?currency=BTC",
      body: "",
    };
    expect(deribitSignature("ABCD", parts)).toBe(
      "69e848f473602b40c97cf59a32236fcf1b6f3ef922640e1067061895ea7df430",
    );
  });

  it("signs a JSON-RPC POST over its exact body", () => {
    const body = '{"jsonrpc":"2.0","id":7,"method":"private/list_api_keys","params":{}}';
    const parts = { ...example, method: "post", uri: "/api/v2/private/list_api_keys", body };
    expect(deribitSignature("ABCD", parts)).toBe(
      "62854d7ae470ca9cd49556d22949494c4bedf6c2e52e861c32c956eee19ef4d0",
    );
    expect(deribitSignatureMatches("ABCD", parts, deribitSignature("ABCD", parts))).toBe(true);
    expect(
      deribitSignatureMatches("ABCD", { ...parts, body: `${body} ` }, deribitSignature("ABCD", parts)),
    ).toBe(false);
  });

  it("writes and reads the Authorization header, in any field order and with the spaces the docs show", () => {
    const header = deribitAuthorizationHeader(
      { clientId: "AAAAAAAAAAA", clientSecret: "ABCD" },
      {
        method: "GET",
        uri: "/api/v2/private/get_account_summary?currency=BTC",
        body: "",
        nowMs: 1554883365000,
        nonce: "fdbmmz79",
      },
    );
    expect(header).toBe(
      "deri-hmac-sha256 id=AAAAAAAAAAA,ts=1554883365000,sig=69e848f473602b40c97cf59a32236fcf1b6f3ef922640e1067061895ea7df430,nonce=fdbmmz79",
    );
    expect(parseDeribitAuthorization("deri-hmac-sha256 id=A, ts=1, nonce=n, sig=s")).toEqual({
      clientId: "A",
      timestamp: "1",
      signature: "s",
      nonce: "n",
    });
    expect(parseDeribitAuthorization("Bearer abc")).toBeUndefined();
    expect(parseDeribitAuthorization("deri-hmac-sha256 id=A,ts=1,sig=s")).toBeUndefined();
    expect(parseDeribitAuthorization("deri-hmac-sha256 id=A,id=B,ts=1,sig=s,nonce=n")).toBeUndefined();
  });
});

describe("max_scope ↔ permissions", () => {
  it("normalizes a listed max_scope to its sorted tokens, verbatim", () => {
    expect(permissionsFromScope("trade:read_write  account:read wallet:none")).toEqual([
      "account:read",
      "trade:read_write",
      "wallet:none",
    ]);
  });

  it("writes back exactly the same tokens", () => {
    expect(scopeFromPermissions(["wallet:none", "account:read", "block_trade:read"])).toEqual({
      scope: "account:read block_trade:read wallet:none",
    });
  });

  it.each([
    [[], "no permissions"],
    [["trade"], "not a Deribit scope token"],
    [["trade:admin"], "not a Deribit scope token"],
    [["trade:read trade:read_write"], "not a Deribit scope token"],
    [["trade:read", "trade:read_write"], "appears twice"],
  ])("refuses %j rather than guess (%s)", (permissions, problem) => {
    const result = scopeFromPermissions(permissions);
    expect("problem" in result && result.problem).toContain(problem);
  });
});
