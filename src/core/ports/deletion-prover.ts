import type { LedgerEntry } from "../model";

/**
 * How keyshift saw a manually deleted key gone. `exchange`: asked with the key itself, the exchange
 * no longer knows it. `operator`: it cannot ask (no such check on this exchange, or nothing left to
 * sign with); the person's word, recorded as such.
 */
export type DeletionProof = "exchange" | "operator";

/**
 * Proves that the key of an `awaiting-operator` ledger entry no longer authenticates, before
 * `keys confirm-deleted` records it revoked (I9). Throws `ManualTaskRefusedError` while the key
 * still authenticates. Whoever proves must read the old key's value, so only one of keyshift's
 * reader roles can: the CLI with a reader's credentials proves in its own process, the operator
 * API (never a reader) asks the prove-deleted function (docs/architecture.md, "Keys a person
 * makes and deletes"). A proof that could not be made is an error, never a proof.
 */
export interface DeletionProver {
  prove(entry: LedgerEntry): Promise<DeletionProof>;
}
