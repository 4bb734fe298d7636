/**
 * A read of the whole world straight from the fakes (no scheduling, no faults, no lag): what the
 * invariant checkers judge. Values are reduced to key ids and fingerprints as they are read.
 */
import { instanceAuditStream } from "../../src/core/audit/chain";
import { fingerprint } from "../../src/core/fingerprint";
import type {
  AuditEntry,
  ConsumerInstance,
  ConsumerRegistration,
  LedgerEntry,
  LockRecord,
  SecretSettings,
  VersionFingerprints,
} from "../../src/core/model";
import type { ExchangeKey } from "../../src/core/ports";
import type { World } from "./world";

export interface VersionView {
  versionId: string;
  stages: string[];
  keyId: string;
  fingerprint: string;
}

export interface SecretView {
  secretId: string;
  account: string;
  settings?: SecretSettings;
  recorded?: VersionFingerprints;
  lock?: LockRecord;
  /** Every version, labelled or not. */
  versions: VersionView[];
  consumers: ConsumerRegistration[];
  instances: ConsumerInstance[];
  audit: AuditEntry[];
  /** Each instance's own audit stream (its fingerprint changes), by stream id. */
  instanceAudit: Record<string, AuditEntry[]>;
}

export interface Snapshot {
  now: Date;
  secrets: SecretView[];
  accounts: Record<string, { maxActiveKeys: number; limitCounts: "active" | "all"; keys: ExchangeKey[] }>;
  ledger: LedgerEntry[];
}

const parsed = new Map<string, { keyId: string; fingerprint: string }>();

function describe(value: string): { keyId: string; fingerprint: string } {
  // Keyed by the whole value: version ids repeat from one seed to the next.
  const cacheKey = value;
  const hit = parsed.get(cacheKey);
  if (hit) return hit;
  let keyId = "?";
  try {
    keyId = String((JSON.parse(value) as { keyId?: unknown }).keyId ?? "?");
  } catch {
    keyId = "?";
  }
  const out = { keyId, fingerprint: fingerprint(value) };
  if (parsed.size > 10_000) parsed.clear();
  parsed.set(cacheKey, out);
  return out;
}

export async function takeSnapshot(world: World): Promise<Snapshot> {
  const r = world.raw;
  const secrets: SecretView[] = [];
  for (const secretId of world.secretIds) {
    const instances = await r.consumers.listInstances(secretId);
    const instanceAudit: Record<string, AuditEntry[]> = {};
    for (const i of instances) {
      const stream = instanceAuditStream(secretId, i.consumerId, i.instanceId);
      instanceAudit[stream] = await r.audit.list(stream);
    }
    secrets.push({
      secretId,
      account: world.accountOf.get(secretId) ?? "?",
      settings: await r.store.getSettings(secretId),
      recorded: await r.store.getVersions(secretId),
      lock: await r.store.get(secretId),
      versions: r.secrets.versions(secretId).map((v) => ({
        versionId: v.versionId,
        stages: v.stages,
        ...describe(v.value),
      })),
      consumers: await r.consumers.listConsumers(secretId),
      instances,
      audit: await r.audit.list(secretId),
      instanceAudit,
    });
  }
  const accounts: Snapshot["accounts"] = {};
  for (const account of [...new Set(world.accountOf.values())].sort()) {
    accounts[account] = r.exchange.snapshot(account);
  }
  return { now: r.clock.now(), secrets, accounts, ledger: await r.ledger.listAll() };
}

/** The secret a key belongs to: by a version's value, by a ledger entry, or by its rotation label. */
export function secretOfKey(snap: Snapshot, keyId: string, labelOwner?: string): SecretView | undefined {
  const byVersion = snap.secrets.find((s) => s.versions.some((v) => v.keyId === keyId));
  if (byVersion) return byVersion;
  const entry = snap.ledger.find((e) => e.keyId === keyId);
  const id = entry?.secretId ?? labelOwner;
  return snap.secrets.find((s) => s.secretId === id);
}
