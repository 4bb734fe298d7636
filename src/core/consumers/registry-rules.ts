import { InvalidInputError } from "../errors";
import type { ConsumerRegistration } from "../model";
import { principalKey } from "../principal";

/**
 * What a consumer registration may hold. Enforced in the core, so the CLI, the local stack and the
 * simulation all get it: a consumer id is a plain name an operator can read and type (no `#`, which
 * separates the parts of instance keys, no spaces, no bidirectional overrides that make two ids look
 * alike), and every number fits DynamoDB and means something.
 */
export const CONSUMER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const CONSUMER_ID_RULE = "1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit";

/** Bounds of the registration's numbers (seconds); the CLI names the same bounds. */
export const REGISTRATION_BOUNDS = {
  /** 0: the consumer re-reads the secret on every use. A week is far past any sane cache. */
  cacheTtlSeconds: { min: 0, max: 7 * 24 * 3600 },
  heartbeatIntervalSeconds: { min: 1, max: 24 * 3600 },
} as const;

/** IAM role and user names are at most 64 characters. */
const MAX_PRINCIPAL_NAME = 64;

export function requireConsumerId(consumerId: string): string {
  if (!CONSUMER_ID_PATTERN.test(consumerId)) {
    throw new InvalidInputError(
      // Escaped: a right-to-left override in the id must show in the message, not reorder it.
      `consumer id ${JSON.stringify(consumerId.slice(0, 80)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)} is invalid: use ${CONSUMER_ID_RULE}`,
    );
  }
  return consumerId;
}

/**
 * The registration as it will be stored: id checked, numbers within bounds, principal normalized
 * (see `principalKey`). Throws `InvalidInputError` naming the field and its bounds.
 */
export function validRegistration<T extends Omit<ConsumerRegistration, "registeredAt">>(consumer: T): T {
  requireConsumerId(consumer.consumerId);
  for (const field of ["cacheTtlSeconds", "heartbeatIntervalSeconds"] as const) {
    const { min, max } = REGISTRATION_BOUNDS[field];
    const value = consumer[field];
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidInputError(
        `${field} must be a whole number of seconds from ${min} to ${max}, got ${String(value).slice(0, 40)}`,
      );
    }
  }
  const principalArn = principalKey(consumer.principalArn);
  const name = principalArn.slice(principalArn.lastIndexOf("/") + 1);
  if (name.length > MAX_PRINCIPAL_NAME) {
    throw new InvalidInputError(
      `principal name ${name.slice(0, 16)}… has ${name.length} characters: IAM role and user names are at most ${MAX_PRINCIPAL_NAME}`,
    );
  }
  return { ...consumer, principalArn };
}

/**
 * What a change of a registered consumer takes away from the gate that waits for it (empty: it
 * waits as long or longer). Only legacy instance rows (no `expectedBy`) are judged with the
 * heartbeat interval, but there a shorter one lets an instance live on the old key count as gone.
 */
export function gateWeakenings(
  before: Omit<ConsumerRegistration, "registeredAt">,
  after: Omit<ConsumerRegistration, "registeredAt">,
  minOverlapSeconds: number,
): string[] {
  const found: string[] = [];
  if (before.required && !after.required) found.push("required → optional (the gate stops waiting for it)");
  if (principalKey(before.principalArn) !== principalKey(after.principalArn)) {
    found.push(
      `principal ${before.principalArn} → ${after.principalArn} (the old principal's instances are no longer heard from)`,
    );
  }
  if (after.heartbeatIntervalSeconds < before.heartbeatIntervalSeconds) {
    found.push(
      `heartbeatIntervalSeconds ${before.heartbeatIntervalSeconds} → ${after.heartbeatIntervalSeconds} (its instances count as gone sooner)`,
    );
  }
  if (after.cacheTtlSeconds > Math.max(before.cacheTtlSeconds, minOverlapSeconds)) {
    found.push(
      `cacheTtlSeconds ${before.cacheTtlSeconds} → ${after.cacheTtlSeconds}, past minOverlapSeconds ${minOverlapSeconds} ` +
        "(the overlap no longer outlasts its cache)",
    );
  }
  return found;
}
