import { REGISTRATION_BOUNDS } from "../consumers/registry-rules";

/** The prefix the IAM policies grant: an enrolled secret lives under it. */
export const SECRET_PREFIX = "keyshift/exchange/";
/** Secrets Manager names: the one definition, re-exported for the entry checks. */
export { SECRET_ID } from "../secret-id";
/** The account names its admin secret `keyshift/admin/<account>`, so it stays a plain name. */
export const ACCOUNT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const ENTRY_KEYS = [
  "secretId",
  "exchangeAccount",
  "schedule",
  "enabled",
  "timezone",
  "flexibleWindowMinutes",
  "minOverlapSeconds",
  "deadlineSeconds",
  "pollIntervalSeconds",
  "maxPollIntervalSeconds",
  "livenessMultiplier",
  "removeAfterSeconds",
  "idleHeartbeatSeconds",
  "activeHeartbeatSeconds",
  "livenessGraceSeconds",
  "consumer",
];
/** Everything but the identity of a secret may come from `defaults`. */
export const DEFAULTABLE_KEYS = ENTRY_KEYS.filter((k) => k !== "secretId" && k !== "exchangeAccount");
export const CONSUMER_KEYS = ["cacheTtlSeconds", "heartbeatIntervalSeconds", "required"];
/** The consumer defaults must pass `register-consumer`: its own bounds, not a copy. */
export const CONSUMER_BOUNDS = REGISTRATION_BOUNDS;
/** Infinity is a number >= 1, and DynamoDB refuses it; a hundred missed heartbeats is already silence. */
export const MAX_LIVENESS_MULTIPLIER = 100;

export const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);
export const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);
