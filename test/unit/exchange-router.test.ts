import { describe, expect, it } from "vitest";
import { ExchangeRouter } from "../../src/adapters/exchange/router";
import { ExchangePermanentError, RotationStateError } from "../../src/core/errors";
import { InMemorySecretStore } from "./fakes";

const PREFIX = "keyshift/admin/";

function routerWith(value: string) {
  const secrets = new InMemorySecretStore();
  secrets.create(`${PREFIX}acct`, value);
  return ExchangeRouter.withProtocols(secrets, PREFIX, {});
}

describe("ExchangeRouter: the admin secret picks the protocol", () => {
  it("names the missing field and the expected shape, never the value", async () => {
    const secretValue = "sk-admin-very-secret-value";
    const err = await routerWith(JSON.stringify({ endpoint: "http://x", secret: secretValue }))
      .listKeys("acct")
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RotationStateError);
    expect((err as Error).message).toMatch(/field "keyId" must be a non-empty string/);
    expect((err as Error).message).not.toContain(secretValue);
  });

  it("refuses an exchange it does not speak, listing the ones it does", async () => {
    const err = await routerWith(JSON.stringify({ exchange: "binance", apiKey: "a", apiSecret: "b" }))
      .listKeys("acct")
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect((err as Error).message).toMatch(/field "exchange" must be one of keyshift-sim/);
  });

  it("refuses a value that is not JSON without echoing it", async () => {
    const err = await routerWith("not json sk-123")
      .listKeys("acct")
      .catch((e: unknown) => e);

    expect((err as Error).message).toMatch(/is not JSON \(value not shown\)/);
    expect((err as Error).message).not.toContain("sk-123");
  });

  it("routes a keyshift-sim secret without an exchange field to the test protocol's adapter", async () => {
    const router = routerWith(JSON.stringify({ endpoint: "http://127.0.0.1:9", keyId: "k", secret: "s" }));

    // The capabilities come from the test protocol's adapter: it was the one routed to.
    expect(await router.capabilities("acct")).toEqual({
      exchange: "keyshift-sim",
      disable: false,
      limitCounts: "active",
    });
  });
});
