import { CONSUMER_ID_PATTERN } from "../consumers/registry-rules";
import { SECRET_ID } from "../secret-id";
import {
  ENDPOINT_CLASSES,
  type EndpointClass,
  type ExchangeActivity,
  hourOf,
  type MisuseInput,
} from "./model";

/** A line the replay could not use: its number (1-based), the field, and what the field must be. */
export interface RejectedLine {
  line: number;
  field: string;
  problem: string;
}

export interface ParsedInput {
  input: MisuseInput;
  rejected: RejectedLine[];
}

/** A field is wrong. The message says what it must be and never repeats what it was (it could be a key). */
class FieldError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(problem);
  }
}

const MAX_LINE = 10_000;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const ACCOUNT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const KEY_ID = /^[\x21-\x7e]{1,256}$/;
export const IPV4 = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
export const IPV6 = /^(?=.*:)[0-9a-fA-F:]{2,39}$/;
const COUNTRY = /^[A-Z]{2}$/;

/**
 * The replay's JSON-lines input (issue 20, deliverable 5), one object a line:
 *   {"t","source":"exchange","account","secretId","keyId","endpointClass","count","ip"?,"country"?}
 *   {"t","source":"consumer","secretId","keyId","consumerId","endpointClass","count"}
 *   {"t","source":"rotation","secretId","currentKeyId","retiredKeyIds":[…]}
 *   {"source":"scope","secretId","endpointClasses":[…]}   (keyshift's addition: the declared scope)
 * A bad line is rejected with its number and field; every other line is kept. Unknown fields are
 * ignored and never echoed.
 */
export function parseMisuseLines(text: string): ParsedInput {
  const input: MisuseInput = { exchange: [], consumers: [], rotations: [], scopes: new Map() };
  const scopes = input.scopes as Map<string, readonly EndpointClass[]>;
  const rejected: RejectedLine[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? "").trim();
    if (raw === "") continue;
    try {
      const row = objectOf(raw);
      const source = row.source;
      if (source === "exchange") input.exchange.push(exchangeRow(row));
      else if (source === "consumer") input.consumers.push(consumerRow(row));
      else if (source === "rotation") input.rotations.push(rotationRow(row));
      else if (source === "scope") scopes.set(str(row, "secretId", SECRET_ID, "a secret id"), classes(row));
      else throw new FieldError("source", "must be exchange, consumer, rotation or scope");
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      rejected.push({ line: i + 1, field: err.field, problem: err.message });
    }
  }
  return { input, rejected };
}

function objectOf(raw: string): Record<string, unknown> {
  if (raw.length > MAX_LINE) throw new FieldError("(line)", `longer than ${MAX_LINE} characters`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new FieldError("(line)", "is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new FieldError("(line)", "must be a JSON object");
  return value as Record<string, unknown>;
}

function exchangeRow(row: Record<string, unknown>): ExchangeActivity {
  const activity: ExchangeActivity = {
    hour: hourOf(time(row)),
    account: str(row, "account", ACCOUNT, "1-64 characters of A-Z a-z 0-9 . _ - (an exchange account)"),
    secretId: str(row, "secretId", SECRET_ID, "a secret id"),
    keyId: str(row, "keyId", KEY_ID, "1-256 printable ASCII characters (a key id)"),
    endpointClass: endpointClass(row.endpointClass, "endpointClass"),
    count: count(row),
  };
  if (row.ip !== undefined) {
    const ip = str(row, "ip", /./, "an IP address");
    if (!IPV4.test(ip) && !IPV6.test(ip)) throw new FieldError("ip", "must be an IPv4 or IPv6 address");
    activity.ip = ip;
  }
  if (row.country !== undefined)
    activity.country = str(row, "country", COUNTRY, "an ISO 3166 alpha-2 code (JP)");
  return activity;
}

function consumerRow(row: Record<string, unknown>) {
  return {
    hour: hourOf(time(row)),
    secretId: str(row, "secretId", SECRET_ID, "a secret id"),
    keyId: str(row, "keyId", KEY_ID, "1-256 printable ASCII characters (a key id)"),
    consumerId: str(row, "consumerId", CONSUMER_ID_PATTERN, "1-64 characters of A-Z a-z 0-9 . _ -"),
    endpointClass: endpointClass(row.endpointClass, "endpointClass"),
    count: count(row),
  };
}

function rotationRow(row: Record<string, unknown>) {
  const retired = row.retiredKeyIds;
  if (
    !Array.isArray(retired) ||
    retired.length > 64 ||
    !retired.every((k) => typeof k === "string" && KEY_ID.test(k))
  )
    throw new FieldError("retiredKeyIds", "must be a list of at most 64 key ids");
  return {
    atMs: time(row),
    secretId: str(row, "secretId", SECRET_ID, "a secret id"),
    currentKeyId: str(row, "currentKeyId", KEY_ID, "1-256 printable ASCII characters (a key id)"),
    retiredKeyIds: retired as string[],
  };
}

function classes(row: Record<string, unknown>): EndpointClass[] {
  const list = row.endpointClasses;
  if (!Array.isArray(list) || list.length > ENDPOINT_CLASSES.length)
    throw new FieldError("endpointClasses", `must be a list of ${ENDPOINT_CLASSES.join(", ")}`);
  return list.map((c) => endpointClass(c, "endpointClasses"));
}

function time(row: Record<string, unknown>): number {
  const t = row.t;
  const ms = typeof t === "string" && ISO.test(t) ? Date.parse(t) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new FieldError("t", "must be an ISO 8601 time with a zone (2027-03-01T14:00:00Z)");
  return ms;
}

function str(row: Record<string, unknown>, field: string, pattern: RegExp, rule: string): string {
  const value = row[field];
  if (typeof value !== "string" || !pattern.test(value)) throw new FieldError(field, `must be ${rule}`);
  return value;
}

function endpointClass(value: unknown, field: string): EndpointClass {
  if (typeof value !== "string" || !(ENDPOINT_CLASSES as readonly string[]).includes(value))
    throw new FieldError(field, `must be one of ${ENDPOINT_CLASSES.join(", ")}`);
  return value as EndpointClass;
}

function count(row: Record<string, unknown>): number {
  const n = row.count;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 1e12)
    throw new FieldError("count", "must be a whole number from 0 to 10^12");
  return n;
}
