import type { Deps } from "../deps";
import { settingsFor } from "../emergency/rules";
import { type LedgerEntry, STAGE } from "../model";
import { readinessOf } from "./gate";

/** Why a revocation may not call the exchange now; the entry is held and looked at again later. */
export interface RevocationHold {
  /**
   * `label`: the key is current/pending. `gate`: consumers not confirmed. `state`: records missing.
   * `busy`: a restore holds the entry, or another attempt's claim does (nothing was decided).
   */
  rule: "label" | "gate" | "state" | "busy";
  reason: string;
  retryInSeconds: number;
}

/** A held entry is looked at again after this long at the latest (the sweeper's own rate is coarser). */
const HOLD_RETRY_SECONDS = 300;

/**
 * Invariant I1, checked where the effect happens (every revocation path calls it right before the
 * exchange, the sweeper included):
 * 1. Never a key whose Secrets Manager version carries AWSCURRENT or AWSPENDING, nor the key the
 *    recorded versions (read consistently, so a lagging label read cannot fool it) call current or
 *    next — break-glass or not. An abort clears `next` before it revokes its own key.
 * 2. A `previous` key (consumers used it) only while the gate is ready at this moment — unless an
 *    operator's break-glass was recorded on the entry before the call — and after its last restore:
 *    a restore retires the break-glass (to `breakGlassHistory`), and the gate applies again.
 *    `unpromoted` keys were never handed to a consumer and need no gate.
 * Both rules apply to each stage of a two-stage revocation (disable, then remove after the
 * grace): a removal waits while a later rotation waits for its consumers, as I1 says.
 * Returns undefined when the revocation may proceed.
 */
export async function revocationGuard(
  entry: LedgerEntry,
  deps: Pick<Deps, "secrets" | "store" | "consumers" | "clock">,
): Promise<RevocationHold | undefined> {
  const [versions, recorded] = await Promise.all([
    deps.secrets.listVersions(entry.secretId),
    deps.store.getVersions(entry.secretId),
  ]);
  const labelled = versions.find(
    (v) =>
      v.versionId === entry.versionId && (v.stages.includes(STAGE.current) || v.stages.includes(STAGE.next)),
  );
  const recordedAs =
    recorded?.current?.exchangeKeyId === entry.keyId
      ? "recorded current"
      : recorded?.next?.exchangeKeyId === entry.keyId
        ? "recorded next"
        : undefined;
  if (labelled || recordedAs) {
    return {
      rule: "label",
      reason: `key ${entry.keyId} is the ${labelled ? labelled.stages.join("/") : recordedAs} key of ${entry.secretId}; a key in use is never revoked`,
      retryInSeconds: HOLD_RETRY_SECONDS,
    };
  }
  if (entry.kind === "unpromoted" || breakGlassInForce(entry)) return undefined;

  const [enrolled, rotation] = await Promise.all([
    deps.store.getSettings(entry.secretId),
    deps.store.getRotation(entry.secretId, entry.rotationId),
  ]);
  // An emergency rotation's previous key waits for no overlap (its break-glass is on the entry).
  const settings = enrolled && settingsFor(enrolled, rotation);
  if (!settings || !recorded?.current || !recorded.promotedAt) {
    return {
      rule: "state",
      reason: `${entry.secretId} has no ${settings ? "recorded current version" : "enrollment"} to judge consumers against`,
      retryInSeconds: HOLD_RETRY_SECONDS,
    };
  }
  const gate = await readinessOf(deps, {
    secretId: entry.secretId,
    currentFingerprint: recorded.current.fingerprint,
    promotedAt: recorded.promotedAt,
    settings,
    now: deps.clock.now(),
  });
  if (gate.ready) return undefined;
  return {
    rule: "gate",
    reason:
      `waiting for consumers of ${entry.secretId}: ${gate.laggingCount} lagging` +
      (gate.overlapRemainingSeconds > 0 ? `, ${gate.overlapRemainingSeconds}s of overlap left` : ""),
    retryInSeconds: Math.min(
      HOLD_RETRY_SECONDS,
      Math.max(settings.pollIntervalSeconds, gate.overlapRemainingSeconds),
    ),
  };
}

/** A break-glass authorises only the revocation it was given for: never one after a restore. */
function breakGlassInForce(entry: LedgerEntry): boolean {
  if (!entry.breakGlass) return false;
  return !entry.restored || entry.breakGlass.at > entry.restored.at;
}
