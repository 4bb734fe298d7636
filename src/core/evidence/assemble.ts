import { streamRegisterOf } from "../audit/chain";
import { verifySecretAudit } from "../audit/trail";
import { InvalidInputError } from "../errors";
import type { HygieneReport } from "../hygiene/audit";
import type { AuditEntry } from "../model";
import type {
  AuditLog,
  Clock,
  ConsumerRegistry,
  ReadHistory,
  RevocationLedger,
  RotationStore,
} from "../ports";
import {
  type AuditEvidence,
  EVIDENCE_SCHEMA,
  type EvidenceDocument,
  type EvidencePeriod,
  type EvidenceSummary,
  type SecretEvidence,
} from "./model";
import { actionsOf, hygieneOf, readersOf } from "./sections";
import { rotationTimelines } from "./timeline";

/** Read-only views of the ports: building evidence writes nothing (the types say so). */
export interface EvidenceDeps {
  store: Pick<RotationStore, "listSettings" | "getSettings" | "listRotations">;
  audit: Pick<AuditLog, "list" | "head" | "streams">;
  consumers: Pick<ConsumerRegistry, "listConsumers" | "listInstances">;
  ledger: Pick<RevocationLedger, "listAll">;
  readHistory: Pick<ReadHistory, "readsBy">;
  clock: Clock;
  /** The hygiene audit of every secret as it stands now (`hygieneAudit`, without alerting). */
  hygiene: () => Promise<Pick<HygieneReport, "at" | "findings">>;
}

export interface EvidenceInput {
  period: EvidencePeriod;
  /** One secret; absent: every enrolled secret. */
  secretId?: string;
  /** Who asked for the evidence (the authenticated caller). */
  generatedBy: string;
  /** Progress, one line at a time (the CLI writes it to stderr). */
  progress?: (line: string) => void;
}

/**
 * The evidence of a period, per secret: its rotations as timelines, who read it, approvals and
 * other audited actions, its hygiene findings and what resolved them, and its audit verification.
 *
 * Input: the period, optionally one secret. Output: the evidence document (`EvidenceDocument`).
 * 1. The secrets: the one asked for (refused when keyshift knows nothing of it), or every enrolled one.
 * 2. Once for all: the revocation ledger and the hygiene audit.
 * 3. Per secret, through the ports, reading only: its chain and its instance streams, its rotation
 *    records, its consumers; the timelines and sections are judged by pure functions.
 * 4. Per reader, its last read ever from the read history; per secret, `verifySecretAudit`.
 * Every detail shown is one an audit entry or a store already holds; no secret value is read.
 */
export async function assembleEvidence(input: EvidenceInput, deps: EvidenceDeps): Promise<EvidenceDocument> {
  const progress = input.progress ?? (() => undefined);
  const secretIds = await secretsOf(input.secretId, deps);
  progress(`evidence for ${input.period.from}..${input.period.to}: ${secretIds.length} secret(s)`);
  const ledger = await deps.ledger.listAll();
  progress("hygiene audit (lists each exchange account's keys)");
  const hygiene = await deps.hygiene();
  const secrets: SecretEvidence[] = [];
  for (const [i, secretId] of secretIds.entries()) {
    progress(`${i + 1}/${secretIds.length} ${secretId}`);
    secrets.push(await secretEvidence(secretId, input.period, deps, { ledger, hygiene }));
  }
  return {
    schema: EVIDENCE_SCHEMA,
    generatedAt: deps.clock.now().toISOString(),
    generatedBy: input.generatedBy,
    period: input.period,
    selection: input.secretId ?? null,
    summary: summaryOf(secrets),
    secrets,
  };
}

async function secretsOf(secretId: string | undefined, deps: EvidenceDeps): Promise<string[]> {
  if (secretId === undefined) return (await deps.store.listSettings()).map((s) => s.secretId).sort();
  const known =
    (await deps.store.getSettings(secretId)) !== undefined ||
    (await deps.audit.streams(secretId)).length > 0 ||
    (await deps.audit.list(secretId)).length > 0;
  if (!known)
    throw new InvalidInputError(`keyshift knows nothing of ${secretId}: is it enrolled? (\`keyshift list\`)`);
  return [secretId];
}

async function secretEvidence(
  secretId: string,
  period: EvidencePeriod,
  deps: EvidenceDeps,
  shared: {
    ledger: Awaited<ReturnType<RevocationLedger["listAll"]>>;
    hygiene: Pick<HygieneReport, "at" | "findings">;
  },
): Promise<SecretEvidence> {
  const settings = await deps.store.getSettings(secretId);
  const chain = await deps.audit.list(secretId);
  const instanceEntries: AuditEntry[] = [];
  for (const stream of await deps.audit.streams(secretId)) {
    if (stream === secretId || stream === streamRegisterOf(secretId)) continue;
    instanceEntries.push(...(await deps.audit.list(stream)));
  }
  const { rotations, used } = rotationTimelines({
    period,
    chain,
    instanceEntries,
    records: await deps.store.listRotations(secretId),
    ledger: shared.ledger.filter((e) => e.secretId === secretId),
    consumers: await deps.consumers.listConsumers(secretId),
  });
  const readers = readersOf(chain, period);
  for (const row of readers) {
    const reads = await deps.readHistory.readsBy(row.principal);
    row.lastReadEver = reads.find((r) => r.secretId === secretId)?.lastReadAt ?? null;
  }
  return {
    secretId,
    exchangeAccount: settings?.exchangeAccount ?? null,
    enrolledAt: settings?.enrolledAt ?? null,
    rotations,
    readers,
    ...actionsOf(chain, used, period, secretId),
    hygiene: hygieneOf(shared.hygiene.findings, shared.hygiene.at, chain, period, secretId),
    audit: await auditOf(secretId, deps),
  };
}

async function auditOf(secretId: string, deps: EvidenceDeps): Promise<AuditEvidence> {
  const whole = await verifySecretAudit(secretId, deps);
  return {
    ok: whole.ok,
    secret: whole.secret,
    instanceStreams: whole.instanceStreams,
    instanceEntries: whole.instanceEntries,
    broken: Object.entries(whole.broken).map(([stream, v]) => ({
      stream,
      seq: v.brokenAt?.seq ?? null,
      reason: v.brokenAt?.reason ?? "does not verify",
    })),
  };
}

function summaryOf(secrets: SecretEvidence[]): EvidenceSummary {
  const rotations = secrets.flatMap((s) => s.rotations);
  const readers = secrets.flatMap((s) => s.readers);
  const findings = secrets.flatMap((s) => s.hygiene.findings);
  const count = (status: string) => rotations.filter((r) => r.status === status).length;
  return {
    secrets: secrets.length,
    rotations: rotations.length,
    byStatus: {
      completed: count("completed"),
      stalled: count("stalled"),
      aborted: count("aborted"),
      "rolled-back": count("rolled-back"),
      "in-progress": count("in-progress"),
    },
    reads: readers.reduce((n, r) => n + r.served, 0),
    deniedReads: readers.reduce((n, r) => n + r.denied, 0),
    unregisteredReaders: readers.filter((r) => r.reader === "unregistered").length,
    approvals: secrets.reduce((n, s) => n + s.approvals.length, 0),
    findings: {
      high: findings.filter((f) => f.severity === "high").length,
      medium: findings.filter((f) => f.severity === "medium").length,
      low: findings.filter((f) => f.severity === "low").length,
    },
    auditBroken: secrets.filter((s) => !s.audit.ok).map((s) => s.secretId),
  };
}
