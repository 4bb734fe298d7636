/** The audit archive (I8 beyond the table): storage the audit's writers cannot change. */

/** What a write-once put found. */
export type ArchivePut = { created: true } | { created: false; existing: string };

export interface AuditArchive {
  /**
   * Stores `body` at `key` only if nothing is stored there yet; never overwrites. When something is
   * (a redelivered record, or a rewrite), answers what is stored, for the caller to judge.
   */
  putOnce(key: string, body: string): Promise<ArchivePut>;
  /** The body stored at `key`, or undefined. */
  get(key: string): Promise<string | undefined>;
  /** Every key under `prefix`, in key order. */
  list(prefix: string): Promise<string[]>;
}
