import { type AuditHead, auditHeadFor, nextAuditEntry, streamOf } from "../../src/core/audit/chain";
import { AuditChainBrokenError } from "../../src/core/errors";
import type { AuditEntry, AuditEvent } from "../../src/core/model";
import type { AuditLog, Clock } from "../../src/core/ports";
import { copy } from "./copy";
import { Faults } from "./faults";

/**
 * Append-only audit trail, one hash chain per secret, anchored by a head per stream with the
 * adapter's protocol (`AuditHead` in src/core/audit/chain.ts): the head (the intent) first, then
 * the entry, then the head committed; an uncommitted head's entry is stored by the next append.
 * `faults` fails an append before it writes anything (`append`), or crashes it after the head
 * (`putEntry`) or after the entry (`commit`). `remove` and `removeHead` tamper like a raw DeleteItem.
 * Proven equal to the production adapter by audit-log.suite.ts (test/contract/ports/).
 */
export class InMemoryAuditLog implements AuditLog {
  readonly faults = new Faults<"append" | "putEntry" | "commit">();
  private readonly chains = new Map<string, Map<number, AuditEntry>>();
  private readonly heads = new Map<string, AuditHead>();
  /** The stream register of each secret (`streamRegisterOf` in the adapter). */
  private readonly registers = new Map<string, Set<string>>();
  constructor(private readonly clock: Clock) {}

  async append(event: AuditEvent): Promise<AuditEntry> {
    this.faults.check("append");
    const key = streamOf(event);
    const stream = this.chains.get(key) ?? new Map<number, AuditEntry>();
    this.chains.set(key, stream);
    const head = this.heads.get(key);
    if (!head && stream.size > 0) {
      throw new AuditChainBrokenError(`audit trail of ${key} has entries but no head record`);
    }
    if (!head && this.registers.get(event.secretId)?.has(key)) {
      throw new AuditChainBrokenError(
        `audit trail of ${key} was started (the stream register of ${event.secretId} lists it) but its head ` +
          `and entries are gone: deleted whole; nothing appended; see \`keyshift audit verify ${event.secretId}\``,
      );
    }
    if (head && !head.committed) {
      if (head.seq === 1) this.register(event.secretId, key);
      if (!stream.has(head.seq)) stream.set(head.seq, copy(head.entry));
    }
    const entry = nextAuditEntry(head && copy(head.entry), copy(event), this.clock.now());
    this.heads.set(key, auditHeadFor(copy(entry)));
    if (entry.seq === 1) this.register(event.secretId, key);
    this.faults.check("putEntry");
    stream.set(entry.seq, copy(entry));
    this.faults.check("commit");
    this.heads.set(key, auditHeadFor(copy(entry), true));
    return copy(entry);
  }
  async list(stream: string): Promise<AuditEntry[]> {
    return this.sorted(stream).map(copy);
  }
  async head(stream: string): Promise<AuditHead | undefined> {
    const found = this.heads.get(stream);
    return found && copy(found);
  }
  async streams(secretId: string): Promise<string[]> {
    return [...(this.registers.get(secretId) ?? [])].sort();
  }
  /** Every stream appended to, the secrets' own chains and the others. */
  streamIds(): string[] {
    return [...this.chains.keys()];
  }
  /** Every stored entry of every stream. */
  all(): AuditEntry[] {
    return [...this.chains.keys()].flatMap((secretId) => this.sorted(secretId)).map(copy);
  }
  actions(secretId: string): string[] {
    return this.sorted(secretId).map((e) => e.action);
  }
  /** Deletes entries behind the log's back, as a raw DeleteItem on the table would. */
  remove(secretId: string, ...seqs: number[]): void {
    for (const seq of seqs) this.chains.get(secretId)?.delete(seq);
  }
  /** Deletes the head record behind the log's back. */
  removeHead(secretId: string): void {
    this.heads.delete(secretId);
  }

  /** Deletes a secret's stream register behind the log's back. */
  removeRegister(secretId: string): void {
    this.registers.delete(secretId);
  }

  private register(secretId: string, stream: string): void {
    const set = this.registers.get(secretId) ?? new Set<string>();
    this.registers.set(secretId, set.add(stream));
  }

  private sorted(secretId: string): AuditEntry[] {
    return [...(this.chains.get(secretId)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
  }
}
