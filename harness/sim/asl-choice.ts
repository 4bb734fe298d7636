import { type Json, queryPath, runtimeError } from "./jsonpath";

/** One Choice rule (or a nested And/Or/Not operand) as ASL writes it. */
export type ChoiceRule = { [k: string]: Json };

const COMPARATORS = [
  "StringEquals",
  "StringLessThan",
  "StringGreaterThan",
  "StringLessThanEquals",
  "StringGreaterThanEquals",
  "StringMatches",
  "NumericEquals",
  "NumericLessThan",
  "NumericGreaterThan",
  "NumericLessThanEquals",
  "NumericGreaterThanEquals",
  "BooleanEquals",
  "TimestampEquals",
  "TimestampLessThan",
  "TimestampGreaterThan",
  "TimestampLessThanEquals",
  "TimestampGreaterThanEquals",
] as const;

function compare(op: string, left: Json, right: Json): boolean {
  const kind = op.startsWith("String")
    ? "string"
    : op.startsWith("Numeric")
      ? "number"
      : op.startsWith("Boolean")
        ? "boolean"
        : "timestamp";
  // A type mismatch is simply "no match", as in the service.
  if (kind === "timestamp") {
    if (typeof left !== "string" || typeof right !== "string") return false;
    return order(op.slice("Timestamp".length), Date.parse(left), Date.parse(right));
  }
  if (typeof left !== kind || typeof right !== kind) return false;
  if (op === "StringMatches") return globMatch(left as string, right as string);
  if (op === "BooleanEquals") return left === right;
  return order(op.replace(/^(String|Numeric)/, ""), left as number | string, right as number | string);
}

function order(rel: string, a: number | string, b: number | string): boolean {
  switch (rel) {
    case "Equals":
      return a === b;
    case "LessThan":
      return a < b;
    case "GreaterThan":
      return a > b;
    case "LessThanEquals":
      return a <= b;
    case "GreaterThanEquals":
      return a >= b;
    default:
      throw runtimeError(`unknown comparison ${rel}`);
  }
}

function globMatch(value: string, pattern: string): boolean {
  const re = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${re}$`).test(value);
}

function tryPath(path: string, input: Json, context: Json): { found: boolean; value: Json } {
  try {
    return { found: true, value: queryPath(path, input, context) };
  } catch {
    return { found: false, value: null };
  }
}

/** Evaluates one rule; a comparison on a variable that is absent raises States.Runtime. */
export function evaluateRule(rule: ChoiceRule, input: Json, context: Json): boolean {
  if (Array.isArray(rule.And)) return rule.And.every((r) => evaluateRule(r as ChoiceRule, input, context));
  if (Array.isArray(rule.Or)) return rule.Or.some((r) => evaluateRule(r as ChoiceRule, input, context));
  if (rule.Not !== undefined) return !evaluateRule(rule.Not as ChoiceRule, input, context);
  const variable = rule.Variable;
  if (typeof variable !== "string") throw runtimeError("Choice rule without Variable");
  const probe = tryPath(variable, input, context);
  if (rule.IsPresent !== undefined) return probe.found === rule.IsPresent;
  if (!probe.found) throw runtimeError(`Path expression '${variable}' does not point to a value`);
  const v = probe.value;
  if (rule.IsNull !== undefined) return (v === null) === rule.IsNull;
  if (rule.IsString !== undefined) return (typeof v === "string") === rule.IsString;
  if (rule.IsNumeric !== undefined) return (typeof v === "number") === rule.IsNumeric;
  if (rule.IsBoolean !== undefined) return (typeof v === "boolean") === rule.IsBoolean;
  if (rule.IsTimestamp !== undefined) {
    return (typeof v === "string" && !Number.isNaN(Date.parse(v))) === rule.IsTimestamp;
  }
  for (const op of COMPARATORS) {
    if (rule[op] !== undefined) return compare(op, v, rule[op] as Json);
    const viaPath = rule[`${op}Path`];
    if (typeof viaPath === "string") return compare(op, v, queryPath(viaPath, input, context));
  }
  throw runtimeError(`Choice rule on ${variable} has no comparison the simulator knows`);
}
