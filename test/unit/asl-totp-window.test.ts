import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/**
 * A spent 2FA window is waited out by the state machine (`TotpWindowError`), never inside a
 * Lambda's timeout: every task that calls an exchange with the admin key retries it after at least
 * one 30-second TOTP window, without jitter (a shorter wait would hit the same window again), and
 * before any catch-all retrier could take it with a shorter interval.
 */
const asl = JSON.parse(readFileSync("statemachines/rotation.asl.json", "utf8")) as {
  States: Record<string, { Type: string; Retry?: Array<Record<string, unknown>> }>;
};
const EXCHANGE_TASKS = ["BeginRotation", "CreateNext", "AbortRotation"];

describe("ASL: TotpWindowError", () => {
  it.each(EXCHANGE_TASKS)(
    "%s retries it after a whole TOTP window, first among the retriers that match it",
    (name) => {
      const retriers = asl.States[name]?.Retry ?? [];
      const first = retriers.find((r) => {
        const errors = r.ErrorEquals as string[];
        return (
          errors.includes("TotpWindowError") ||
          errors.includes("States.ALL") ||
          errors.includes("States.TaskFailed")
        );
      });
      expect(first?.ErrorEquals).toEqual(["TotpWindowError"]);
      expect(first?.IntervalSeconds as number).toBeGreaterThanOrEqual(30);
      expect(first?.JitterStrategy).toBeUndefined();
      expect(first?.MaxAttempts as number).toBeGreaterThanOrEqual(2);
    },
  );
});
