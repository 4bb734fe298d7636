import { describe, expect, it } from "vitest";
import { parseDeribitAdminSecret } from "../../src/adapters/exchange/deribit";
import { RotationStateError } from "../../src/core/errors";

const SECRET_ID = "keyshift/admin/deribit-main";
const valid = {
  exchange: "deribit",
  endpoint: "https://test.deribit.com",
  clientId: "AdmIn42x",
  clientSecret: "s3cr3t-admin-VALUE-never-shown",
  accountId: 123456,
};
const SEED = "JBSWY3DPEHPK3PXP";

function refusal(json: unknown): RotationStateError {
  try {
    parseDeribitAdminSecret(json, SECRET_ID);
  } catch (err) {
    if (err instanceof RotationStateError) return err;
    throw err;
  }
  throw new Error("accepted a malformed admin secret");
}

describe("parseDeribitAdminSecret", () => {
  it("accepts the documented shape, as JSON text or parsed, with or without a TOTP seed", () => {
    expect(parseDeribitAdminSecret(valid, SECRET_ID)).toEqual({
      endpoint: "https://test.deribit.com",
      clientId: "AdmIn42x",
      clientSecret: valid.clientSecret,
      accountId: 123456,
    });
    expect(parseDeribitAdminSecret(JSON.stringify({ ...valid, totpSeed: SEED }), SECRET_ID).totpSeed).toBe(
      SEED,
    );
    expect(parseDeribitAdminSecret({ ...valid, endpoint: "http://127.0.0.1:4100" }, SECRET_ID).endpoint).toBe(
      "http://127.0.0.1:4100",
    );
  });

  it.each<[string, unknown, string]>([
    ["not JSON", "{not json s3cr3t", "is not JSON"],
    ["an array", [valid], "is not a JSON object"],
    ["a misspelt field", { ...valid, totp_seed: SEED }, 'unknown field(s) "totp_seed"'],
    ["no exchange", { ...valid, exchange: undefined }, 'field "exchange" must be "deribit"'],
    ["another exchange", { ...valid, exchange: "bybit" }, 'field "exchange" must be "deribit"'],
    ["no endpoint", { ...valid, endpoint: undefined }, 'field "endpoint" is missing'],
    [
      "an endpoint that is no URL",
      { ...valid, endpoint: "test.deribit.com" },
      'field "endpoint" is not a URL',
    ],
    [
      "a plain-http endpoint",
      { ...valid, endpoint: "http://test.deribit.com" },
      'field "endpoint" must be an https:// URL',
    ],
    [
      "an endpoint with a query",
      { ...valid, endpoint: "https://test.deribit.com/?x=1" },
      "must not carry a query",
    ],
    ["no clientId", { ...valid, clientId: undefined }, 'field "clientId" is missing'],
    ["an empty clientId", { ...valid, clientId: " " }, 'field "clientId" must be a non-empty string'],
    ["a clientId with a comma", { ...valid, clientId: "a,b" }, 'field "clientId" must not contain'],
    ["no clientSecret", { ...valid, clientSecret: undefined }, 'field "clientSecret" is missing'],
    [
      "a numeric clientSecret",
      { ...valid, clientSecret: 42 },
      'field "clientSecret" must be a non-empty string',
    ],
    ["no accountId", { ...valid, accountId: undefined }, 'field "accountId" is missing'],
    ["a string accountId", { ...valid, accountId: "123456" }, 'field "accountId" must be'],
    ["a negative accountId", { ...valid, accountId: -1 }, 'field "accountId" must be'],
    ["a fractional accountId", { ...valid, accountId: 1.5 }, 'field "accountId" must be'],
    [
      "a totpSeed that is not base32",
      { ...valid, totpSeed: "0189!!s3cr3t" },
      'field "totpSeed" is not base32',
    ],
    ["a short totpSeed", { ...valid, totpSeed: "JBSWY3DP" }, 'field "totpSeed" is shorter than 80 bits'],
    ["an empty totpSeed", { ...valid, totpSeed: "" }, 'field "totpSeed" must be a non-empty string'],
  ])("refuses %s, naming the field and the expected shape, showing no value", (_case, json, expected) => {
    const err = refusal(json);
    expect(err.message).toContain(SECRET_ID);
    expect(err.message).toContain(expected);
    expect(err.message).toContain('"exchange":"deribit"');
    for (const value of [valid.clientSecret, "s3cr3t", "0189", SEED])
      expect(err.message).not.toContain(value);
  });
});
