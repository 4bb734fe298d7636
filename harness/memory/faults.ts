/** An error constructor the fakes can throw: a domain error class or a plain `Error`. */
export type ErrorClass = new (message: string) => Error;

interface Fault {
  /** Calls to let through before this fault starts failing. */
  skip: number;
  remaining: number;
  make: () => Error;
}

/**
 * Per-method failure injection shared by the fakes: "fail the next K calls of `method`".
 * The fake calls `check(method)` first thing, so an injected failure changes no state.
 */
export class Faults<M extends string> {
  private readonly pending = new Map<M, Fault[]>();

  failNext(method: M, times: number, errorClass: ErrorClass, message = `injected ${method} failure`): void {
    this.failAfter(method, 0, times, errorClass, message);
  }

  /** Lets `okCalls` calls of `method` through, then fails the next `times`. */
  failAfter(
    method: M,
    okCalls: number,
    times: number,
    errorClass: ErrorClass,
    message = `injected ${method} failure`,
  ): void {
    const queue = this.pending.get(method) ?? [];
    queue.push({ skip: okCalls, remaining: times, make: () => new errorClass(message) });
    this.pending.set(method, queue);
  }

  /** Throws the next injected failure for `method`, if any is left. */
  check(method: M): void {
    const queue = this.pending.get(method);
    const fault = queue?.[0];
    if (!queue || !fault) return;
    if (fault.skip > 0) {
      fault.skip -= 1;
      return;
    }
    fault.remaining -= 1;
    if (fault.remaining <= 0) queue.shift();
    throw fault.make();
  }

  clear(): void {
    this.pending.clear();
  }
}

/** An error whose `name` is an AWS exception name, as the SDK's modeled exceptions carry. */
export function awsError(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

/** What the SDK throws when AWS throttles a call: the transient failure steps must survive. */
export class ThrottlingException extends Error {
  override name = "ThrottlingException";
}
