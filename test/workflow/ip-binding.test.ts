import { describe, expect, it } from "vitest";
import { tradingCall as binanceTradingCall } from "../../harness/local/exchange/binance";
import { tradingCall as bybitTradingCall } from "../../harness/local/exchange/bybit";
import {
  CONSUMER_HOST_IP,
  EGRESS_IP,
  fetchFrom,
  OUTSIDE_IP,
} from "../../harness/local/exchange/caller-address";
import { tradingCall as deribitTradingCall } from "../../harness/local/exchange/deribit";
import { tradingCall as gateTradingCall } from "../../harness/local/exchange/gate";
import { tradingCall as okxTradingCall } from "../../harness/local/exchange/okx";
import { BOUND_TO_EGRESS } from "../../harness/local/exchanges";
import { enrollLocalSecret } from "../../harness/local/scenario";
import { runKeyshift } from "../../src/cli/run";
import { STAGE } from "../../src/core/model";
import { rotate, useWorld } from "./harness";

const world = useWorld();

/** The real CLI in process, so its exchange calls leave from where the stack's handlers' do (the egress). */
async function cli(argv: string[]) {
  let stdout = "";
  const code = await runKeyshift(argv, {
    env: { ...process.env, ...world.stack.env },
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: () => true },
  });
  expect(code).toBe(0);
  // biome-ignore lint/suspicious/noExplicitAny: the CLI's --json output, read field by field
  return JSON.parse(stdout) as any;
}
let counter = 0;

/**
 * IP-bound keys against simulators that judge the caller's address, as the exchanges do: keyshift's
 * handlers call from the egress (127.0.0.2), trading services from a consumer host (127.0.0.3).
 */
describe.each(["deribit", "bybit", "okx", "binance", "gate"] as const)(
  "IP-bound keys on %s (the caller's address decides)",
  (name) => {
    it("a rotation whose trading key is bound without keyshift's egress does not complete and leaves no key behind", async () => {
      counter += 1;
      // The admin key is bound to the egress (keyshift can manage keys); the trading key only to the
      // trading host, so keyshift cannot call the exchange with its successor.
      const enrolled = await enrollLocalSecret(world.stack, {
        exchange: name,
        account: `bound-${name}-${counter}`,
        ipBinding: { admin: [EGRESS_IP], trading: [CONSUMER_HOST_IP] },
      });
      const exchange = world.stack.exchanges[name];
      const before = await enrolled.deps.store.getVersions(enrolled.secretId);
      const original = before?.current?.exchangeKeyId;
      const logged = exchange.requestLog().length;

      const result = await rotate(world, enrolled);

      expect(result.status).not.toBe("SUCCEEDED");
      // The core refused before creating anything, naming the egress IP the binding lacks and the fix.
      const told = JSON.stringify([result.error, result.cause, result.history.map((e) => e.error ?? "")]);
      expect(told).toContain("EgressNotBoundError");
      expect(told).toMatch(/LACKS keyshift's egress 127\.0\.0\.2/);
      expect(told).toMatch(/add 127\.0\.0\.2/);
      // No create request reached the exchange at all.
      const calls = exchange.requestLog().slice(logged);
      expect(calls.filter((c) => c.endpoint === "createKey")).toEqual([]);
      // No key left behind: the original is the only one alive, and still current.
      const keys = exchange.keys(enrolled.account);
      expect(keys.filter((k) => k.status !== "removed").map((k) => k.keyId)).toEqual([original]);
      const versions = await enrolled.deps.secrets.listVersions(enrolled.secretId);
      const current = versions.find((v) => v.stages.includes(STAGE.current));
      expect(current?.versionId).toBe(before?.current?.versionId);
      expect(versions.some((v) => v.stages.includes(STAGE.next))).toBe(false);
      const rotations = await enrolled.deps.store.listRotations(enrolled.secretId);
      expect(rotations.at(-1)?.phase).not.toBe("completed");

      // `keyshift status` (run where keyshift's egress is, like its Lambdas) says so before anyone rotates.
      const status = await cli(["status", enrolled.secretId, "--json"]);
      expect(status.binding).toMatchObject({ state: "lacks-egress", ipAllowlist: [CONSUMER_HOST_IP] });
      expect(status.binding.fix).toContain(`add ${EGRESS_IP}`);
    });

    it("a bound key that lets the egress in rotates, keeps its binding, and status and list show it", async () => {
      counter += 1;
      const enrolled = await enrollLocalSecret(world.stack, {
        exchange: name,
        account: `ok-${name}-${counter}`,
        ipBinding: BOUND_TO_EGRESS,
      });

      const result = await rotate(world, enrolled);

      expect(result.status).toBe("SUCCEEDED");
      const bound = [...BOUND_TO_EGRESS.trading].sort();
      const status = await cli(["status", enrolled.secretId, "--json"]);
      expect(status.binding.state).toBe("egress-allowed");
      expect([...status.binding.ipAllowlist].sort()).toEqual(bound);
      const listed = (await cli(["list", "--json"])) as {
        secrets: Array<{ secretId: string; ipBinding: unknown }>;
      };
      const row = listed.secrets.find((r) => r.secretId === enrolled.secretId);
      expect(row?.ipBinding).toEqual({ ips: expect.arrayContaining(bound), state: "egress-allowed" });
    });

    it("a trading service calling with a bound key from outside its binding gets the exchange's IP refusal", async () => {
      counter += 1;
      const account = `caller-${name}-${counter}`;
      const exchange = world.stack.exchanges[name];
      exchange.provisionAccount(account, BOUND_TO_EGRESS.admin);
      const key = exchange.seedTradingKey(account, BOUND_TO_EGRESS.trading);

      expect(await exchange.trade(key, CONSUMER_HOST_IP)).toBe(true);
      expect(await exchange.trade(key, OUTSIDE_IP)).toBe(false);
      const outside = { fetchImpl: fetchFrom(OUTSIDE_IP) };
      if (name === "deribit") {
        expect(await deribitTradingCall(exchange.url, key, outside)).toMatchObject({
          ok: false,
          status: 401,
          errorCode: 13009,
        });
      } else if (name === "bybit") {
        expect(await bybitTradingCall(exchange.url, key, outside)).toMatchObject({
          ok: false,
          retCode: 10010,
        });
      } else if (name === "okx") {
        const withPassphrase = { ...key, passphrase: key.passphrase ?? "" };
        expect(await okxTradingCall(exchange.url, withPassphrase, outside)).toMatchObject({
          ok: false,
          code: "50110",
        });
      } else if (name === "gate") {
        expect(await gateTradingCall(exchange.url, key, outside)).toMatchObject({
          ok: false,
          label: "IP_FORBIDDEN",
        });
      } else {
        expect(await binanceTradingCall(exchange.url, key, outside)).toMatchObject({
          ok: false,
          code: -2015,
        });
      }
    });
  },
);
