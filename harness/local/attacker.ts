/**
 * `npm start -- --attacker`: someone holds a copy of the trading key (taken before the rotation: a
 * leaked config, a stale host) and keeps trading with it from a host inside the key's IP binding.
 * The rotation moves every consumer to the new key; the old key's revocation fails for a while (the
 * exchange refuses it); the attacker's orders keep going through — until keyshift's misuse run sees
 * the retired key in use and stops it. This module is the attacker: it records every order it
 * tried and whether the exchange took it, and never prints the key.
 */
import { ATTACKER_HOST_IP } from "./exchange/caller-address";
import type { LocalExchange, TradingCredential } from "./exchanges";

export interface AttackerOrder {
  at: number;
  accepted: boolean;
}

export interface AttackerReport {
  /** The host the orders came from (inside the key's binding: a compromised trading host). */
  from: string;
  orders: number;
  accepted: number;
  /** Orders the exchange took after the cut-over (the gate passed: no consumer held the key). */
  acceptedAfterCutover: number;
  /** Orders after keyshift stopped the key, and how many of those went through (must be 0). */
  afterStop: { orders: number; accepted: number };
}

export class Attacker {
  private readonly orders: AttackerOrder[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly exchange: LocalExchange,
    private readonly stolen: TradingCredential,
    private readonly from = ATTACKER_HOST_IP,
  ) {}

  /** Sends an order every `everyMs` until `stop()`. */
  start(everyMs = 200): void {
    const tick = () => {
      this.inFlight = this.order().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, everyMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  /** Whether any order after `at` went through: the key was still live for the attacker then. */
  acceptedSince(at: number): number {
    return this.orders.filter((o) => o.at >= at && o.accepted).length;
  }

  report(cutoverAt: number | undefined, stoppedAt: number | undefined): AttackerReport {
    const after = (t: number | undefined) => (t === undefined ? [] : this.orders.filter((o) => o.at > t));
    const afterStop = after(stoppedAt);
    return {
      from: this.from,
      orders: this.orders.length,
      accepted: this.orders.filter((o) => o.accepted).length,
      acceptedAfterCutover: after(cutoverAt).filter((o) => o.accepted).length,
      afterStop: { orders: afterStop.length, accepted: afterStop.filter((o) => o.accepted).length },
    };
  }

  private async order(): Promise<void> {
    const at = Date.now();
    const accepted = await this.exchange.trade(this.stolen, this.from).catch(() => false);
    this.orders.push({ at, accepted });
  }
}
