import { InvalidInputError } from "../errors";
import type { EvidencePeriod } from "./model";

const DAY_MS = 86_400_000;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar day `YYYY-MM-DD` (UTC midnight), or undefined when it is not one (`2026-02-30`, `12/07/2026`). */
export function parseDay(value: string): Date | undefined {
  const m = DAY.exec(value);
  if (!m) return undefined;
  const at = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  // Date.UTC rolls 2026-02-30 over to March: a day that does not exist comes back different.
  return at.toISOString().slice(0, 10) === value ? at : undefined;
}

/**
 * The evidence period: whole UTC days, both ends included. Refuses a value that is not a day and a
 * `from` after `to`, naming what was given, so a typo at 3 a.m. costs a re-run and nothing else.
 */
export function evidencePeriod(from: string, to: string): EvidencePeriod {
  const start = parseDay(from);
  const last = parseDay(to);
  const bad = [
    ...(start ? [] : [`--from ${JSON.stringify(from)}`]),
    ...(last ? [] : [`--to ${JSON.stringify(to)}`]),
  ];
  if (!start || !last) {
    throw new InvalidInputError(
      `${bad.join(" and ")}: a period is given as calendar days YYYY-MM-DD (UTC), e.g. --from 2026-11-01 --to 2026-11-30`,
    );
  }
  if (start.getTime() > last.getTime()) {
    throw new InvalidInputError(
      `--from ${from} is after --to ${to}: the period runs from the earlier day to the later one (both included)`,
    );
  }
  return {
    from,
    to,
    start: start.toISOString(),
    end: new Date(last.getTime() + DAY_MS).toISOString(),
  };
}

/** Whether an ISO time lies within the period (start included, end excluded). */
export function inPeriod(period: EvidencePeriod, at: string): boolean {
  // Parsed, not compared as text: CloudTrail's times carry no milliseconds, the audit's do.
  const t = Date.parse(at);
  return t >= Date.parse(period.start) && t < Date.parse(period.end);
}
