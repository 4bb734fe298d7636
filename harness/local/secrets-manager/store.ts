/**
 * The emulator's state: secrets by name, lookup by name / ARN / partial ARN, the clock, and
 * change tracking so the server can persist after every mutation. Operation semantics live in
 * `secret-operations.ts` and `version-operations.ts`; label rules in `labels.ts`.
 */
import { randomInt } from "node:crypto";
import { markedForDeletion, secretNotFound } from "./errors";
import type { SecretRecord, StateSnapshot } from "./types";

const ARN_SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const DAY_MS = 86_400_000;

export interface StoreOptions {
  region: string;
  accountId: string;
  now?: () => number;
}

export class SecretsStore {
  readonly region: string;
  readonly accountId: string;
  readonly now: () => number;
  private secrets = new Map<string, SecretRecord>();
  private nextSeq = 1;
  private dirty = false;

  constructor(options: StoreOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.now = options.now ?? Date.now;
  }

  /** Marks the state as changed; the server persists it before answering. */
  markChanged(): void {
    this.dirty = true;
  }

  /** True once per batch of changes: resets the flag. */
  takeChanged(): boolean {
    const changed = this.dirty;
    this.dirty = false;
    return changed;
  }

  nextSequence(): number {
    return this.nextSeq++;
  }

  newArn(name: string): string {
    let suffix = "";
    for (let i = 0; i < 6; i++) suffix += ARN_SUFFIX_ALPHABET[randomInt(ARN_SUFFIX_ALPHABET.length)];
    return `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${suffix}`;
  }

  /** Midnight UTC of today: AWS reports access dates at day resolution. */
  today(): number {
    const now = this.now();
    return now - (now % DAY_MS);
  }

  byName(name: string): SecretRecord | undefined {
    return this.secrets.get(name);
  }

  add(secret: SecretRecord): void {
    this.secrets.set(secret.name, secret);
    this.markChanged();
  }

  remove(secret: SecretRecord): void {
    this.secrets.delete(secret.name);
    this.markChanged();
  }

  all(): SecretRecord[] {
    return [...this.secrets.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Name, full ARN, or partial ARN (the ARN without the random suffix), as AWS accepts. */
  resolve(secretId: string): SecretRecord | undefined {
    if (!secretId.startsWith("arn:")) return this.secrets.get(secretId);
    for (const secret of this.secrets.values()) if (secret.arn === secretId) return secret;
    const prefix = `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:`;
    return secretId.startsWith(prefix) ? this.secrets.get(secretId.slice(prefix.length)) : undefined;
  }

  /** A secret that exists, scheduled for deletion or not (DescribeSecret, ListSecretVersionIds…). */
  require(secretId: string): SecretRecord {
    const secret = this.resolve(secretId);
    if (!secret) throw secretNotFound();
    return secret;
  }

  /** A secret that exists and is not scheduled for deletion (reads of values and all writes). */
  requireActive(secretId: string): SecretRecord {
    const secret = this.require(secretId);
    if (secret.deletedMs !== undefined) throw markedForDeletion();
    return secret;
  }

  /** Secrets whose recovery window has ended are gone, as after AWS's background deletion. */
  purgeExpired(): void {
    const now = this.now();
    for (const secret of this.secrets.values()) {
      if (secret.deletionDueMs !== undefined && secret.deletionDueMs <= now) this.remove(secret);
    }
  }

  snapshot(): StateSnapshot {
    return { formatVersion: 1, nextSeq: this.nextSeq, secrets: this.all() };
  }

  load(snapshot: StateSnapshot): void {
    this.secrets = new Map(snapshot.secrets.map((secret) => [secret.name, secret]));
    this.nextSeq = snapshot.nextSeq;
    this.dirty = false;
  }
}
