import { type AuditVerification, instanceAuditStream, verifyAuditTrail } from "../audit-chain";
import type { AuditLog, ConsumerRegistry } from "../ports";

export interface SecretAuditVerification {
  ok: boolean;
  /** The secret's own chain (rotation steps, operator actions). */
  secret: AuditVerification;
  /** Every instance stream, by stream id: only those that do not verify, or do not reach their row's anchor. */
  broken: Record<string, AuditVerification>;
  instanceStreams: number;
  instanceEntries: number;
}

/**
 * The whole trail of a secret: its own chain, and the stream of every consumer instance (its
 * fingerprint changes), each checked to verify and to reach what the instance row anchors.
 *
 * Input: secret id. Output: per-stream verdicts.
 * 1. Verify the secret's chain against its head.
 * 2. For every instance row: verify its stream against the stream's head; the entry at the row's
 *    `auditSeq` must carry the row's `auditHash` (a stream removed whole, head and all, fails here).
 */
export async function verifySecretAudit(
  secretId: string,
  deps: { audit: Pick<AuditLog, "list" | "head">; consumers: Pick<ConsumerRegistry, "listInstances"> },
): Promise<SecretAuditVerification> {
  const secret = verifyAuditTrail(await deps.audit.list(secretId), await deps.audit.head(secretId));
  const broken: Record<string, AuditVerification> = {};
  let instanceEntries = 0;
  const instances = await deps.consumers.listInstances(secretId);
  for (const instance of instances) {
    const stream = instanceAuditStream(secretId, instance.consumerId, instance.instanceId);
    const [entries, head] = [await deps.audit.list(stream), await deps.audit.head(stream)];
    // A row from before instance streams: its changes are in the secret's own chain.
    if (instance.auditSeq === undefined && entries.length === 0 && !head) continue;
    const verdict = verifyAuditTrail(entries, head);
    instanceEntries += verdict.entries;
    const anchored = entries.find((e) => e.seq === instance.auditSeq);
    if (!verdict.ok) {
      broken[stream] = verdict;
    } else if (instance.auditSeq !== undefined && anchored?.hash !== instance.auditHash) {
      broken[stream] = {
        ok: false,
        entries: verdict.entries,
        brokenAt: {
          seq: instance.auditSeq,
          reason: "the instance row anchors an entry its stream does not hold (stream truncated or replaced)",
        },
      };
    }
  }
  return {
    ok: secret.ok && Object.keys(broken).length === 0,
    secret,
    broken,
    instanceStreams: instances.length,
    instanceEntries,
  };
}
