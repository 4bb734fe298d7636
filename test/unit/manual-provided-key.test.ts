import { describe, expect, it } from "vitest";
import { ManualTaskRefusedError } from "../../src/core/manual/errors";
import { mismatchesOf, parseProvidedKey } from "../../src/core/manual/provided-key";
import type { KeyRequest } from "../../src/core/model";
import type { ExchangeKey } from "../../src/core/ports";

const SECRET = "c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1uZXZlci1hcHBlYXI=";

describe("a key a person hands over", () => {
  it("is read as {keyId, secret} or Kraken's {apiKey, privateKey}", () => {
    expect(parseProvidedKey(JSON.stringify({ keyId: "K1", secret: SECRET }))).toEqual({
      keyId: "K1",
      secret: SECRET,
    });
    expect(parseProvidedKey(JSON.stringify({ apiKey: "K1", privateKey: SECRET }))).toEqual({
      keyId: "K1",
      secret: SECRET,
    });
  });

  it.each([
    ["not JSON", `${SECRET} trailing`],
    ["an array", JSON.stringify([SECRET])],
    ["no secret", JSON.stringify({ keyId: "K1" })],
    ["an empty secret", JSON.stringify({ keyId: "K1", secret: " " })],
    ["an unexpected field named by the value", JSON.stringify({ keyId: "K1", secret: "s", [SECRET]: 1 })],
  ])("refuses %s without showing any of it", (_why, text) => {
    let error: unknown;
    try {
      parseProvidedKey(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ManualTaskRefusedError);
    expect((error as Error).message).not.toContain(SECRET);
    expect((error as Error).message).not.toContain(SECRET.slice(0, 12));
  });
});

describe("is it the key asked for", () => {
  const request: KeyRequest = {
    label: "ks_abc",
    permissions: ["modify-trades", "query-funds"],
    ipAllowlist: ["127.0.0.2", "127.0.0.3"],
    egressIps: ["127.0.0.2"],
  };
  const key = (over: Partial<ExchangeKey> = {}): ExchangeKey => ({
    keyId: "K",
    label: "ks_abc",
    permissions: ["query-funds", "modify-trades"],
    ipAllowlist: ["127.0.0.3", "127.0.0.2"],
    status: "active",
    createdAt: "2030-01-01T00:00:00.000Z",
    ...over,
  });

  it("exactly the request: no reason", () => {
    expect(mismatchesOf(key(), request)).toEqual([]);
  });

  it.each([
    ["a wrong name", { label: "trading" }, /its name is "trading", not "ks_abc"/],
    [
      "a broader scope",
      { permissions: ["query-funds", "modify-trades", "withdraw-funds"] },
      /permissions the replaced key does not: withdraw-funds/,
    ],
    [
      "a narrower scope",
      { permissions: ["query-funds"] },
      /lacks permissions the consumers use: modify-trades/,
    ],
    ["no binding where one was asked", { ipAllowlist: [] }, /callable from any address/],
    ["a wider binding", { ipAllowlist: ["127.0.0.2", "127.0.0.3", "0.0.0.0/0"] }, /adds 0\.0\.0\.0\/0/],
    ["a binding without the egress", { ipAllowlist: ["127.0.0.3"] }, /lacks keyshift's egress 127\.0\.0\.2/],
  ])("%s is refused with the reason", (_why, over, reason) => {
    expect(mismatchesOf(key(over), request).join("; ")).toMatch(reason);
  });

  it("a bound key where the replaced one was unbound is refused (its consumers may call from anywhere)", () => {
    expect(mismatchesOf(key(), { ...request, ipAllowlist: [] }).join("; ")).toMatch(
      /replaced key is unbound/,
    );
  });
});
