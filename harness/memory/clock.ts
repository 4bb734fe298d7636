import type { Alert } from "../../src/core/model";
import type { Alerts, Clock } from "../../src/core/ports";
import { copy } from "./copy";

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  private ms: number;
  constructor(start = "2030-01-01T00:00:00.000Z") {
    this.ms = Date.parse(start);
  }
  now(): Date {
    return new Date(this.ms);
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
  set(iso: string): void {
    this.ms = Date.parse(iso);
  }
}

export class InMemoryAlerts implements Alerts {
  readonly sent: Alert[] = [];
  async send(alert: Alert): Promise<void> {
    this.sent.push(copy(alert));
  }
  kinds(): string[] {
    return this.sent.map((a) => a.kind);
  }
}
