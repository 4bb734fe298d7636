import { MAX_DEADLINE_SECONDS } from "../revocation/readiness";
import { DEFAULTABLE_KEYS, isInt } from "./fields";

/**
 * One entry under validation: its fields with `defaults` applied, and the list every problem goes
 * to, each named `entry secrets[i] (<secretId>), field <name>: ...`.
 */
export interface EntryCheck {
  /** The entry's fields over `defaults`. */
  readonly fields: Record<string, unknown>;
  /** A field the checks below accepted, as the number they accepted. */
  number(field: string): number;
  report(field: string, problem: string): void;
  /** Reports a required field that neither the entry nor `defaults` sets. */
  missing(field: string): boolean;
  /**
   * A required integer in [min, max]. Upper bounds too: 1e200 is an integer to JavaScript, and
   * DynamoDB refuses it at enroll time.
   */
  integer(field: string, min: number, max?: number): boolean;
  /** An optional integer >= min. */
  optionalInteger(field: string, min: number): boolean;
}

export function entryCheck(fields: Record<string, unknown>, entry: string, problems: string[]): EntryCheck {
  const report = (field: string, problem: string) => problems.push(`${entry}, field ${field}: ${problem}`);
  const missing = (field: string) => {
    if (fields[field] !== undefined) return false;
    report(
      field,
      `required (set it on the entry${DEFAULTABLE_KEYS.includes(field) ? " or in defaults" : ""})`,
    );
    return true;
  };
  return {
    fields,
    number: (field) => fields[field] as number,
    report,
    missing,
    integer(field, min, max = MAX_DEADLINE_SECONDS) {
      if (missing(field)) return false;
      const v = fields[field];
      if (isInt(v) && v >= min && v <= max) return true;
      report(field, `must be an integer from ${min} to ${max}`);
      return false;
    },
    optionalInteger(field, min) {
      const v = fields[field];
      if (v === undefined || (isInt(v) && v >= min)) return true;
      report(field, `must be an integer >= ${min}`);
      return false;
    },
  };
}
