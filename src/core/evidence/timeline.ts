/** Each rotation of a secret as a timeline, from its audit entries and its record (pure). */
import type { AuditEntry, ConsumerRegistration, LedgerEntry, RotationRecord } from "../model";
import { KEY_ACTIONS, summarize, timelineKind } from "./describe";
import type {
  ConsumerConfirmation,
  EvidenceDetails,
  EvidencePeriod,
  RotationEvidence,
  RotationStatus,
  TimelineEvent,
} from "./model";
import { inPeriod } from "./period";

export interface TimelineFacts {
  period: EvidencePeriod;
  /** The secret's own chain. */
  chain: AuditEntry[];
  /** Every entry of the secret's instance streams (fingerprint changes). */
  instanceEntries: AuditEntry[];
  records: RotationRecord[];
  /** The secret's ledger entries. */
  ledger: LedgerEntry[];
  consumers: ConsumerRegistration[];
}

interface Group {
  rotationId: string;
  entries: AuditEntry[];
  record: RotationRecord | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const detail = (entries: AuditEntry[], action: string, key: string): string | undefined =>
  str(entries.find((e) => e.action === action)?.details?.[key]);
const keyOf = (e: AuditEntry): string | undefined =>
  str(e.details?.keyId) ?? str(e.details?.entryId)?.split("#").slice(1).join("#");

/** The key a rotation retires (current before it) and the key it made. */
function keysOf(g: Group): { retiring: string | undefined; made: string | undefined } {
  return {
    retiring: g.record?.previous?.exchangeKeyId ?? detail(g.entries, "rotation-completed", "previousKeyId"),
    made: g.record?.next?.exchangeKeyId ?? detail(g.entries, "next-created", "nextKeyId"),
  };
}

/**
 * Groups the chain by rotation: entries naming a `rotationId`, and key entries that name only a key
 * (a revocation, a failed attempt, a restore), attached to the rotation retiring that key, else to
 * the one that made it (an aborted rotation's new key). Returns the groups and the entries used.
 */
function groupByRotation(facts: TimelineFacts): { groups: Group[]; used: Set<AuditEntry> } {
  const groups = new Map<string, Group>();
  const groupOf = (rotationId: string) => {
    let g = groups.get(rotationId);
    if (!g) {
      g = { rotationId, entries: [], record: undefined };
      groups.set(rotationId, g);
    }
    return g;
  };
  // `operator` records only mark an operator command's hold on the lock (a restore): no rotation.
  for (const r of facts.records) if (r.trigger !== "operator") groupOf(r.rotationId).record = r;
  const used = new Set<AuditEntry>();
  for (const e of facts.chain) {
    const rotationId = str(e.details?.rotationId);
    if (rotationId && (groups.has(rotationId) || !facts.records.some((r) => r.rotationId === rotationId))) {
      groupOf(rotationId).entries.push(e);
      used.add(e);
    }
  }
  const all = [...groups.values()];
  for (const e of facts.chain) {
    const keyId = keyOf(e);
    if (used.has(e) || !keyId || !KEY_ACTIONS.has(e.action)) continue;
    const g = all.find((x) => keysOf(x).retiring === keyId) ?? all.find((x) => keysOf(x).made === keyId);
    if (g) {
      g.entries.push(e);
      used.add(e);
    }
  }
  return { groups: all, used };
}

function eventOf(e: AuditEntry, period: EvidencePeriod, secretId: string): TimelineEvent {
  const details: EvidenceDetails = { ...(e.details ?? {}) };
  return {
    at: e.at,
    kind: timelineKind(e),
    action: e.action,
    actor: e.actor,
    summary: summarize(e.action, details),
    source: { stream: e.stream ?? secretId, seq: e.seq },
    inPeriod: inPeriod(period, e.at),
    details,
  };
}

const startOf = (g: Group): string =>
  [g.record?.startedAt, ...g.entries.map((e) => e.at)].filter((t): t is string => !!t).sort()[0] ?? "";

/**
 * Every rotation of the secret whose span (from its first event to its end, or to now while it is
 * open) meets the period, oldest first, each with its timeline.
 */
export function rotationTimelines(facts: TimelineFacts): {
  rotations: RotationEvidence[];
  used: Set<AuditEntry>;
} {
  const { groups, used } = groupByRotation(facts);
  const secretId = facts.records[0]?.secretId ?? facts.chain[0]?.secretId ?? "";
  const ordered = groups
    .map((g) => ({ g, start: startOf(g) }))
    .sort((a, b) =>
      a.start < b.start ? -1 : a.start > b.start ? 1 : a.g.rotationId < b.g.rotationId ? -1 : 1,
    );
  const rotations = ordered.map(({ g, start }, i) =>
    rotationOf(g, start, ordered[i + 1]?.start, facts, secretId),
  );
  return {
    rotations: rotations.filter(
      (r) =>
        Date.parse(r.startedAt) < Date.parse(facts.period.end) &&
        (r.endedAt === null || Date.parse(r.endedAt) >= Date.parse(facts.period.start)),
    ),
    used,
  };
}

function rotationOf(
  g: Group,
  startedAt: string,
  nextStart: string | undefined,
  facts: TimelineFacts,
  secretId: string,
): RotationEvidence {
  const { retiring, made } = keysOf(g);
  const newFingerprint =
    detail(g.entries, "current-promoted", "currentFingerprint") ??
    detail(g.entries, "next-created", "nextFingerprint") ??
    null;
  const confirmations = confirmationsOf(facts, newFingerprint, startedAt, nextStart);
  const events = [
    ...g.entries.map((e) => eventOf(e, facts.period, secretId)),
    ...confirmations.events.map((e) => eventOf(e, facts.period, secretId)),
  ].map((e) => (e.action === "instance-fingerprint-changed" ? confirmed(e) : e));
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.source.seq - b.source.seq));
  const { status, endedAt } = statusOf(g, events);
  const emergency =
    g.record?.emergency !== undefined || events.some((e) => e.action.startsWith("emergency-"));
  const promoted = events.some((e) => e.kind === "promoted");
  const consumers = consumersOf(facts.consumers, confirmations.byConsumer);
  return {
    rotationId: g.rotationId,
    trigger: g.record?.trigger ?? detail(g.entries, "rotation-started", "trigger") ?? null,
    emergency,
    status,
    outcome: g.record?.outcome ?? detail(g.entries, "rotation-completed", "outcome") ?? null,
    startedAt,
    endedAt,
    previousKeyId: retiring ?? null,
    newKeyId: made ?? null,
    newFingerprint,
    consumers,
    awaiting: awaitingOf({ status, promoted, retiring, made, consumers, ledger: facts.ledger }),
    events,
  };
}

/** A consumer instance's fingerprint change to the rotation's new key, as the timeline calls it. */
function confirmed(e: TimelineEvent): TimelineEvent {
  return {
    ...e,
    kind: "confirmed",
    action: "instance-confirmed",
    summary: summarize("instance-confirmed", e.details),
  };
}

/**
 * The first report of the new fingerprint by each instance, after the rotation began and before
 * the next one did (a rollback and back is not a second confirmation).
 */
function confirmationsOf(
  facts: TimelineFacts,
  fingerprint: string | null,
  from: string,
  until: string | undefined,
): { events: AuditEntry[]; byConsumer: Map<string, ConsumerConfirmation["instances"]> } {
  const byConsumer = new Map<string, ConsumerConfirmation["instances"]>();
  const events: AuditEntry[] = [];
  if (!fingerprint) return { events, byConsumer };
  const seen = new Set<string>();
  const sorted = [...facts.instanceEntries].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  for (const e of sorted) {
    const consumerId = str(e.details?.consumerId);
    const instanceId = str(e.details?.instanceId);
    if (e.details?.to !== fingerprint || !consumerId || !instanceId) continue;
    if (e.at < from || (until !== undefined && e.at >= until)) continue;
    const key = `${consumerId}\u0000${instanceId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    events.push(e);
    byConsumer.set(consumerId, [
      ...(byConsumer.get(consumerId) ?? []),
      { instanceId, at: e.at, actor: e.actor },
    ]);
  }
  return { events, byConsumer };
}

function consumersOf(
  registered: ConsumerRegistration[],
  byConsumer: Map<string, ConsumerConfirmation["instances"]>,
): ConsumerConfirmation[] {
  const ids = [...new Set([...registered.map((c) => c.consumerId), ...byConsumer.keys()])].sort();
  return ids.map((consumerId) => {
    const instances = byConsumer.get(consumerId) ?? [];
    return {
      consumerId,
      confirmedAt: instances[0]?.at ?? null,
      instances,
      required: registered.find((c) => c.consumerId === consumerId)?.required ?? null,
    };
  });
}

const PHASE_STATUS: Record<string, RotationStatus> = {
  completed: "completed",
  "force-revoked": "completed",
  aborted: "aborted",
  "rolled-back": "rolled-back",
  stalled: "stalled",
};

/** The record's phase when there is a record; else the last event that changes how it stands. */
function statusOf(g: Group, events: TimelineEvent[]): { status: RotationStatus; endedAt: string | null } {
  const lastOf = (kinds: string[]) => events.filter((e) => kinds.includes(e.kind)).at(-1);
  const turning = events.filter(
    (e) =>
      ["completed", "aborted", "stalled", "begun"].includes(e.kind) || e.action === "rotation-rolled-back",
  );
  const last = turning.at(-1);
  const status: RotationStatus = g.record
    ? (PHASE_STATUS[g.record.phase] ?? "in-progress")
    : last?.kind === "completed" || last?.kind === "aborted" || last?.kind === "stalled"
      ? last.kind
      : last?.action === "rotation-rolled-back"
        ? "rolled-back"
        : "in-progress";
  const ending =
    status === "completed" || status === "aborted"
      ? lastOf([status])
      : status === "rolled-back"
        ? events.filter((e) => e.action === "rotation-rolled-back").at(-1)
        : undefined;
  return {
    status,
    endedAt:
      ending?.at ?? (status === "completed" || status === "aborted" ? (g.record?.updatedAt ?? null) : null),
  };
}

/** What the rotation still waits for, in words an operator acts on. */
function awaitingOf(r: {
  status: RotationStatus;
  promoted: boolean;
  retiring: string | undefined;
  made: string | undefined;
  consumers: ConsumerConfirmation[];
  ledger: LedgerEntry[];
}): string[] {
  const open: string[] = [];
  if (r.status === "stalled") open.push("stalled: an operator decides (resume, force-revoke or rollback)");
  if ((r.status === "in-progress" || r.status === "stalled") && r.promoted) {
    for (const c of r.consumers)
      if (c.required && c.confirmedAt === null)
        open.push(`consumer ${c.consumerId} has not confirmed the new key`);
  }
  const entry = (keyId: string | undefined) => r.ledger.find((e) => e.keyId === keyId);
  const ledgerLine = (what: string, e: LedgerEntry) =>
    `${what} ${e.keyId}: ledger ${e.status}, ${e.attempts} attempt(s)` +
    (e.needsOperator ? ", NEEDS AN OPERATOR" : "") +
    (e.nextAttemptAt ? `, next attempt ${e.nextAttemptAt}` : "");
  const previous = entry(r.retiring);
  if (previous && previous.status !== "revoked") open.push(ledgerLine("previous key", previous));
  const made = entry(r.made);
  if (made && made.status !== "revoked") open.push(ledgerLine("new key (never promoted)", made));
  return open;
}
