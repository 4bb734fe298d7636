/**
 * What every port contract suite shares: the target it runs against, explicit time (2030…, so
 * nothing depends on the wall clock) and the refusal helpers. A suite is written once, as a
 * function of its target, and the runners (ports.*.contract.test.ts) call it for the in-memory
 * adapter the simulation decides on and for the production adapter on the local stack: the
 * simulation's verdicts transfer to production only while both pass the same cases.
 */
import { expect } from "vitest";
import { RotationInProgressError } from "../../../src/core/errors";

/** One implementation of a port, as a suite sees it. */
export interface PortTarget<T> {
  /** Names the implementation in the test titles: `in-memory`, `dynamodb`, `secrets-manager`. */
  readonly name: string;
  /** The adapter under test; called in each test, after the runner opened the target. */
  make(): T;
  /** A key unique to this test (secret id, ledger key id), so cases never see each other's items. */
  id(label: string): string;
  /**
   * A read of an eventually consistent index retried until it passes (real AWS only); the local
   * stack and the in-memory adapters get one attempt, so a failure is never hidden by waiting.
   */
  eventually<R>(check: () => Promise<R>): Promise<R>;
}

export const T0 = new Date("2030-01-01T00:00:00.000Z");
export const at = (seconds: number, base = T0): Date => new Date(base.getTime() + seconds * 1000);
export const iso = (seconds: number, base = T0): string => at(seconds, base).toISOString();
/** The lease a stalled lock gets: it never expires by time. */
export const NEVER = "9999-12-31T23:59:59.999Z";
export const LEASE = 600;

/** The rejection of `call`; fails the test if it resolved. */
export async function refusal(call: Promise<unknown>): Promise<Error> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, "expected the call to be refused").toBeInstanceOf(Error);
  return error as Error;
}

/** A refused conditional write: `RotationInProgressError` (the ASL matches on its name). */
export async function lockRefused(call: Promise<unknown>): Promise<RotationInProgressError> {
  const error = await refusal(call);
  expect(error).toBeInstanceOf(RotationInProgressError);
  expect(error.name).toBe("RotationInProgressError");
  return error as RotationInProgressError;
}

/** A counter-based `id` for in-memory targets (every test gets a fresh adapter anyway). */
export function counterIds(prefix: string): (label: string) => string {
  let n = 0;
  return (label) => {
    n += 1;
    return `${prefix}/${label}/${n}`;
  };
}

/** `eventually` for targets that are consistent at once. */
export const once = <R>(check: () => Promise<R>): Promise<R> => check();
