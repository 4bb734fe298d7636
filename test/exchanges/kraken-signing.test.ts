import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  isBase64Secret,
  KRAKEN_HEADERS,
  krakenPostData,
  krakenSignature,
  krakenSignatureMatches,
  krakenSignedRequest,
  MonotonicNonce,
} from "../../src/adapters/exchange/kraken";

/**
 * Kraken's own worked example, "Spot REST Authentication" guide
 * (docs.kraken.com/api/docs/guides/spot-rest-auth, "Examples"): a throwaway key Kraken printed for
 * exactly this check, and the API-Sign it says a correct implementation produces.
 */
const PUBLISHED = {
  secret: "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
  nonce: "1616492376594",
  postData: "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
  uriPath: "/0/private/AddOrder",
  apiSign: "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==",
};

/** HMAC-SHA512 written out from RFC 2104 on the bare hash, so the check does not share `createHmac`. */
function hmacSha512(key: Buffer, message: Buffer): Buffer {
  const block = 128;
  const k = key.length > block ? createHash("sha512").update(key).digest() : key;
  const padded = Buffer.concat([k, Buffer.alloc(block - k.length)]);
  const ipad = Buffer.from(padded.map((b) => b ^ 0x36));
  const opad = Buffer.from(padded.map((b) => b ^ 0x5c));
  const inner = createHash("sha512")
    .update(Buffer.concat([ipad, message]))
    .digest();
  return createHash("sha512")
    .update(Buffer.concat([opad, inner]))
    .digest();
}

function independentSign(secret: string, uriPath: string, nonce: string, postData: string): string {
  const digest = createHash("sha256").update(`${nonce}${postData}`).digest();
  return hmacSha512(Buffer.from(secret, "base64"), Buffer.concat([Buffer.from(uriPath), digest])).toString(
    "base64",
  );
}

describe("Kraken signing", () => {
  it("reproduces the API-Sign of Kraken's published example", () => {
    const { secret, nonce, postData, uriPath, apiSign } = PUBLISHED;
    expect(krakenSignature(secret, { uriPath, nonce, postData })).toBe(apiSign);
  });

  it("the independent HMAC reproduces the published example too (so it can judge other inputs)", () => {
    const { secret, nonce, postData, uriPath, apiSign } = PUBLISHED;
    expect(independentSign(secret, uriPath, nonce, postData)).toBe(apiSign);
  });

  it("agrees with the independent computation on a Balance call with a fresh secret", () => {
    const secret = randomBytes(64).toString("base64");
    const body = krakenPostData("1700000000123");
    expect(body).toBe("nonce=1700000000123");
    expect(
      krakenSignature(secret, { uriPath: "/0/private/Balance", nonce: "1700000000123", postData: body }),
    ).toBe(independentSign(secret, "/0/private/Balance", "1700000000123", body));
  });

  it("covers the path, the nonce and the body: changing any one changes the signature", () => {
    const { secret, nonce, postData, uriPath, apiSign } = PUBLISHED;
    expect(krakenSignature(secret, { uriPath: "/0/private/Balance", nonce, postData })).not.toBe(apiSign);
    expect(krakenSignature(secret, { uriPath, nonce: "1616492376595", postData })).not.toBe(apiSign);
    expect(krakenSignature(secret, { uriPath, nonce, postData: postData.replace("1.25", "1.26") })).not.toBe(
      apiSign,
    );
  });

  it("matches in constant time and refuses a near miss", () => {
    const { secret, nonce, postData, uriPath, apiSign } = PUBLISHED;
    const parts = { uriPath, nonce, postData };
    expect(krakenSignatureMatches(secret, parts, apiSign)).toBe(true);
    expect(krakenSignatureMatches(secret, parts, `${apiSign.slice(0, -3)}A==`)).toBe(false);
    expect(krakenSignatureMatches(secret, parts, "")).toBe(false);
  });

  it("builds the headers and the form body that was signed", () => {
    const secret = randomBytes(64).toString("base64");
    const { headers, body } = krakenSignedRequest(
      { apiKey: "K".repeat(56), secret },
      "/0/private/Balance",
      "42",
      {
        asset: "XBT",
      },
    );
    expect(body).toBe("nonce=42&asset=XBT");
    expect(headers[KRAKEN_HEADERS.apiKey]).toBe("K".repeat(56));
    expect(headers[KRAKEN_HEADERS.signature]).toBe(independentSign(secret, "/0/private/Balance", "42", body));
    expect(headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(JSON.stringify(headers)).not.toContain(secret);
  });

  it("takes only standard base64 as a secret", () => {
    expect(isBase64Secret(PUBLISHED.secret)).toBe(true);
    expect(isBase64Secret("not base64!")).toBe(false);
    expect(isBase64Secret("")).toBe(false);
  });
});

describe("MonotonicNonce", () => {
  it("follows the millisecond clock and never repeats or goes back", () => {
    let now = 1_700_000_000_000;
    const nonce = new MonotonicNonce(() => now);
    const a = Number(nonce.next());
    const b = Number(nonce.next());
    now -= 5_000; // the clock steps back (NTP)
    const c = Number(nonce.next());
    now += 10_000;
    const d = Number(nonce.next());
    expect(a).toBe(1_700_000_000_000);
    expect(b).toBe(a + 1);
    expect(c).toBe(b + 1);
    expect(d).toBe(1_700_000_005_000);
  });
});
