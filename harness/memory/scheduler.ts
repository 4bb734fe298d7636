import {
  type RotationSchedule,
  ScheduleExistsError,
  ScheduleNotFoundError,
  type ScheduleStore,
  type ScheduleSummary,
} from "../../src/core/ports";
import { copy } from "./copy";
import { Faults } from "./faults";

type Method = "get" | "listNames" | "listSummaries" | "create" | "update" | "delete";

interface Kept {
  schedule: RotationSchedule;
  modifiedAt: string;
}

/** The schedule group in memory: the same answers as src/adapters/scheduler.ts (test/contract/ports). */
export class InMemoryScheduleStore implements ScheduleStore {
  readonly faults = new Faults<Method>();
  private readonly schedules = new Map<string, Kept>();
  /** LastModificationDate of what is created or updated from now on (not a port method). */
  now: () => Date = () => new Date();
  /** Every call, in order (not a port method). */
  readonly calls: { method: Method; name?: string }[] = [];

  async get(name: string): Promise<RotationSchedule | undefined> {
    this.enter("get", name);
    const found = this.schedules.get(name);
    return found && copy(found.schedule);
  }

  async listNames(): Promise<string[]> {
    this.enter("listNames");
    return [...this.schedules.keys()].sort();
  }

  async listSummaries(): Promise<ScheduleSummary[]> {
    this.enter("listSummaries");
    return [...this.schedules.values()]
      .map(({ schedule, modifiedAt }) => ({
        name: schedule.name,
        enabled: schedule.enabled,
        targetArn: schedule.target.arn,
        modifiedAt,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async create(schedule: RotationSchedule): Promise<void> {
    this.enter("create", schedule.name);
    if (this.schedules.has(schedule.name)) throw new ScheduleExistsError(schedule.name);
    this.keep(schedule);
  }

  async update(schedule: RotationSchedule): Promise<void> {
    this.enter("update", schedule.name);
    if (!this.schedules.has(schedule.name)) throw new ScheduleNotFoundError(schedule.name);
    this.keep(schedule);
  }

  async delete(name: string): Promise<void> {
    this.enter("delete", name);
    this.schedules.delete(name);
  }

  /** Puts a schedule as it is, bypassing the port (not a port method): arrange drift. */
  plant(schedule: RotationSchedule, modifiedAt: Date = this.now()): void {
    this.schedules.set(schedule.name, { schedule: copy(schedule), modifiedAt: modifiedAt.toISOString() });
  }

  /** Every schedule (not a port method). */
  all(): RotationSchedule[] {
    return [...this.schedules.values()].map((s) => copy(s.schedule));
  }

  private keep(schedule: RotationSchedule): void {
    this.schedules.set(schedule.name, { schedule: copy(schedule), modifiedAt: this.now().toISOString() });
  }

  private enter(method: Method, name?: string): void {
    this.faults.check(method);
    this.calls.push(name === undefined ? { method } : { method, name });
  }
}
