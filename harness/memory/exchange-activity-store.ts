import type { ExchangeAggregate } from "../../src/core/misuse/exchange-side";
import type { ExchangeActivityStore, ExchangeCursor } from "../../src/core/ports";
import { copy } from "./copy";
import { Faults } from "./faults";

/**
 * What the exchanges saw, in memory: one sum per account × hour × class × key × IP, counts added,
 * the country the last writer's; each account's cursor advanced and claimed on its version —
 * proven equal to `DynamoExchangeActivityStore` by exchange-activity-store.suite.ts.
 */
export class InMemoryExchangeActivityStore implements ExchangeActivityStore {
  /** Not a port method: fails the next calls of a method (a pull that dies between its writes). */
  readonly faults = new Faults<"addActivity" | "advanceCursor">();
  private readonly sums = new Map<string, ExchangeAggregate>();
  private readonly cursors = new Map<string, ExchangeCursor>();

  async addActivity(aggregates: readonly ExchangeAggregate[]): Promise<void> {
    for (const a of aggregates) {
      this.faults.check("addActivity");
      const id = `${a.account}#${a.hour}#${a.endpointClass}#${a.keyId ?? "*"}#${a.ip ?? "-"}`;
      const sum = this.sums.get(id) ?? { ...copy(a), count: 0 };
      if (a.country !== undefined) sum.country = a.country;
      sum.count += a.count;
      this.sums.set(id, sum);
    }
  }

  async readActivity(account: string, fromHour: number, toHour: number): Promise<ExchangeAggregate[]> {
    return [...this.sums.values()]
      .filter((a) => a.account === account && a.hour >= fromHour && a.hour < toHour)
      .sort((a, b) => a.hour - b.hour)
      .map(copy);
  }

  async getCursor(account: string): Promise<ExchangeCursor> {
    return copy(this.cursors.get(account) ?? { version: 0 });
  }

  async claimCursor(account: string, version: number, untilMs: number, nowMs: number): Promise<boolean> {
    const at = this.cursors.get(account) ?? { version: 0 };
    if (at.version !== version || (at.claimedUntilMs !== undefined && at.claimedUntilMs >= nowMs))
      return false;
    this.cursors.set(account, { ...at, claimedUntilMs: untilMs });
    return true;
  }

  private pullStart: string | undefined;

  async getPullStart(): Promise<string | undefined> {
    return this.pullStart;
  }

  async setPullStart(account: string): Promise<void> {
    this.pullStart = account;
  }

  async advanceCursor(account: string, cursor: string, version: number): Promise<boolean> {
    this.faults.check("advanceCursor");
    const at = this.cursors.get(account) ?? { version: 0 };
    if (at.version !== version) return false;
    this.cursors.set(account, { cursor, version: version + 1 });
    return true;
  }
}
