import { type Deps, type RotationRef, requireSettings, writerOf } from "../deps";
import { emergencyDeadlinePassed, settingsFor } from "../emergency/rules";
import {
  ConsumersNotReadyError,
  RevocationFailedError,
  RevocationRefusedError,
  RotationStateError,
} from "../errors";
import type { BreakGlass, RotationRecord, SecretSettings, VersionRef } from "../model";
import { holdLock } from "../rotation/lock";
import { ledgerEntryId } from "../tokens";
import { readinessOf } from "./gate";
import type { Readiness } from "./readiness";
import { type RevocationAttempt, revokeThroughLedger } from "./through-ledger";

export interface RevokePreviousOutput {
  entryId: string;
  keyId: string;
  /**
   * `disabled`: two-stage revocation's first stage (the key no longer authenticates; removed after
   * the grace). `awaiting-operator`: a manual account; the workflow waits until a person confirms
   * the deletion (`AwaitManualDeletion`).
   */
  status: "revoked" | "disabled" | "awaiting-operator";
  attempts: number;
}

/**
 * RevokePrevious: revoke the previous key on the exchange, through the ledger.
 *
 * Input: secret id, rotation id, execution. Output: the ledger entry id and its `revoked` status.
 * 1. The lock must be driven by this execution (renewed); the gate is checked again here (the rule
 *    lives in the core, not only in the ASL Choice): not ready → `ConsumersNotReadyError`, back to
 *    waiting, before anything is written.
 *    An emergency rotation (suspected compromise) past its short deadline revokes anyway — only a
 *    key the emergency names as compromised (`emergencyCovers`): the one sanctioned break of the
 *    gate, audited with its reason and alerted with the consumers that will fail BEFORE the
 *    break-glass is recorded on the ledger entry and the exchange is called.
 * 2. Write the ledger entry `pending` BEFORE calling the exchange; the revocation guard checks the
 *    labels and the gate once more right before the call (I1).
 * 3. `revoked` once the exchange confirms the removal, `disabled` where revocation is two-stage (the
 *    sweeper removes the key after the grace); `failed` + `RevocationFailedError` otherwise (the state
 *    retries with backoff and jitter, then hands the entry over to the sweeper).
 */
export async function revokePrevious(
  input: RotationRef,
  deps: RevokePreviousDeps,
): Promise<RevokePreviousOutput> {
  const { secretId, rotationId } = input;
  const enrolled = await requireSettings(deps.store, secretId);
  await holdLock(deps, input, enrolled);
  const { rotation, previous, current } = await promotedPair(input, deps);
  const now = deps.clock.now();
  const breakGlass = await gateOrBreakGlass(deps, rotation, previous, current, enrolled, now);
  if (rotation.phase !== "revoking") {
    await deps.store.putRotation(
      { ...rotation, phase: "revoking", updatedAt: now.toISOString() },
      writerOf(input),
    );
  }
  const attempt = await revokeThroughLedger(
    {
      secretId,
      exchangeAccount: enrolled.exchangeAccount,
      keyId: previous.exchangeKeyId,
      versionId: previous.versionId,
      rotationId,
      kind: "previous",
    },
    `rotation:${rotationId}`,
    deps,
    // The guard takes this invocation's enrollment and record as read; it reads labels, versions
    // and the gate again itself, right before the call (I1).
    { known: { settings: enrolled, rotation }, ...(breakGlass ? { breakGlass } : {}) },
  );
  return outcomeOf(attempt, previous, enrolled.exchangeAccount);
}

type RevokePreviousDeps = Pick<
  Deps,
  | "secrets"
  | "store"
  | "lock"
  | "consumers"
  | "ledger"
  | "exchange"
  | "audit"
  | "alerts"
  | "clock"
  | "revocation"
>;

/**
 * The rotation's previous key and the recorded current version it was replaced by. Refuses a
 * rotation with no promoted pair, and a previous key that is the current one again (a rollback).
 */
async function promotedPair(
  { secretId, rotationId }: RotationRef,
  deps: Pick<Deps, "store">,
): Promise<{ rotation: RotationRecord; previous: VersionRef; current: PromotedCurrent }> {
  const rotation = await deps.store.getRotation(secretId, rotationId);
  const versions = await deps.store.getVersions(secretId);
  if (!rotation?.previous || !versions?.current || !versions.promotedAt) {
    throw new RotationStateError(
      `rotation ${rotationId} of ${secretId} has no promoted current/previous pair`,
    );
  }
  const previous = rotation.previous;
  if (previous.exchangeKeyId === versions.current.exchangeKeyId) {
    throw new RevocationRefusedError(
      `rotation ${rotationId} of ${secretId}: its previous key ${previous.exchangeKeyId} is the current key again; nothing is revoked`,
    );
  }
  return { rotation, previous, current: { ...versions.current, promotedAt: versions.promotedAt } };
}

type PromotedCurrent = VersionRef & { promotedAt: string };

/**
 * The first of two gate evaluations, on purpose: this one refuses before anything is written (no
 * phase, no ledger entry: `ConsumersNotReadyError`, back to waiting) and decides an emergency's
 * break-glass; the guard evaluates the gate again under the entry's claim, right before the
 * exchange call (I1). Returns the break-glass when the gate is broken, undefined when it is ready.
 */
async function gateOrBreakGlass(
  deps: RevokePreviousDeps,
  rotation: RotationRecord,
  previous: VersionRef,
  current: PromotedCurrent,
  enrolled: SecretSettings,
  now: Date,
): Promise<BreakGlass | undefined> {
  const settings = settingsFor(enrolled, rotation);
  const gate = await readinessOf(deps, {
    secretId: rotation.secretId,
    currentFingerprint: current.fingerprint,
    promotedAt: current.promotedAt,
    settings,
    now,
  });
  if (gate.ready) return undefined;
  const breakGlass = await emergencyBreakGlass(deps, rotation, previous, gate, now, settings.exchangeAccount);
  if (breakGlass) return breakGlass;
  throw new ConsumersNotReadyError(
    `not revoking ${previous.exchangeKeyId}: ${gate.laggingCount} consumer(s) lagging` +
      (gate.overlapRemainingSeconds > 0 ? `, ${gate.overlapRemainingSeconds}s of overlap left` : ""),
  );
}

/** The state machine's answer: the entry revoked or disabled, or the error its Retry/Catch matches. */
function outcomeOf(attempt: RevocationAttempt, previous: VersionRef, account: string): RevokePreviousOutput {
  if (attempt.held) {
    if (attempt.held.rule === "gate") throw new ConsumersNotReadyError(attempt.held.reason);
    // Another attempt (the sweeper) or a restore holds the entry: the state's retries, then the sweeper.
    if (attempt.held.rule === "busy") throw new RevocationFailedError(attempt.held.reason);
    throw new RevocationRefusedError(attempt.held.reason);
  }
  const status = attempt.entry.status;
  if (status !== "revoked" && status !== "disabled" && status !== "awaiting-operator") {
    throw new RevocationFailedError(
      `revoking ${previous.exchangeKeyId} on ${account} failed (attempt ${attempt.entry.attempts}): ${attempt.error}`,
    );
  }
  return {
    entryId: attempt.entry.entryId,
    keyId: previous.exchangeKeyId,
    status,
    attempts: attempt.entry.attempts,
  };
}

/** The emergency's break-glass, audited and alerted first; undefined when this is no emergency past its deadline. */
async function emergencyBreakGlass(
  deps: Pick<Deps, "audit" | "alerts" | "ledger">,
  rotation: RotationRecord,
  previous: VersionRef,
  gate: Readiness,
  now: Date,
  account: string,
): Promise<BreakGlass | undefined> {
  // Break 6: only a key the emergency names as compromised; never the abandoned key of a rollback.
  if (!rotation.emergency || !emergencyDeadlinePassed(rotation, previous.exchangeKeyId, now))
    return undefined;
  // A retry after a failed attempt: the break-glass is on the entry, audited and alerted already.
  const recorded = (await deps.ledger.get(ledgerEntryId(account, previous.exchangeKeyId)))?.breakGlass;
  if (recorded) return recorded;
  const lagging = gate.lagging.map((l) => l.consumerId);
  const { secretId, rotationId } = rotation;
  await deps.audit.append({
    secretId,
    actor: `rotation:${rotationId}`,
    action: "emergency-break-glass",
    details: {
      rotationId,
      keyId: previous.exchangeKeyId,
      reason: rotation.emergency.reason,
      requestedBy: rotation.emergency.actor,
      laggingConsumers: lagging,
      laggingCount: gate.laggingCount,
    },
  });
  await deps.alerts.send({
    kind: "emergency-revocation",
    secretId,
    subject: `keyshift: emergency: revoking the previous key of ${secretId}; ${gate.laggingCount} consumer(s) will fail`,
    details: {
      rotationId,
      keyId: previous.exchangeKeyId,
      reason: rotation.emergency.reason,
      laggingConsumers: lagging,
      action: "restart the lagging consumers so they read the current key",
    },
  });
  return { actor: `emergency:${rotationId}`, reason: rotation.emergency.reason, at: now.toISOString() };
}
