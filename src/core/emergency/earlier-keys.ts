import type { Deps } from "../deps";
import { EmergencyRefusedError } from "../errors";
import type { BreakGlass, LedgerEntry } from "../model";
import { readinessOf } from "../revocation/gate";
import { attemptRevocation, type RevocationDeps } from "../revocation/through-ledger";

export interface EarlierKeysInput {
  secretId: string;
  rotationId: string;
  account: string;
  /** The compromised key (AWSCURRENT when the emergency was requested): never touched here. */
  compromisedKeyId: string;
  reason: string;
  requestedBy: string;
}

/** A key that still stops a new key from being made, with its ledger entry as last seen. */
export interface BlockingKey {
  entry: LedgerEntry;
  why: string;
}

/**
 * Incident path b: a new emergency finds earlier keys of the secret still in the ledger (a previous
 * key the gate holds, a failed or needs-operator revocation, a restored key, a disabled key where
 * disabled keys count against the exchange's limit). While one lives a new key would be the
 * secret's third (I3), so the emergency could never replace the compromised key. Each is OLDER than
 * the compromised current key — a consumer still on it is on an even older key — so the emergency
 * breaks the glass on it too: audited with the lagging consumers and alerted BEFORE the break-glass
 * is recorded on its entry, then revoked through the ledger (a disabled key that blocks is removed
 * now, giving up its restorability). Returns the keys still blocking (the caller refuses).
 */
export async function breakGlassOnEarlierKeys(
  input: EarlierKeysInput,
  deps: RevocationDeps & Pick<Deps, "alerts">,
): Promise<BlockingKey[]> {
  const { secretId, rotationId } = input;
  const caps = await deps.exchange.capabilities(input.account);
  const counts = (e: LedgerEntry) => e.status !== "disabled" || caps.limitCounts === "all";
  const earlier = (await deps.ledger.listAll()).filter(
    (e) =>
      e.secretId === secretId && e.status !== "revoked" && e.keyId !== input.compromisedKeyId && counts(e),
  );
  const actor = `emergency:${rotationId}`;
  const blocking: BlockingKey[] = [];
  for (const found of earlier) {
    let entry = found;
    if (entry.breakGlass?.actor !== actor) {
      const lagging = await laggingOn(deps, secretId);
      await deps.audit.append({
        secretId,
        actor,
        action: "emergency-break-glass",
        details: {
          rotationId,
          keyId: entry.keyId,
          earlierKey: true,
          ledger: entry.status,
          compromisedKeyId: input.compromisedKeyId,
          reason: input.reason,
          requestedBy: input.requestedBy,
          laggingConsumers: lagging,
        },
      });
      await deps.alerts.send({
        kind: "emergency-revocation",
        secretId,
        subject: `keyshift: emergency: revoking the earlier key ${entry.keyId} of ${secretId} so the compromised key can be replaced`,
        details: {
          rotationId,
          keyId: entry.keyId,
          reason: input.reason,
          laggingConsumers: lagging,
          action: "restart consumers still on an old key so they read the current one",
        },
      });
      const breakGlass: BreakGlass = { actor, reason: input.reason, at: deps.clock.now().toISOString() };
      entry = await deps.ledger.recordBreakGlass(entry.entryId, breakGlass);
    }
    entry = await revokeNow(entry, actor, deps);
    if (entry.status === "disabled" && caps.limitCounts === "all")
      entry = await revokeNow(entry, actor, deps);
    if (entry.status !== "revoked" && counts(entry)) {
      blocking.push({ entry, why: entry.heldReason ?? entry.lastError ?? `ledger ${entry.status}` });
    }
  }
  return blocking;
}

/** Due now (a needs-operator entry gets one more try, a disabled one its removal), then one attempt. */
async function revokeNow(entry: LedgerEntry, actor: string, deps: RevocationDeps): Promise<LedgerEntry> {
  const due = await deps.ledger.requeue(entry.entryId, deps.clock.now());
  const attempt = await attemptRevocation(due, actor, deps);
  return attempt.entry;
}

async function laggingOn(deps: RevocationDeps, secretId: string): Promise<string[]> {
  const [settings, versions] = await Promise.all([
    deps.store.getSettings(secretId),
    deps.store.getVersions(secretId),
  ]);
  if (!settings || !versions?.current || !versions.promotedAt) return [];
  const gate = await readinessOf(deps, {
    secretId,
    currentFingerprint: versions.current.fingerprint,
    promotedAt: versions.promotedAt,
    settings,
    now: deps.clock.now(),
  });
  return gate.lagging.map((l) => l.consumerId);
}

/** Why the emergency cannot go on, and exactly what to run. */
export function earlierKeysRefusal(secretId: string, compromisedKeyId: string, blocking: BlockingKey[]) {
  const keys = blocking
    .map(
      ({ entry, why }) =>
        `${entry.keyId} (ledger entry ${entry.entryId}: ${entry.status}, ${entry.attempts} attempt(s)` +
        `${entry.needsOperator ? ", needs an operator" : ""}; ${why})`,
    )
    .join(", ");
  return new EmergencyRefusedError(
    `rotate --compromised refused: ${secretId} still holds earlier key(s) ${keys} that could not be revoked now, ` +
      `so a replacement for the compromised key ${compromisedKeyId} would be the secret's third key. The break-glass ` +
      `is recorded on each entry: fix the cause above, run \`keyshift revocations retry <entryId>\` for each, then ` +
      `\`keyshift rotate ${secretId} --compromised --reason "..."\` again. Key ${compromisedKeyId} is still active.`,
  );
}
