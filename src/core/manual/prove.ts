/**
 * The proof behind `keys confirm-deleted` (issue 17): a key a person deleted at the exchange's web
 * UI must no longer authenticate before the ledger says it is revoked (I9). The proof reads the old
 * key's value, which the read policy lets only keyshift's reader roles do; so it runs either in the
 * CLI of an operator who is one, or in the prove-deleted function (never in the operator API).
 */
import { type Deps, parseKeySecret } from "../deps";
import type { LedgerEntry } from "../model";
import type { DeletionProof, DeletionProver } from "../ports";
import { ManualTaskRefusedError } from "./errors";

export interface InProcessProverOptions {
  /**
   * What a refused or failed read of the old key's version means. `operator`: the caller may simply
   * not be a reader (an operator's CLI), so the person's word is recorded. `throw`: the caller is
   * keyshift's reader (the prove-deleted function); a refusal is a fault to fix, never a proof.
   * A version that no longer exists means `operator` either way: there is nothing to sign with.
   */
  unreadable: "operator" | "throw";
}

/**
 * The proof in this process: read the old key's version, then ask the exchange ONCE with the key
 * itself whether it still exists (Kraken: `EAPI:Invalid key`). Once, because repeated invalid-key
 * answers lock the account out. Still there → `ManualTaskRefusedError`.
 */
export function inProcessProver(
  deps: Pick<Deps, "secrets" | "exchange">,
  opts: InProcessProverOptions,
): DeletionProver {
  return {
    async prove(entry: LedgerEntry): Promise<DeletionProof> {
      if (!deps.exchange.keyStillExists) return "operator";
      const credential = await oldKeyOf(entry, deps, opts);
      if (!credential) return "operator";
      const exists = await deps.exchange.keyStillExists(entry.exchangeAccount, credential);
      if (exists === undefined) return "operator";
      if (exists) throw new ManualTaskRefusedError(stillAuthenticates(entry));
      return "exchange";
    },
  };
}

async function oldKeyOf(
  entry: LedgerEntry,
  deps: Pick<Deps, "secrets">,
  opts: InProcessProverOptions,
): Promise<{ keyId: string; secret: string } | undefined> {
  let raw: { value: string };
  try {
    raw = await deps.secrets.getValue(entry.secretId, { versionId: entry.versionId });
  } catch (err) {
    // A deprecated version Secrets Manager removed: nothing to sign with.
    if (err instanceof Error && err.name === "ResourceNotFoundException") return undefined;
    if (opts.unreadable === "operator") return undefined;
    throw err;
  }
  try {
    const key = parseKeySecret(entry.secretId, entry.versionId, raw.value);
    return { keyId: key.keyId, secret: key.secret };
  } catch {
    // Not a key keyshift can sign with (the error would not show the value either).
    return undefined;
  }
}

/** The refusal while the key still authenticates: names the key and what to do, never a value. */
export function stillAuthenticates(entry: Pick<LedgerEntry, "keyId" | "exchangeAccount">): string {
  return (
    `key ${entry.keyId} on ${entry.exchangeAccount} still authenticates: it is not deleted. Delete it in the exchange's ` +
    `web UI, then run this again (keyshift asks the exchange once per confirmation: repeated checks of a deleted key can lock the account out)`
  );
}

/** Only an entry keyshift asked a person to delete is confirmed (revoked: said so; else keyshift deletes it itself). */
export function refuseUnlessAwaiting(entry: LedgerEntry): void {
  if (entry.status === "revoked") {
    throw new ManualTaskRefusedError(
      `key ${entry.keyId} (${entry.entryId}) is already revoked (${entry.revokedAt})`,
    );
  }
  if (entry.status !== "awaiting-operator") {
    throw new ManualTaskRefusedError(
      `ledger entry ${entry.entryId} is ${entry.status}: keyshift has not asked a person to delete key ${entry.keyId}; nothing to confirm`,
    );
  }
}

export interface ProveDeletedInput {
  /** The ledger entry id (`<account>#<keyId>`): all the caller sends, never a key or its value. */
  entryId: string;
}

/** The prove-deleted function's answer on the wire: a proof, or the refusal's message (never a value). */
export type ProveDeletedAnswer = { verified: DeletionProof } | { refused: string };

export interface ProveDeletedOutput {
  entryId: string;
  verified: DeletionProof;
}

/**
 * ProveDeleted (functions/prove-deleted.ts), the operator API's prover: one of keyshift's readers.
 * Input: a ledger entry id. Output: how the deletion was verified. Writes nothing — the ledger, the
 * audit and the task stay with `keys confirm-deleted`, which records the confirmation after this.
 * 1. Read the entry from the ledger (the caller's word about it is not taken).
 * 2. Refuse unless it is `awaiting-operator`.
 * 3. Read the old key's version and ask the exchange once; still there → `ManualTaskRefusedError`.
 *    A refused read is thrown (the read policy must list this function's role), never "operator".
 */
export async function proveDeleted(
  input: ProveDeletedInput,
  deps: Pick<Deps, "ledger" | "secrets" | "exchange">,
): Promise<ProveDeletedOutput> {
  const entry = await deps.ledger.get(input.entryId);
  if (!entry) {
    throw new ManualTaskRefusedError(
      `no ledger entry ${input.entryId}: \`keyshift revocations list\` shows the entries`,
    );
  }
  refuseUnlessAwaiting(entry);
  const verified = await inProcessProver(deps, { unreadable: "throw" }).prove(entry);
  return { entryId: entry.entryId, verified };
}
