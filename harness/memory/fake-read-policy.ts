import type { ReaderAlertLog, SecretPolicyStore } from "../../src/core/ports";

/** keyshift's own reader in unit tests (CreateNext's role). */
export const TEST_KEYSHIFT_READER = "arn:aws:iam::123456789012:role/keyshift-test-createNext";

/** Resource policies by secret id, as Secrets Manager keeps them (the document as put). */
export class FakeSecretPolicyStore implements SecretPolicyStore {
  readonly puts: Array<{ secretId: string; document: string }> = [];
  private readonly policies = new Map<string, string>();

  async getResourcePolicy(secretId: string) {
    return this.policies.get(secretId);
  }
  async putResourcePolicy(secretId: string, document: string) {
    this.puts.push({ secretId, document });
    this.policies.set(secretId, document);
  }
  async deleteResourcePolicy(secretId: string) {
    this.policies.delete(secretId);
  }
  /** A hand edit behind keyshift's back (drift). */
  edit(secretId: string, document: string): void {
    this.policies.set(secretId, document);
  }
}

/** The adapter's claim rules: first claim wins; an unconfirmed claim older than `staleSeconds` may be retaken. */
export class FakeReaderAlertLog implements ReaderAlertLog {
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
