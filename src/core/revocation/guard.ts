import type { Deps } from "../deps";
import { settingsFor } from "../emergency/rules";
import {
  type LedgerEntry,
  type RotationRecord,
  type SecretSettings,
  STAGE,
  type VersionFingerprints,
} from "../model";
import type { SecretVersionInfo } from "../ports";
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

/**
 * What the caller already read in this invocation: the secret's enrollment and the record of the
 * rotation it drives (RevokePrevious holds the lock it just renewed; force-revoke holds it and its
 * claim). The guard uses them instead of reading them again. They configure the rule — they are
 * not what the rule judges: a re-enrollment is not ordered with an invocation either way, and a
 * takeover of the record (an escalation) only relaxes the settings, so a record read a moment
 * earlier errs on the strict side.
 */
export interface CallerReads {
  settings: SecretSettings;
  rotation: RotationRecord | undefined;
}

/** The guard's verdict, with what it read (the rest of the attempt uses it rather than reading again). */
export interface GuardVerdict {
  hold: RevocationHold | undefined;
  /** The versions record as read right before the call (step 1). */
  recorded: VersionFingerprints | undefined;
  /** The secret's enrollment, when the guard had it (read, or the caller's). */
  settings: SecretSettings | undefined;
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
 * `hold` is undefined when the revocation may proceed.
 *
 * The labels, the versions record, the consumers and their instances are read HERE, right before
 * the exchange call, even when the caller read them a moment ago (RevokePrevious did, to refuse
 * before writing anything): they are what the decision is about, and a heartbeat, a promotion or
 * a rollback may land in between (I1, "at the moment of the decision"). Only `known` (the
 * caller's enrollment and rotation record, see `CallerReads`) is taken as read.
 */
export async function revocationGuard(
  entry: LedgerEntry,
  deps: Pick<Deps, "secrets" | "store" | "consumers" | "clock">,
  known?: CallerReads,
): Promise<GuardVerdict> {
  const [versions, recorded] = await Promise.all([
    deps.secrets.listVersions(entry.secretId),
    deps.store.getVersions(entry.secretId),
  ]);
  const inUse = inUseHold(entry, versions, recorded);
  if (inUse) return { hold: inUse, recorded, settings: known?.settings };
  if (entry.kind === "unpromoted" || breakGlassInForce(entry)) {
    return { hold: undefined, recorded, settings: known?.settings };
  }
  const mine =
    known && known.rotation?.rotationId === entry.rotationId && known.settings.secretId === entry.secretId;
  const [enrolled, rotation] = mine
    ? [known.settings, known.rotation]
    : await Promise.all([
        deps.store.getSettings(entry.secretId),
        deps.store.getRotation(entry.secretId, entry.rotationId),
      ]);
  return { hold: await gateHold(entry, recorded, enrolled, rotation, deps), recorded, settings: enrolled };
}

/** Rule 1: the key AWSCURRENT/AWSPENDING or the recorded current/next points at is never revoked. */
function inUseHold(
  entry: LedgerEntry,
  versions: SecretVersionInfo[],
  recorded: VersionFingerprints | undefined,
): RevocationHold | undefined {
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
  if (!labelled && !recordedAs) return undefined;
  return {
    rule: "label",
    reason: `key ${entry.keyId} is the ${labelled ? labelled.stages.join("/") : recordedAs} key of ${entry.secretId}; a key in use is never revoked`,
    retryInSeconds: HOLD_RETRY_SECONDS,
  };
}

/** Rule 2: a `previous` key with no break-glass in force waits for the gate, evaluated now. */
async function gateHold(
  entry: LedgerEntry,
  recorded: VersionFingerprints | undefined,
  enrolled: SecretSettings | undefined,
  rotation: RotationRecord | undefined,
  deps: Pick<Deps, "consumers" | "clock">,
): Promise<RevocationHold | undefined> {
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
