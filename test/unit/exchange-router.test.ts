import { join, resolve } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { EXCHANGE_PROTOCOLS, registerExchangeProtocol } from "../../src/adapters/exchange/protocols";
import { type ExchangeProtocol, ExchangeRouter } from "../../src/adapters/exchange/router";
import { ExchangePermanentError, RotationStateError } from "../../src/core/errors";
import type { Exchange } from "../../src/core/ports";
import { InMemorySecretStore } from "./fakes";

const ROOT = resolve(import.meta.dirname, "..", "..");
const PREFIX = "keyshift/admin/";
const ADMIN_SECRET_VALUE = "sk-admin-very-secret-value";

/** A router wired as the composition root wires it (`buildDeps`): the production registry. */
function productionRouter(value: string) {
  const secrets = new InMemorySecretStore();
  secrets.create(`${PREFIX}acct`, value);
  return new ExchangeRouter(secrets, PREFIX, EXCHANGE_PROTOCOLS);
}

async function failure(work: Promise<unknown>): Promise<Error> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error("expected a rejection");
  return err;
}

describe("ExchangeRouter in production: real exchanges only", () => {
  it("knows Deribit, Bybit, OKX, Binance and Kraken (manual), and nothing else", () => {
    expect([...EXCHANGE_PROTOCOLS.keys()].sort()).toEqual([
      "binance",
      "bybit",
      "deribit",
      "gate",
      "kraken",
      "okx",
    ]);
  });

  it("refuses an admin secret with no exchange field, naming the field and the choices, never the value", async () => {
    // The test protocol's shape, which used to be routed to it by default.
    const value = JSON.stringify({
      endpoint: "http://127.0.0.1:9",
      keyId: "k_admin",
      secret: ADMIN_SECRET_VALUE,
    });
    const err = await failure(productionRouter(value).listKeys("acct"));

    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toBe(
      `admin secret ${PREFIX}acct: field "exchange" is missing; it must be one of deribit, bybit, okx, binance, kraken, gate`,
    );
    expect(err.message).not.toContain(ADMIN_SECRET_VALUE);
  });

  it("refuses the test protocol by name: it is not shipped", async () => {
    const value = JSON.stringify({ exchange: "keyshift-sim", endpoint: "http://x", keyId: "k", secret: "s" });
    const err = await failure(productionRouter(value).capabilities("acct"));

    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toMatch(
      /field "exchange" must be one of deribit, bybit, okx, binance, kraken, gate$/,
    );
  });

  it("does not echo what the exchange field holds (a key pasted into the wrong field)", async () => {
    const err = await failure(
      productionRouter(JSON.stringify({ exchange: ADMIN_SECRET_VALUE })).listKeys("acct"),
    );

    expect(err.message).toMatch(/field "exchange" must be one of deribit, bybit, okx/);
    expect(err.message).not.toContain(ADMIN_SECRET_VALUE);
  });

  it("refuses a non-string exchange field the same way", async () => {
    const err = await failure(productionRouter(JSON.stringify({ exchange: 7 })).listKeys("acct"));

    expect(err.message).toMatch(/field "exchange" must be one of deribit, bybit, okx/);
  });

  it("lets the named protocol report a bad field of its own, never the value", async () => {
    const value = JSON.stringify({
      exchange: "deribit",
      endpoint: "https://test.deribit.com",
      clientId: "c",
    });
    const err = await failure(productionRouter(value).listKeys("acct"));

    expect(err).toBeInstanceOf(RotationStateError);
    expect(err.message).toMatch(/clientSecret/);
  });

  it("refuses a value that is not JSON without echoing it", async () => {
    const err = await failure(productionRouter("not json sk-123").listKeys("acct"));

    expect(err.message).toMatch(/is not JSON \(value not shown\)/);
    expect(err.message).not.toContain("sk-123");
  });

  it("routes by the exchange field to the real adapter", async () => {
    const router = productionRouter(
      JSON.stringify({
        exchange: "deribit",
        endpoint: "https://test.deribit.com",
        clientId: "client_1",
        clientSecret: ADMIN_SECRET_VALUE,
        accountId: 123456,
      }),
    );

    expect((await router.capabilities("acct")).exchange).toBe("deribit");
  });
});

describe("ExchangeRouter: a harness brings its own protocol from outside", () => {
  const stub = (name: string): ExchangeProtocol<{ tag: string }> => ({
    parseAdminSecret: () => ({ tag: name }),
    create: () =>
      ({
        capabilities: async () => ({ exchange: name, disable: false, limitCounts: "active" }),
      }) as unknown as Exchange,
  });

  it("routes to a protocol passed in the router's registry", async () => {
    const secrets = new InMemorySecretStore();
    secrets.create(`${PREFIX}acct`, JSON.stringify({ exchange: "toy" }));
    const router = new ExchangeRouter(secrets, PREFIX, new Map([["toy", stub("toy")]]));

    expect((await router.capabilities("acct")).exchange).toBe("toy");
  });

  it("cannot replace a real exchange's protocol", () => {
    expect(() => registerExchangeProtocol("deribit", stub("deribit"))).toThrow(/real exchange/);
  });
});

describe("what ships does not carry the test protocol", () => {
  it("a handler bundled as serverless-esbuild bundles it has no test-protocol or harness input", async () => {
    const result = await build({
      entryPoints: [join(ROOT, "functions", "create-next.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node22",
      mainFields: ["module", "main"],
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);

    // The router and the real adapters are in: the check looks at the right bundle.
    expect(inputs).toContain("src/adapters/exchange/router.ts");
    expect(inputs).toContain("src/adapters/exchange/deribit/adapter.ts");
    expect(inputs.filter((i) => /http-exchange|keyshift-sim|^harness\/|^test\//.test(i))).toEqual([]);
    expect(result.outputFiles.map((f) => f.text).join("")).not.toContain("x-ks-sig");
  });
});
