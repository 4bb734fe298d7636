import { describe, expect, it } from "vitest";
import { InMemoryRequestBudget } from "../../harness/memory";
import { BudgetedExchange, rateLimitWait } from "../../src/adapters/exchange/budgeted";
import { type ExchangeErrorDetail, fetchBounded } from "../../src/adapters/exchange/http";
import { ExchangeRetryableError } from "../../src/core/errors";
import type { Exchange } from "../../src/core/ports";

/** A virtual clock: sleeping moves it, so budgets' windows pass without real waiting. */
function virtualTime(start = Date.parse("2031-01-01T00:00:00.000Z")) {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    random: () => 0.5,
  };
}

/**
 * An exchange whose every method sends real requests through `fetchBounded` (so the request gate
 * applies), answered by `answer(n)` for the n-th request overall: a status code.
 */
function httpExchange(
  name: string,
  answer: (n: number) => number,
  sent: Array<{ at: number; call: string }>,
  now: () => number,
) {
  const request = async (call: string) => {
    const { status: got } = await fetchBounded(
      new URL("https://exchange.invalid/x"),
      {},
      {
        where: call,
        timeoutMs: 1000,
        secrets: [],
        // What reaches the exchange, when it does: after the request gate.
        fetchImpl: async () => {
          const status = answer(sent.length);
          sent.push({ at: now(), call });
          return new Response("{}", { status });
        },
      },
    );
    if (got === 429)
      throw Object.assign(new ExchangeRetryableError(`${call}: HTTP 429`, 429), { retryAfterSeconds: 0 });
    if (got !== 200) throw new ExchangeRetryableError(`${call}: HTTP ${got}`, got);
  };
  const exchange: Exchange = {
    capabilities: async () => ({ exchange: name, disable: false, limitCounts: "active" }),
    createKey: async () => {
      await request("createKey");
      return { keyId: "k", secret: "s", label: "l", permissions: [] } as never;
    },
    listKeys: async () => {
      await request("listKeys");
      await request("listKeys:page2");
      return { keys: [], maxActiveKeys: 2 };
    },
    verifyKey: async () => request("verifyKey"),
    disableKey: async () => request("disableKey"),
    enableKey: async () => request("enableKey"),
    removeKey: async () => {
      await request("removeKey");
      return "removed";
    },
  };
  return exchange;
}

const RULE = { limit: 3, windowMs: 1000 };

describe("the exchange request budget", () => {
  it("is shared by two callers: every request takes a slot, and together they never pass the limit in a window", async () => {
    const time = virtualTime();
    const sent: Array<{ at: number; call: string }> = [];
    const table = new InMemoryRequestBudget().table;
    const granted = new Map<number, number>();
    class Recorded extends InMemoryRequestBudget {
      override async take(bucket: string, rule: typeof RULE, now: Date) {
        const answer = await super.take(bucket, rule, now);
        const w = Math.floor(now.getTime() / rule.windowMs);
        if (answer.granted) granted.set(w, (granted.get(w) ?? 0) + 1);
        return answer;
      }
    }
    const caller = () =>
      new BudgetedExchange(
        httpExchange("x", () => 200, sent, time.now),
        new Recorded(table),
        {
          budgets: { x: RULE },
          timing: { ...time, maxWaitMs: 600_000 },
        },
      );
    const [a, b] = [caller(), caller()];

    await Promise.all([0, 1, 2, 3, 4].flatMap(() => [a.listKeys("acct"), b.listKeys("acct")]));

    expect(sent).toHaveLength(20);
    expect([...granted.values()].reduce((x, y) => x + y, 0)).toBe(20);
    expect(Math.max(...granted.values())).toBe(3);
  });

  it("refuses over budget: past its longest wait, a retryable error and nothing sent", async () => {
    const time = virtualTime();
    const sent: Array<{ at: number; call: string }> = [];
    const budget = new InMemoryRequestBudget();
    const x = new BudgetedExchange(
      httpExchange("x", () => 200, sent, time.now),
      budget,
      {
        budgets: { x: { limit: 1, windowMs: 60_000 } },
        timing: { ...time, maxWaitMs: 5000 },
      },
    );
    await x.verifyKey("acct", {} as never);

    await expect(x.removeKey("acct", "k")).rejects.toThrow(/request budget of x#acct .* nothing was sent/);
    expect(sent.map((s) => s.call)).toEqual(["verifyKey"]);
  });

  it("retries a rate-limited call with backoff, each retry taking a slot again; never repeats createKey", async () => {
    const time = virtualTime();
    const sent: Array<{ at: number; call: string }> = [];
    const budget = new InMemoryRequestBudget();
    // The first two requests are refused with 429, then every one passes.
    const x = new BudgetedExchange(
      httpExchange("x", (n) => (n < 2 ? 429 : 200), sent, time.now),
      budget,
      {
        budgets: { x: RULE },
        timing: { ...time, maxWaitMs: 60_000 },
      },
    );

    expect(await x.removeKey("acct", "k")).toBe("removed");
    expect(sent.map((s) => s.call)).toEqual(["removeKey", "removeKey", "removeKey"]);
    expect(sent[1]?.at).toBeGreaterThan(sent[0]?.at ?? 0);

    const y = new BudgetedExchange(
      httpExchange("x", () => 429, [], time.now),
      budget,
      { budgets: { x: RULE }, timing: time },
    );
    await expect(y.createKey("acct2", { label: "l", permissions: [] })).rejects.toThrow("HTTP 429");
  });

  it("knows each exchange's rate-limit answers and only those", () => {
    const withCode = (code: string, status = 400) =>
      Object.assign(new ExchangeRetryableError("x", status), {
        exchangeCode: code,
      } satisfies ExchangeErrorDetail);
    expect(rateLimitWait(withCode("10028"), "deribit")).toBe(0);
    expect(rateLimitWait(withCode("10006", 200), "bybit")).toBe(0);
    expect(rateLimitWait(withCode("50011", 429), "okx")).toBe(0);
    expect(rateLimitWait(Object.assign(withCode("-1003", 429), { retryAfterSeconds: 7 }), "binance")).toBe(
      7000,
    );
    expect(rateLimitWait(withCode("TOO_FAST", 400), "gate")).toBe(0);
    expect(rateLimitWait(withCode("TOO_BUSY", 503), "gate")).toBeUndefined();
    expect(rateLimitWait(withCode("10006"), "deribit")).toBeUndefined();
    expect(rateLimitWait(withCode("10040"), "deribit")).toBeUndefined();
    expect(rateLimitWait(new ExchangeRetryableError("HTTP 418", 418), "binance")).toBeUndefined();
  });
});

describe("the budgeted exchange forwards everything the port has", () => {
  it("forwards a manual account's describeOwnKey and keyStillExists (dropping them would downgrade keys provide and confirm-deleted to a person's word)", async () => {
    const calls: string[] = [];
    const inner: Exchange = {
      capabilities: async () => ({
        exchange: "kraken",
        disable: false,
        limitCounts: "active",
        keyManagement: "manual",
      }),
      createKey: async () => Promise.reject(new Error("manual")),
      listKeys: async () => Promise.reject(new Error("manual")),
      verifyKey: async () => undefined,
      disableKey: async () => undefined,
      enableKey: async () => undefined,
      removeKey: async () => "removed",
      describeOwnKey: async (_account, key) => {
        calls.push(`describe ${key.keyId}`);
        return {
          keyId: key.keyId,
          label: "ks_x",
          permissions: ["query-funds"],
          status: "active",
          createdAt: "",
        };
      },
      keyStillExists: async (_account, key) => {
        calls.push(`exists ${key.keyId}`);
        return false;
      },
    };
    const budgeted = new BudgetedExchange(inner, new InMemoryRequestBudget(), { timing: virtualTime() });
    const key = { keyId: "K1", secret: "s" };

    expect((await budgeted.describeOwnKey("acct", key))?.label).toBe("ks_x");
    expect(await budgeted.keyStillExists("acct", key)).toBe(false);
    expect(calls).toEqual(["describe K1", "exists K1"]);

    // Every method of the port, optional ones included, is the wrapper's own.
    const methods = [
      "capabilities",
      "createKey",
      "listKeys",
      "verifyKey",
      "disableKey",
      "enableKey",
      "removeKey",
      "describeOwnKey",
      "keyStillExists",
      "activitySince",
    ];
    expect(
      methods.filter((m) => typeof (budgeted as unknown as Record<string, unknown>)[m] !== "function"),
    ).toEqual([]);
  });
});

describe("the budgeted exchange and the hourly activity pull (issue 20)", () => {
  it("each request of activitySince takes a slot of the account's budget; an exchange without it answers undefined", async () => {
    const time = virtualTime();
    const sent: Array<{ at: number; call: string }> = [];
    const inner = httpExchange("deribit", () => 200, sent, time.now);
    const reading: Exchange = {
      ...inner,
      activitySince: async (_account, cursor) => {
        // Five log pages, as a pull of a busy account reads them.
        for (let page = 0; page < 5; page++)
          await inner.verifyKey("acct", { keyId: `page${page}`, secret: "" });
        return { rows: [], cursor: `${cursor ?? ""}+` };
      },
    };
    const budget = new InMemoryRequestBudget();
    const budgeted = new BudgetedExchange(reading, budget, { budgets: { deribit: RULE }, timing: time });

    expect(await budgeted.activitySince("acct", "c0")).toEqual({ rows: [], cursor: "c0+" });
    // Five requests at three a window: the last two waited for the next window.
    expect(sent).toHaveLength(5);
    expect(Math.max(...sent.map((s) => s.at)) - time.now()).toBeLessThanOrEqual(0);
    expect(sent.filter((s) => s.at < Date.parse("2031-01-01T00:00:01.000Z"))).toHaveLength(3);

    const silent = new BudgetedExchange(inner, budget, { timing: time });
    expect(await silent.activitySince("acct", undefined)).toBeUndefined();
  });
});
