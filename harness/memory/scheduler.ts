import {
  type RotationSchedule,
  ScheduleExistsError,
  ScheduleNotFoundError,
  type ScheduleStore,
} from "../../src/core/ports";
import { copy } from "./copy";
import { Faults } from "./faults";

type Method = "get" | "listNames" | "create" | "update" | "delete";

/** The schedule group in memory: the same answers as src/adapters/scheduler.ts (test/contract/ports). */
export class InMemoryScheduleStore implements ScheduleStore {
  readonly faults = new Faults<Method>();
  private readonly schedules = new Map<string, RotationSchedule>();
  /** Every call, in order (not a port method). */
  readonly calls: { method: Method; name?: string }[] = [];

  async get(name: string): Promise<RotationSchedule | undefined> {
    this.enter("get", name);
    const found = this.schedules.get(name);
    return found && copy(found);
  }

  async listNames(): Promise<string[]> {
    this.enter("listNames");
    return [...this.schedules.keys()].sort();
  }

  async create(schedule: RotationSchedule): Promise<void> {
    this.enter("create", schedule.name);
    if (this.schedules.has(schedule.name)) throw new ScheduleExistsError(schedule.name);
    this.schedules.set(schedule.name, copy(schedule));
  }

  async update(schedule: RotationSchedule): Promise<void> {
    this.enter("update", schedule.name);
    if (!this.schedules.has(schedule.name)) throw new ScheduleNotFoundError(schedule.name);
    this.schedules.set(schedule.name, copy(schedule));
  }

  async delete(name: string): Promise<void> {
    this.enter("delete", name);
    this.schedules.delete(name);
  }

  /** Puts a schedule as it is, bypassing the port (not a port method): arrange drift. */
  plant(schedule: RotationSchedule): void {
    this.schedules.set(schedule.name, copy(schedule));
  }

  /** Every schedule (not a port method). */
  all(): RotationSchedule[] {
    return [...this.schedules.values()].map((s) => copy(s));
  }

  private enter(method: Method, name?: string): void {
    this.faults.check(method);
    this.calls.push(name === undefined ? { method } : { method, name });
  }
}
