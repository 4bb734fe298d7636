/**
 * The six fields of an EventBridge `cron(...)` expression, checked the way EventBridge Scheduler
 * documents them (values, wildcards, the `?` rule):
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based and
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html#eb-cron-expressions
 *
 * | field        | values          | wildcards       |
 * | minutes      | 0-59            | , - * /         |
 * | hours        | 0-23            | , - * /         |
 * | day-of-month | 1-31            | , - * ? / L W   |
 * | month        | 1-12 or JAN-DEC | , - * /         |
 * | day-of-week  | 1-7 or SUN-SAT  | , - * ? L #     |
 * | year         | 1970-2199       | , - * /         |
 */

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface FieldRule {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Whether `/` (increments) is allowed: every field but day-of-week. */
  step: boolean;
}

const FIELDS: FieldRule[] = [
  { name: "minutes", min: 0, max: 59, step: true },
  { name: "hours", min: 0, max: 23, step: true },
  { name: "day-of-month", min: 1, max: 31, step: true },
  { name: "month", min: 1, max: 12, names: MONTHS, step: true },
  { name: "day-of-week", min: 1, max: 7, names: DAYS, step: false },
  { name: "year", min: 1970, max: 2199, step: true },
];

/** A valid expression to show next to every refusal. */
export const CRON_EXAMPLE = "cron(0 6 ? * MON *)";

/** What is wrong with the six fields of a `cron(...)` expression, or undefined. */
export function cronFieldsProblem(fields: string[]): string | undefined {
  if (fields.length !== 6) {
    return `cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`;
  }
  const [, , dayOfMonth, , dayOfWeek] = fields;
  // "You can't specify the Day-of-month and Day-of-week fields in the same cron expression. If you
  // specify a value or a * (asterisk) in one of the fields, you must use a ? (question mark) in the other."
  if ((dayOfMonth === "?") === (dayOfWeek === "?")) {
    return 'exactly one of day-of-month and day-of-week must be "?"';
  }
  for (const [i, rule] of FIELDS.entries()) {
    const field = fields[i] ?? "";
    const problem = fieldProblem(field, rule);
    if (problem) return `${rule.name} field "${field}": ${problem}`;
  }
  return undefined;
}

function fieldProblem(field: string, rule: FieldRule): string | undefined {
  if (field === "?")
    return rule.name === "day-of-month" || rule.name === "day-of-week"
      ? undefined
      : "? is only for day-of-month or day-of-week";
  if (rule.name === "day-of-month") {
    if (field === "L" || field === "LW") return undefined;
    const weekday = /^(\d+)W$/.exec(field);
    if (weekday) return numberProblem(weekday[1] ?? "", rule);
  }
  if (rule.name === "day-of-week") {
    if (field === "L") return undefined;
    const nth = /^([^#]+)#(.*)$/.exec(field);
    // "If you use the '#' character, you can define only one expression in the day-of-week field."
    if (nth) {
      const day = numberProblem(nth[1] ?? "", rule);
      if (day) return day;
      return /^[1-5]$/.test(nth[2] ?? "") ? undefined : `the instance after # must be 1 to 5`;
    }
    const last = /^(.+)L$/.exec(field);
    if (last) return numberProblem(last[1] ?? "", rule);
  }
  for (const item of field.split(",")) {
    const problem = itemProblem(item, rule);
    if (problem) return problem;
  }
  return undefined;
}

/** One list item: `*`, `a`, `a-b`, each optionally `/n` where the field allows increments. */
function itemProblem(item: string, rule: FieldRule): string | undefined {
  const [range = "", step, extra] = item.split("/");
  if (extra !== undefined) return `"${item}" has more than one /`;
  if (step !== undefined) {
    if (!rule.step) return `/ is not allowed in ${rule.name}`;
    if (!/^\d+$/.test(step) || Number(step) < 1)
      return `the increment in "${item}" must be a positive integer`;
  }
  if (range === "*") return undefined;
  const [from = "", to, more] = range.split("-");
  if (more !== undefined) return `"${item}" is not a value or a range a-b`;
  return numberProblem(from, rule) ?? (to === undefined ? undefined : numberProblem(to, rule));
}

function numberProblem(text: string, rule: FieldRule): string | undefined {
  const named = rule.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return undefined;
  const allowed = `${rule.min}-${rule.max}${rule.names ? ` or ${rule.names[0]}-${rule.names.at(-1)}` : ""}`;
  if (!/^\d+$/.test(text)) return `"${text}" is not a value (${allowed})`;
  const n = Number(text);
  return n >= rule.min && n <= rule.max ? undefined : `${text} is out of range (${allowed})`;
}
