import { FINGERPRINT_PATTERN } from "../core/fingerprint";
import { ENDPOINT_CLASSES } from "../core/misuse/model";
import {
  AUTH_FAILURE_KINDS,
  MAX_USAGE_COUNT,
  MAX_USAGE_HOURS_PER_HEARTBEAT,
  type UsageHour,
} from "../core/misuse/usage";
import { secretIdSchema } from "./parse";
import * as z from "./zod";

const fingerprintSchema = z
  .string({ error: "fingerprint must be a string" })
  .check(z.regex(FINGERPRINT_PATTERN, "fingerprint must be fp1_ followed by 16 lowercase hex digits"));

const count = () =>
  z.optional(
    z
      .int({ error: "a count must be a whole number" })
      .check(
        z.minimum(0, "a count must be ≥ 0"),
        z.maximum(MAX_USAGE_COUNT, `a count must be ≤ ${MAX_USAGE_COUNT}`),
      ),
  );

/** Exactly the known names, each an optional count: an unknown class or kind is refused by name. */
const countsOf = (names: readonly string[]) =>
  z.optional(z.strictObject(Object.fromEntries(names.map((n) => [n, count()]))));

/** One UTC hour of usage of one key: the hour as ISO 8601 at a whole hour, UTC (`…T14:00:00Z`). */
const usageHourSchema = z.strictObject({
  hour: z.string({ error: "hour must be a string" }).check(
    z.regex(
      /^\d{4}-\d{2}-\d{2}T\d{2}:00:00(\.000)?Z$/,
      "hour must be a whole UTC hour, e.g. 2026-12-07T14:00:00Z",
    ),
    z.refine((s) => !Number.isNaN(Date.parse(s)), "hour must be a real date"),
  ),
  fingerprint: fingerprintSchema,
  requests: countsOf(ENDPOINT_CLASSES),
  authFailures: countsOf(AUTH_FAILURE_KINDS),
});

/** Optional `usage`: at most a few hours, each (hour, fingerprint) once. */
const usageSchema = z.strictObject({
  hours: z.array(usageHourSchema).check(
    z.maxLength(
      MAX_USAGE_HOURS_PER_HEARTBEAT,
      `usage.hours holds at most ${MAX_USAGE_HOURS_PER_HEARTBEAT} hours`,
    ),
    z.refine(
      (hours) => new Set(hours.map((h) => `${Date.parse(h.hour)}#${h.fingerprint}`)).size === hours.length,
      "usage.hours names an (hour, fingerprint) twice",
    ),
  ),
});

/** POST /heartbeats: these three fields, and `usage` when the consumer reports it (its own module: see ./schemas.ts). */
export const heartbeatBodySchema = z.strictObject({
  secretId: secretIdSchema,
  fingerprint: fingerprintSchema,
  instanceId: z
    .string({ error: "instanceId must be a string" })
    .check(z.regex(/^[A-Za-z0-9._:-]{1,128}$/, "instanceId must be 1-128 characters of A-Z a-z 0-9 . _ : -")),
  usage: z.optional(usageSchema),
});

/** The body's `usage.hours` in the core's terms (epoch hours). */
export function usageHoursOf(usage: z.infer<typeof usageSchema> | undefined): UsageHour[] | undefined {
  if (!usage) return undefined;
  return usage.hours.map((h) => ({
    hour: Math.floor(Date.parse(h.hour) / 3_600_000),
    fingerprint: h.fingerprint,
    // The schema admitted only the known names: the cast narrows what it already checked.
    requests: pruned(h.requests) as UsageHour["requests"],
    authFailures: pruned(h.authFailures) as UsageHour["authFailures"],
  }));
}

function pruned(counts: Record<string, number | undefined> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(counts ?? {})) if (n) out[k] = n;
  return out;
}
