import { describe, expect, it } from "vitest";
import { parseBybitAdminSecret } from "../../src/adapters/exchange/bybit";
import {
  normalizeIps,
  normalizeScope,
  toCreateScope,
  toIpsParameter,
} from "../../src/adapters/exchange/bybit/scope";
import { RotationStateError } from "../../src/core/errors";

const SECRET_ID = "keyshift/admin/acct-1";
const VALID = {
  exchange: "bybit",
  endpoint: "https://api-testnet.bybit.com",
  apiKey: "MASTERKEY123456789",
  apiSecret: "masterSecretValue0123456789abcdefghij",
  subuid: "100400345",
};

function refusal(json: unknown): RotationStateError {
  try {
    parseBybitAdminSecret(json, SECRET_ID);
  } catch (err) {
    if (err instanceof RotationStateError) return err;
    throw err;
  }
  throw new Error("expected the admin secret to be refused");
}

describe("parseBybitAdminSecret", () => {
  it("reads the documented shape, with the guide's default recv window", () => {
    expect(parseBybitAdminSecret(VALID, SECRET_ID)).toEqual({
      endpoint: VALID.endpoint,
      apiKey: VALID.apiKey,
      apiSecret: VALID.apiSecret,
      subuid: VALID.subuid,
      recvWindowMs: 5000,
      maxKeys: 20,
    });
    const tuned = parseBybitAdminSecret({ ...VALID, subuid: 7, recvWindow: 10_000, maxKeys: 2 }, SECRET_ID);
    expect(tuned).toMatchObject({ subuid: "7", recvWindowMs: 10_000, maxKeys: 2 });
    expect(parseBybitAdminSecret({ ...VALID, endpoint: "http://127.0.0.1:4010" }, SECRET_ID).endpoint).toBe(
      "http://127.0.0.1:4010",
    );
  });

  const cases: Array<[string, unknown, RegExp]> = [
    ["not an object", "text", /the value is not a JSON object/],
    ["an array", [VALID], /the value is not a JSON object/],
    ["another exchange", { ...VALID, exchange: "deribit" }, /"exchange" must be "bybit"/],
    ["no exchange", { ...VALID, exchange: undefined }, /"exchange"/],
    ["no endpoint", { ...VALID, endpoint: undefined }, /"endpoint" must be an https URL/],
    ["endpoint not a URL", { ...VALID, endpoint: "api.bybit.com" }, /"endpoint"/],
    ["endpoint in clear to a remote host", { ...VALID, endpoint: "http://api.bybit.com" }, /"endpoint"/],
    ["endpoint with credentials", { ...VALID, endpoint: "https://u:p@api.bybit.com" }, /"endpoint"/],
    ["no apiKey", { ...VALID, apiKey: undefined }, /"apiKey" must be the master account's API key/],
    ["apiKey with a space", { ...VALID, apiKey: "MASTER KEY" }, /"apiKey"/],
    ["no apiSecret", { ...VALID, apiSecret: undefined }, /"apiSecret" must be/],
    ["empty apiSecret", { ...VALID, apiSecret: "" }, /"apiSecret"/],
    ["no subuid", { ...VALID, subuid: undefined }, /"subuid" must be the sub-account's UID/],
    ["subuid not digits", { ...VALID, subuid: "sub-1" }, /"subuid"/],
    ["recvWindow as text", { ...VALID, recvWindow: "5000" }, /"recvWindow" must be an integer/],
    ["recvWindow too long", { ...VALID, recvWindow: 600_000 }, /"recvWindow"/],
    ["maxKeys zero", { ...VALID, maxKeys: 0 }, /"maxKeys" must be an integer/],
  ];
  for (const [what, json, message] of cases) {
    it(`refuses ${what}, naming the field and the expected shape, never a value`, () => {
      const err = refusal(json);
      expect(err.message).toMatch(message);
      expect(err.message).toContain(SECRET_ID);
      expect(err.message).toContain('expected {"exchange":"bybit"');
      expect(err.message).not.toContain(VALID.apiSecret);
      expect(err.message).not.toContain(VALID.apiKey);
    });
  }
});

describe("Bybit scope mapping", () => {
  it("normalizes a listed key to sorted Group:Permission pairs plus its access marker", () => {
    const listed = {
      Spot: ["SpotTrade"],
      ContractTrade: ["Position", "Order"],
      NFT: [],
      Derivatives: ["DerivativesTrade"],
    };
    expect(normalizeScope(false, listed)).toEqual([
      "ContractTrade:Order",
      "ContractTrade:Position",
      "Derivatives:DerivativesTrade",
      "Spot:SpotTrade",
      "readWrite",
    ]);
    expect(normalizeScope(true, { Spot: ["SpotTrade"] })).toEqual(["Spot:SpotTrade", "readOnly"]);
  });

  it("maps back exactly, leaving out what Bybit assigns itself", () => {
    expect(
      toCreateScope(["Derivatives:DerivativesTrade", "Spot:SpotTrade", "ContractTrade:Order", "readOnly"]),
    ).toEqual({
      readOnly: 1,
      permissions: { Spot: ["SpotTrade"], ContractTrade: ["Order"] },
    });
  });

  it("refuses what it cannot express exactly", () => {
    const problem = (list: string[]) => ("problem" in toCreateScope(list) ? "refused" : "accepted");
    expect(problem(["Spot:SpotTrade"])).toBe("refused"); // no access marker: never guess read-write
    expect(problem(["Spot:SpotTrade", "readOnly", "readWrite"])).toBe("refused");
    expect(problem(["BlockTrade:BlockTrade", "readWrite"])).toBe("refused");
    expect(problem(["Derivatives:DerivativesTrade", "readWrite"])).toBe("refused");
    expect(problem(["trade", "readWrite"])).toBe("refused");
    expect(problem(["Spot:SpotTrade", "Spot:SpotTrade", "readWrite"])).toBe("refused");
  });

  it("reads Bybit's IP forms and writes the comma-separated parameter", () => {
    expect(normalizeIps(["*"])).toEqual([]);
    expect(normalizeIps(undefined)).toEqual([]);
    expect(normalizeIps(["10.0.0.2,10.0.0.1", "10.0.0.1"])).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(toIpsParameter(["10.0.0.2", "10.0.0.1"])).toEqual({ ips: "10.0.0.1,10.0.0.2" });
    expect(toIpsParameter([])).toEqual({});
    expect(toIpsParameter(["*"]).problem).toMatch(/not an address/);
    expect(toIpsParameter(["10.0.0.1,10.0.0.2"]).problem).toMatch(/not an address/);
  });
});
