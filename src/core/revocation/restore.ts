import { createHash } from "node:crypto";
import type { Deps } from "../deps";
import { InvalidInputError, OperatorActionRejectedError, RotationInProgressError } from "../errors";
import type { LedgerEntry } from "../model";
import type { ExchangeKey } from "../ports";
import { releaseIfFinished } from "../rotation/lock";

/** The restore's hold on the lock: long enough for two exchange calls, short if it dies. */
const RESTORE_LEASE_SECONDS = 120;

export interface RestoreInput {
  entryId: string;
  actor: string;
  reason: string;
}

/**
 * `keyshift revocations restore <entry> --reason …`: the undo of a two-stage revocation within
 * its grace — the disabled key authenticates again, for a consumer nobody had registered.
 *
 * Input: ledger entry id, actor, reason. Output: the entry, `restored`.
 * 1. The entry must be `disabled` (or `restoring`: a re-run finishes a restore that died).
 * 2. Take the secret's lock (free only) for two minutes under a marker record that is already
 *    final: no rotation starts meanwhile, and a restore that dies leaves a lock the next rotation or
 *    command releases once the two minutes are up.
 * 3. Audit the request, then write the intent on the ledger entry (`restoring`): refused while a
 *    revocation attempt holds its claim (it is disabling or removing the key right now), and from
 *    then on no attempt touches the entry and CreateNext makes no key for the secret (I3).
 * 4. Only then check (write first, then read — CreateNext does the same the other way round, so
 *    one of the two always sees the other, however long this command pauses): the lock is still
 *    this restore's or free, the key is still the recorded previous key, no next key is recorded,
 *    and enabling it gives the secret at most two active keys (current, recorded next, and every
 *    key of its open ledger entries, as the exchange lists them). Refused → the intent is
 *    withdrawn (`disabled` again) when nothing was enabled.
 * 5. Enable on the exchange and confirm by listing; only then `restored` (the break-glass that
 *    disabled it is retired: the gate applies again); audit and alert; release the lock.
 * The key is revoked again only when an operator runs `keyshift revocations retry <entry>`: the
 * gate applies again, so the consumer must have moved to the current key by then.
 */
export async function restoreRevocation(input: RestoreInput, deps: RestoreDeps): Promise<LedgerEntry> {
  const entry = await restorableEntry(input.entryId, deps);
  const marker = await takeLockUnderMarker(entry, input.actor, deps);
  try {
    await writeIntentThenCheck(entry, marker, input, deps);
    await enableConfirmed(entry, deps);
    return await recordRestored(entry, marker, input, deps);
  } finally {
    await deps.lock.release(entry.secretId, marker);
  }
}

/** Step 1: only a disabled key (within its grace) or a restore that died half-way. */
async function restorableEntry(entryId: string, deps: Pick<Deps, "ledger">): Promise<LedgerEntry> {
  const entry = await deps.ledger.get(entryId);
  if (!entry) throw new InvalidInputError(`no ledger entry ${entryId}: see \`keyshift revocations list\``);
  if (entry.status !== "disabled" && entry.status !== "restoring") {
    throw new OperatorActionRejectedError(
      `ledger entry ${entryId} is ${entry.status}: only a disabled key (two-stage revocation, within its grace) can be restored` +
        (entry.status === "revoked" ? "; it was removed from the exchange for good" : "") +
        (entry.status === "restored" ? `; it was restored already (${entry.restored?.at ?? "?"})` : ""),
    );
  }
  return entry;
}

/** Step 2: the lock (free only), under a marker record that is final from the start. Returns the marker. */
async function takeLockUnderMarker(entry: LedgerEntry, actor: string, deps: RestoreDeps): Promise<string> {
  const now = deps.clock.now();
  const marker = `restore-${createHash("sha256").update(`${entry.entryId}@${now.toISOString()}`).digest("hex").slice(0, 16)}`;
  // Final from the start: a lock left behind by a dead restore is released by whoever finds it.
  await deps.store.putRotation({
    secretId: entry.secretId,
    rotationId: marker,
    trigger: "operator",
    phase: "completed",
    outcome: `restore of ${entry.keyId} by ${actor}`,
    startedAt: now.toISOString(),
    updatedAt: now.toISOString(),
  });
  await acquireFree(deps, entry.secretId, marker, actor);
  return marker;
}

/**
 * Steps 3–4: audit the request, write the intent (`restoring`), THEN read what could make the key
 * a third active one (`whyNotRestore`). Refused → the intent is withdrawn when nothing was enabled.
 */
async function writeIntentThenCheck(
  entry: LedgerEntry,
  marker: string,
  input: RestoreInput,
  deps: RestoreDeps,
): Promise<void> {
  await deps.audit.append({
    secretId: entry.secretId,
    actor: input.actor,
    action: "key-restore-requested",
    details: { entryId: entry.entryId, keyId: entry.keyId, reason: input.reason },
  });
  const intent = await deps.ledger.beginRestore(entry.entryId, {
    owner: marker,
    actor: input.actor,
    reason: input.reason,
    at: deps.clock.now(),
  });
  if (intent.restoring?.owner !== marker) throw intentRefused(intent, deps.clock.now());
  const listing = await deps.exchange.listKeys(entry.exchangeAccount);
  const problem = await whyNotRestore(entry, marker, listing.keys, deps);
  if (!problem) return;
  const enabled = isActive(listing.keys, entry.keyId);
  // A key an earlier run already enabled stays `restoring` (true: rotations keep refusing).
  if (!enabled) await deps.ledger.withdrawRestore(entry.entryId, { owner: marker, at: deps.clock.now() });
  throw new OperatorActionRejectedError(
    `not restoring key ${entry.keyId} of ${entry.secretId}: ${problem}` +
      (enabled
        ? `. An earlier run already enabled it: the entry stays restoring; fix that, then run the restore again`
        : "; nothing was enabled"),
  );
}

/** Step 5, the effect: enable, then list — the ledger may say `restored` only once the listing shows it active (I9). */
async function enableConfirmed(entry: LedgerEntry, deps: Pick<Deps, "exchange">): Promise<void> {
  await deps.exchange.enableKey(entry.exchangeAccount, entry.keyId);
  const after = await deps.exchange.listKeys(entry.exchangeAccount);
  if (isActive(after.keys, entry.keyId)) return;
  const listed = after.keys.find((k) => k.keyId === entry.keyId);
  throw new OperatorActionRejectedError(
    `exchange accepted enabling key ${entry.keyId} but lists it ${listed ? listed.status : "nowhere"}; ` +
      `the entry stays restoring: run \`keyshift revocations restore ${entry.entryId}\` again`,
  );
}

/** Step 5, the record: `restored` (the break-glass retired: the gate applies again), audited and alerted. */
async function recordRestored(
  entry: LedgerEntry,
  marker: string,
  input: RestoreInput,
  deps: RestoreDeps,
): Promise<LedgerEntry> {
  const restored = await deps.ledger.markRestored(entry.entryId, { owner: marker, at: deps.clock.now() });
  if (restored.status !== "restored") {
    throw new OperatorActionRejectedError(
      `ledger entry ${entry.entryId} is ${restored.status}: another run of the restore took it over; see \`keyshift revocations list\``,
    );
  }
  await deps.audit.append({
    secretId: entry.secretId,
    actor: input.actor,
    action: "key-restored",
    details: { entryId: entry.entryId, keyId: entry.keyId, reason: input.reason },
  });
  await deps.alerts.send({
    kind: "key-restored",
    secretId: entry.secretId,
    subject: `keyshift: previous key ${entry.keyId} of ${entry.secretId} was enabled again by ${input.actor}`,
    details: {
      entryId: entry.entryId,
      keyId: entry.keyId,
      reason: input.reason,
      action: `register the consumer that needed it, let it move to the current key, then \`keyshift revocations retry ${entry.entryId}\``,
    },
  });
  return restored;
}

type RestoreDeps = Pick<Deps, "ledger" | "exchange" | "store" | "lock" | "audit" | "alerts" | "clock">;

function isActive(keys: ExchangeKey[], keyId: string): boolean {
  return keys.some((k) => k.keyId === keyId && k.status === "active");
}

function intentRefused(entry: LedgerEntry, now: Date): OperatorActionRejectedError {
  const until = entry.claim ? Date.parse(entry.claim.until) : Number.NaN;
  if (entry.status === "disabled" && until > now.getTime()) {
    const wait = Math.ceil((until - now.getTime()) / 1000);
    return new OperatorActionRejectedError(
      `cannot restore ${entry.entryId} now: a revocation attempt is in flight; retry in ${wait}s ` +
        "(if it removes the key meanwhile, the entry becomes revoked and nothing can be restored)",
    );
  }
  return new OperatorActionRejectedError(
    `ledger entry ${entry.entryId} moved to ${entry.status} meanwhile; nothing was enabled`,
  );
}

/**
 * Step 4: why enabling the key now could give its secret a third active key (I3), or undefined.
 * Read after the intent is written: a rotation that took the lock first is seen here.
 */
async function whyNotRestore(
  entry: LedgerEntry,
  marker: string,
  listed: ExchangeKey[],
  deps: RestoreDeps,
): Promise<string | undefined> {
  const held = await deps.lock.get(entry.secretId);
  if (held && held.rotationId !== marker) {
    return `rotation ${held.rotationId} holds the lock of ${entry.secretId} (this restore's ${RESTORE_LEASE_SECONDS}s hold ran out); wait for it to end, then restore`;
  }
  const recorded = await deps.store.getVersions(entry.secretId);
  if (recorded?.previous?.exchangeKeyId !== entry.keyId) {
    return (
      `it is not the previous key of ${entry.secretId} (that is ${recorded?.previous?.exchangeKeyId ?? "none"}): ` +
      "restoring an older key would give the secret a third active key"
    );
  }
  if (recorded.next) {
    return `a rotation recorded a next key ${recorded.next.exchangeKeyId} for ${entry.secretId}: let it finish or abort, then restore`;
  }
  // Every other key of the secret that may still authenticate: current, and the keys of its
  // open ledger entries (an aborted rotation's key whose removal waits for the sweeper).
  const open = (await deps.ledger.listAll()).filter(
    (e) => e.secretId === entry.secretId && e.entryId !== entry.entryId && e.status !== "revoked",
  );
  const others = new Map<string, string | undefined>();
  if (recorded.current) others.set(recorded.current.exchangeKeyId, undefined);
  for (const e of open) others.set(e.keyId, e.entryId);
  const active = [...others].filter(([keyId]) => keyId !== entry.keyId && isActive(listed, keyId));
  if (active.length + 1 <= 2) return undefined;
  const blockers = active
    .filter(([, entryId]) => entryId)
    .map(
      ([keyId, entryId]) => `${keyId} (ledger entry ${entryId}: \`keyshift revocations retry ${entryId}\`)`,
    );
  return (
    `enabling it would give ${entry.secretId} ${active.length + 1} active keys; ` +
    `remove ${blockers.join(", ") || active.map(([k]) => k).join(", ")} first`
  );
}

async function acquireFree(
  deps: Pick<Deps, "lock" | "store" | "audit" | "clock">,
  secretId: string,
  marker: string,
  actor: string,
): Promise<void> {
  const attempt = () => deps.lock.acquire(secretId, marker, deps.clock.now(), RESTORE_LEASE_SECONDS);
  try {
    await attempt();
  } catch (err) {
    if (!(err instanceof RotationInProgressError)) throw err;
    const held = await deps.lock.get(secretId);
    const holder = held && (await deps.store.getRotation(secretId, held.rotationId));
    if (held && (await releaseIfFinished(deps, held, holder, actor))) {
      await attempt();
      return;
    }
    throw new OperatorActionRejectedError(
      `cannot restore while rotation ${held?.rotationId ?? "?"} of ${secretId} holds the lock: ` +
        "wait for it to end (or roll it back), then restore",
      { cause: err },
    );
  }
}
