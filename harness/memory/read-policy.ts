import type { ReaderAlertLog, ReadHistory, SecretPolicyStore } from "../../src/core/ports";
import { awsError } from "./faults";

/** keyshift's own reader in unit tests (CreateNext's role). */
export const TEST_KEYSHIFT_READER = "arn:aws:iam::123456789012:role/keyshift-test-createNext";

/**
 * Resource policies by secret id, as Secrets Manager keeps them (the document as put). Bound to the
 * secrets (`secrets`), a call on a secret that does not exist is `ResourceNotFoundException`, as the
 * service answers; unbound (unit tests that never create the secret), every secret exists.
 */
export class InMemorySecretPolicyStore implements SecretPolicyStore {
  readonly puts: Array<{ secretId: string; document: string }> = [];
  private readonly policies = new Map<string, string>();
  constructor(private readonly secrets?: { has(secretId: string): boolean }) {}

  async getResourcePolicy(secretId: string) {
    this.requireSecret(secretId);
    return this.policies.get(secretId);
  }
  async putResourcePolicy(secretId: string, document: string) {
    this.requireSecret(secretId);
    this.puts.push({ secretId, document });
    this.policies.set(secretId, document);
  }
  async deleteResourcePolicy(secretId: string) {
    this.requireSecret(secretId);
    this.policies.delete(secretId);
  }
  private requireSecret(secretId: string): void {
    if (this.secrets && !this.secrets.has(secretId))
      throw awsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
  }
  /** A hand edit behind keyshift's back (drift). */
  edit(secretId: string, document: string): void {
    this.policies.set(secretId, document);
  }
}

/** The adapter's claim rules: first claim wins; an unconfirmed claim older than `staleSeconds` may be retaken. */
export class InMemoryReaderAlertLog implements ReaderAlertLog {
  private readonly claims = new Map<string, { claimedAt: number; alerted: boolean }>();
  /** 30: `STALE_CLAIM_SECONDS` of the DynamoDB adapter (the contract suite holds both to it). */
  constructor(private readonly staleSeconds = 30) {}

  async claim(secretId: string, principalArn: string, day: string, now: Date) {
    const key = `${secretId}#${day}#${principalArn}`;
    const held = this.claims.get(key);
    // Stale only strictly past `staleSeconds`, like the adapter's `claimedAt < now - stale`.
    if (held && (held.alerted || now.getTime() - held.claimedAt <= this.staleSeconds * 1000)) return false;
    this.claims.set(key, { claimedAt: now.getTime(), alerted: false });
    return true;
  }
  async confirm(secretId: string, principalArn: string, day: string, now: Date) {
    this.claims.set(`${secretId}#${day}#${principalArn}`, { claimedAt: now.getTime(), alerted: true });
  }
}

/** The read history as the DynamoDB adapter keeps it (the port contract suite holds both to it). */
export class InMemoryReadHistory implements ReadHistory {
  private readonly items = new Map<string, { lastReadAt: string; newAt?: string }>();

  async recordRead(principal: string, secretId: string, at: Date) {
    const key = `${principal}\n${secretId}`;
    const previousAt = this.items.get(key)?.lastReadAt;
    this.items.set(key, { ...this.items.get(key), lastReadAt: at.toISOString() });
    return { previousAt };
  }
  async markNew(principal: string, secretId: string, at: Date) {
    const key = `${principal}\n${secretId}`;
    this.items.set(key, { lastReadAt: at.toISOString(), ...this.items.get(key), newAt: at.toISOString() });
  }
  async newSince(principal: string, since: Date) {
    return [...this.items.entries()]
      .filter(([key, item]) => key.startsWith(`${principal}\n`) && (item.newAt ?? "") >= since.toISOString())
      .map(([key]) => key.slice(principal.length + 1))
      .sort();
  }
  async readsBy(principal: string) {
    return [...this.items.entries()]
      .filter(([key]) => key.startsWith(`${principal}\n`))
      .map(([key, item]) => ({ secretId: key.slice(principal.length + 1), lastReadAt: item.lastReadAt }))
      .sort((a, b) => a.secretId.localeCompare(b.secretId));
  }
}
