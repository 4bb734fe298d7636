/**
 * Eventual consistency, modelled in the simulator's wrappers and not in the fakes (the unit tests
 * want the fakes strongly consistent). Reads may see the world as it was a few virtual seconds ago:
 * - Secrets Manager `listVersions` / `getValue` by stage may return the labels from before a write;
 * - the ledger's `listDue` (a GSI on AWS) may return entries as they were up to N seconds ago.
 */

import type { LedgerEntry } from "../../src/core/model";
import type { SecretVersionInfo } from "../../src/core/ports";
import type { FakeClock, InMemoryRevocationLedger, InMemorySecretStore } from "../memory";
import type { FaultProfile } from "./faults";
import type { Rng } from "./rng";

interface LabelSnapshot {
  at: number;
  versions: SecretVersionInfo[];
}

export class LaggingSecrets {
  /** Per secret: the labels as they were just before each write, with the write's time. */
  private readonly before = new Map<string, LabelSnapshot[]>();

  constructor(
    private readonly raw: InMemorySecretStore,
    private readonly clock: FakeClock,
    private readonly rng: Rng,
    private readonly profile: () => FaultProfile,
    private readonly log: (what: string) => void = () => undefined,
  ) {}

  async recordWrite(secretId: string): Promise<void> {
    const versions = await this.raw.listVersions(secretId).catch(() => []);
    const list = this.before.get(secretId) ?? [];
    list.push({ at: this.clock.now().getTime(), versions });
    if (list.length > 20) list.shift();
    this.before.set(secretId, list);
  }

  /** The labels a lagging replica answers with, or undefined for a fresh read. */
  private stale(secretId: string): SecretVersionInfo[] | undefined {
    const p = this.profile();
    if (p.secretsLagSeconds === 0 || !this.rng.chance(p.secretsLagChance)) return undefined;
    const asOf = this.clock.now().getTime() - this.rng.range(1, p.secretsLagSeconds) * 1000;
    const stale = this.before.get(secretId)?.find((s) => s.at > asOf)?.versions;
    if (stale) this.log(`stale Secrets Manager read of ${secretId} (labels from before a write)`);
    return stale;
  }

  listVersions = async (secretId: unknown): Promise<SecretVersionInfo[]> => {
    const id = String(secretId);
    return this.stale(id)?.map((v) => ({ ...v, stages: [...v.stages] })) ?? this.raw.listVersions(id);
  };

  getValue = async (secretId: unknown, select: unknown) => {
    const id = String(secretId);
    const sel = select as { versionId?: string; stage?: string };
    if (sel.versionId === undefined && sel.stage !== undefined) {
      const holder = this.stale(id)?.find((v) => v.stages.includes(sel.stage as string));
      if (holder) return this.raw.getValue(id, { versionId: holder.versionId });
    }
    return this.raw.getValue(id, sel);
  };
}

export class LaggingLedgerIndex {
  private readonly snapshots: { at: number; entries: LedgerEntry[] }[] = [];

  constructor(
    private readonly raw: InMemoryRevocationLedger,
    private readonly clock: FakeClock,
    private readonly rng: Rng,
    private readonly profile: () => FaultProfile,
  ) {}

  async recordWrite(): Promise<void> {
    this.snapshots.push({ at: this.clock.now().getTime(), entries: await this.raw.listAll() });
    if (this.snapshots.length > 50) this.snapshots.shift();
  }

  listDue = async (now: unknown, limit: unknown): Promise<LedgerEntry[]> => {
    const lag = this.profile().ledgerLagSeconds;
    const cutoff = now as Date;
    if (lag === 0) return this.raw.listDue(cutoff, Number(limit));
    const asOf = this.clock.now().getTime() - this.rng.range(0, lag) * 1000;
    let view: LedgerEntry[] = [];
    for (const s of this.snapshots) if (s.at <= asOf) view = s.entries;
    const iso = cutoff.toISOString();
    return view
      .filter((e) => e.status !== "revoked" && e.nextAttemptAt !== undefined && e.nextAttemptAt <= iso)
      .sort((a, b) => (a.nextAttemptAt ?? "").localeCompare(b.nextAttemptAt ?? ""))
      .slice(0, Number(limit))
      .map((e) => structuredClone(e));
  };
}
