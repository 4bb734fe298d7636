/**
 * The hourly pull of what the exchanges saw (issue 20, deliverable 2): per enrolled account, only
 * what is new since its cursor, stored as sums before the cursor moves; two runs never both store
 * a batch; an account two secrets share is stored but judged for neither; the report judges the
 * stored side (no longer "none-stored") through `storedExchangeSide`.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { InMemoryExchangeActivityStore, InMemoryMisuseAcks, InMemoryUsageStore } from "../../harness/memory";
import { ExchangePermanentError } from "../../src/core/errors";
import { ANY_KEY, HOUR_MS, hourOf } from "../../src/core/misuse/model";
import { pullExchangeActivity, storedExchangeSide } from "../../src/core/misuse/pull";
import { misuseReport } from "../../src/core/misuse/report";
import type { ExchangeActivityPage, ExchangeActivityRow } from "../../src/core/ports";
import { type FakeDeps, makeDeps, type SeededSecret, seedSecret } from "./fakes";

/** An exchange that reports per account (as Deribit): what each account did, and every cursor it was given. */
class ReportingExchange {
  readonly log = new Map<string, ExchangeActivityRow[]>();
  readonly asked: Array<{ account: string; cursor: string | undefined }> = [];
  failing = new Set<string>();
  silent = new Set<string>();

  async activitySince(
    account: string,
    cursor: string | undefined,
  ): Promise<ExchangeActivityPage | undefined> {
    this.asked.push({ account, cursor });
    if (this.silent.has(account)) return undefined;
    if (this.failing.has(account))
      throw new ExchangePermanentError(`deribit activitySince on account ${account}: refused`);
    const all = this.log.get(account) ?? [];
    const from = cursor === undefined ? 0 : Number(cursor);
    return { rows: all.slice(from), cursor: String(all.length) };
  }

  did(account: string, ...rows: ExchangeActivityRow[]): void {
    this.log.set(account, [...(this.log.get(account) ?? []), ...rows]);
  }
}

describe("pullExchangeActivity", () => {
  let deps: FakeDeps;
  let exchange: ReportingExchange;
  let side: InMemoryExchangeActivityStore;
  let seeded: SeededSecret;
  let at: number;
  const pull = () => pullExchangeActivity({ ...deps, exchange, exchangeSide: side });

  beforeEach(async () => {
    deps = makeDeps({ start: "2030-03-01T00:00:00.000Z" });
    exchange = new ReportingExchange();
    side = new InMemoryExchangeActivityStore();
    seeded = await seedSecret(deps, { account: "deribit-main" });
    at = deps.clock.now().getTime();
  });

  const login = (ip = "203.0.113.9", atMs = at): ExchangeActivityRow => ({
    atMs,
    endpointClass: "account",
    count: 1,
    ip,
    country: "Local Country",
  });
  const fill = (ip = "203.0.113.9", atMs = at): ExchangeActivityRow => ({
    atMs,
    endpointClass: "derivatives",
    count: 1,
    ip,
  });

  it("stores the sums per hour × class × IP, then advances the cursor; the next pull asks from it", async () => {
    exchange.did("deribit-main", login(), login(), fill(), fill("198.51.100.7"), {
      atMs: at + HOUR_MS,
      endpointClass: "derivatives",
      count: 1,
    });

    const result = await pull();

    expect(result.pulled).toEqual([{ account: "deribit-main", rows: 5, sums: 4, dropped: 0, own: 0 }]);
    const h = hourOf(at);
    expect(await side.readActivity("deribit-main", h, h + 2)).toEqual(
      expect.arrayContaining([
        {
          account: "deribit-main",
          hour: h,
          endpointClass: "account",
          ip: "203.0.113.9",
          country: "Local Country",
          count: 2,
        },
        { account: "deribit-main", hour: h, endpointClass: "derivatives", ip: "203.0.113.9", count: 1 },
        { account: "deribit-main", hour: h, endpointClass: "derivatives", ip: "198.51.100.7", count: 1 },
        { account: "deribit-main", hour: h + 1, endpointClass: "derivatives", count: 1 },
      ]),
    );
    expect(await side.getCursor("deribit-main")).toEqual({ cursor: "5", version: 1 });

    exchange.did("deribit-main", login());
    await pull();
    expect(exchange.asked.map((a) => a.cursor)).toEqual([undefined, "5"]);
    const logins = (await side.readActivity("deribit-main", h, h + 1)).find(
      (a) => a.endpointClass === "account",
    );
    expect(logins?.count).toBe(3);
  });

  it("an exchange that reports nothing is left alone: nothing stored, the report still says none-stored", async () => {
    exchange.silent.add("deribit-main");

    const result = await pull();

    expect(result).toMatchObject({ pulled: [], notReported: ["deribit-main"] });
    expect(await side.getCursor("deribit-main")).toEqual({ version: 0 });
    const report = await reportOver();
    expect(report.accounts).toEqual([
      { account: "deribit-main", secrets: [seeded.secretId], exchangeSide: "none-stored" },
    ]);
  });

  it("a run whose cursor advance is refused stored nothing twice: another run holds or moved the account", async () => {
    exchange.did("deribit-main", login());
    // Another run read the same cursor, pulled, and claimed the account first.
    expect(await side.claimCursor("deribit-main", 0, at + 600_000, at)).toBe(true);

    const result = await pull();

    expect(result.busy).toEqual(["deribit-main"]);
    expect(await side.readActivity("deribit-main", 0, hourOf(at) + 1)).toEqual([]);
  });

  it("dies between storing and advancing: the cursor stays, the claim lapses, the next run pulls the batch again", async () => {
    exchange.did("deribit-main", login());
    side.faults.failNext("advanceCursor", 1, Error, "the Lambda died");

    expect((await pull()).failed).toEqual([{ account: "deribit-main", error: "Error: the Lambda died" }]);
    expect((await side.getCursor("deribit-main")).version).toBe(0);
    expect((await pull()).busy).toEqual(["deribit-main"]); // the dead run's claim still holds

    deps.clock.advance(11 * 60);
    expect((await pull()).pulled).toHaveLength(1);
    expect(exchange.asked.map((a) => a.cursor)).toEqual([undefined, undefined, undefined]);
    // At least once: the batch is counted twice (it can hide activity, never invent it).
    expect((await side.readActivity("deribit-main", 0, hourOf(at) + 1))[0]?.count).toBe(2);
  });

  it("one account's failure is recorded and the others still pulled", async () => {
    await seedSecret(deps, { secretId: "keyshift/deribit/other", account: "deribit-other" });
    exchange.failing.add("deribit-main");
    exchange.did("deribit-other", login());

    const result = await pull();

    expect(result.failed).toEqual([
      {
        account: "deribit-main",
        error: "ExchangePermanentError: deribit activitySince on account deribit-main: refused",
      },
    ]);
    expect(result.pulled.map((p) => p.account)).toEqual(["deribit-other"]);
  });

  it("fields without their shape are dropped, never stored: an IP that is no address, a country that is no name", async () => {
    exchange.did("deribit-main", { ...login("not an ip"), country: "<script>" }, { ...fill(), count: 1.5 });

    const result = await pull();

    expect(result.pulled[0]).toMatchObject({ rows: 2, sums: 1, dropped: 1 });
    expect(await side.readActivity("deribit-main", 0, hourOf(at) + 1)).toEqual([
      { account: "deribit-main", hour: hourOf(at), endpointClass: "account", count: 1 },
    ]);
  });

  it("keyshift's own logins (from its egress) are not counted; anything else from there is", async () => {
    exchange.did("deribit-main", login("192.0.2.10"), login(), {
      ...fill("192.0.2.10"),
      endpointClass: "withdrawal",
    });

    const result = await pullExchangeActivity({
      ...deps,
      exchange,
      exchangeSide: side,
      egressIps: ["192.0.2.10"],
    });

    expect(result.pulled[0]).toMatchObject({ rows: 3, own: 1 });
    const stored = await side.readActivity("deribit-main", 0, hourOf(at) + 1);
    expect(stored.map((a) => [a.endpointClass, a.ip]).sort()).toEqual([
      ["account", "203.0.113.9"],
      ["withdrawal", "192.0.2.10"],
    ]);
  });

  it("starts no account past its time budget: those left are pulled by the next run from their cursors", async () => {
    await seedSecret(deps, { secretId: "keyshift/deribit/other", account: "deribit-other" });
    exchange.did("deribit-main", login());
    exchange.did("deribit-other", login());
    const slow = {
      ...exchange,
      activitySince: async (account: string, cursor: string | undefined) => {
        deps.clock.advance(200); // each account takes 200 s of the run
        return exchange.activitySince(account, cursor);
      },
    };

    const result = await pullExchangeActivity(
      { ...deps, exchange: slow, exchangeSide: side },
      { budgetMs: 100_000, concurrency: 1 },
    );

    expect(result.pulled).toHaveLength(1);
    expect(result.left).toHaveLength(1);
    const next = await pull();
    expect(next.pulled.find((p) => p.account === result.left[0])).toMatchObject({ rows: 1 });
    // The next run starts at the account this one left: a fleet too big for one run starves none.
    deps.clock.advance(3600);
    const later = await pullExchangeActivity(
      { ...deps, exchange: slow, exchangeSide: side },
      { budgetMs: 100_000, concurrency: 1 },
    );
    expect(later.left).toHaveLength(1);
    expect(later.left).not.toEqual(result.left);
  });

  it("round-robin: five accounts, two a run — three runs pull every one, each run going on where the last stopped", async () => {
    for (const n of [2, 3, 4, 5])
      await seedSecret(deps, { secretId: `keyshift/deribit/s${n}`, account: `deribit-${n}` });
    const pulledBy: string[][] = [];
    const slow = {
      ...exchange,
      activitySince: async (account: string, cursor: string | undefined) => {
        deps.clock.advance(60);
        return exchange.activitySince(account, cursor);
      },
    };
    for (let run = 0; run < 3; run++) {
      const r = await pullExchangeActivity(
        { ...deps, exchange: slow, exchangeSide: side },
        { budgetMs: 100_000, concurrency: 1 },
      );
      pulledBy.push(r.pulled.map((p) => p.account));
      deps.clock.advance(3600);
    }
    expect(pulledBy).toEqual([
      ["deribit-2", "deribit-3"],
      ["deribit-4", "deribit-5"],
      ["deribit-main", "deribit-2"],
    ]);
    expect(new Set(pulledBy.flat()).size).toBe(5);
  });

  describe("what the report judges", () => {
    it("a pulled account is judged: its withdrawal is a finding on key * (one of the secret's keys)", async () => {
      exchange.did("deribit-main", { ...fill(), endpointClass: "withdrawal" });
      await pull();
      deps.clock.advance(3600);

      const report = await reportOver();

      expect(report.accounts).toEqual([
        { account: "deribit-main", secrets: [seeded.secretId], exchangeSide: "stored" },
      ]);
      expect(report.findings.map((f) => [f.kind, f.keyId, f.secretId])).toEqual([
        ["withdrawal", ANY_KEY, seeded.secretId],
      ]);
    });

    it("an account two enrolled secrets share is stored, reported unattributed, and judged for neither", async () => {
      await seedSecret(deps, { secretId: "keyshift/deribit/second", account: "deribit-main" });
      exchange.did("deribit-main", { ...fill(), endpointClass: "withdrawal" });

      const result = await pull();
      deps.clock.advance(3600);
      const report = await reportOver();

      expect(result.unattributed).toEqual([
        {
          account: "deribit-main",
          secrets: expect.arrayContaining([seeded.secretId, "keyshift/deribit/second"]),
        },
      ]);
      expect(report.accounts).toEqual([
        { account: "deribit-main", secrets: expect.any(Array), exchangeSide: "unattributed" },
      ]);
      expect(report.findings).toEqual([]);
    });
  });

  function reportOver() {
    return misuseReport(
      { since: new Date(at - HOUR_MS) },
      {
        ...deps,
        usage: new InMemoryUsageStore(),
        acks: new InMemoryMisuseAcks(),
        exchangeActivity: storedExchangeSide(side),
      },
    );
  }
});
