/**
 * The safety invariants I1–I8 of the brief (and I10, IP bindings), as pure functions over a world snapshot (plus the call
 * being made, for the checks that must hold at the moment of an exchange call).
 */
import { instanceAuditStream, verifyAuditChain } from "../../src/core/audit/chain";
import { type LedgerEntry, type LockRecord, STAGE } from "../../src/core/model";
import { SecretNeedles } from "../../src/core/secret-shapes";
import { ipAllowed } from "../ip-allowlist";
import { type Snapshot, secretOfKey } from "./snapshot";
import type { Violation } from "./world";

const v = (invariant: string, signature: string, message: string): Violation => ({
  invariant,
  signature: `${invariant}: ${signature}`,
  message,
});

/**
 * The label half of I1 and I5 at the moment of a disableKey/removeKey call: the ledger entry exists,
 * and the key's version carries neither AWSCURRENT nor AWSPENDING (read raw). The consumer half of
 * I1 is judged from the world's own record (`oracles/liveness.ts`), never by the product's gate.
 */
export function checkRevocationCall(
  snap: Snapshot,
  call: { method: string; account: string; keyId: string; labelOwner?: string },
): Violation[] {
  const out: Violation[] = [];
  const { keyId } = call;
  if (!snap.ledger.some((e) => e.entryId === `${call.account}#${keyId}`)) {
    out.push(v("I5", `${call.method} with no ledger entry`, `${call.method} ${keyId} with no ledger entry`));
  }
  const secret = secretOfKey(snap, keyId, call.labelOwner);
  const labelled = secret?.versions.find(
    (x) => x.keyId === keyId && (x.stages.includes(STAGE.current) || x.stages.includes(STAGE.next)),
  );
  if (labelled) {
    out.push(
      v(
        "I1",
        `${call.method} of a key labelled ${labelled.stages.join("+")}`,
        `${call.method} ${keyId} of ${secret?.secretId} while its version carries ${labelled.stages.join(",")}`,
      ),
    );
  }
  return out;
}

/**
 * I10 right after a key is created: keyshift created only a key it can call the exchange with from
 * where it really calls (the in-memory exchange's caller address; judged with the harness's own
 * allow-list rule). A key bound elsewhere could never be verified — or revoked by a key of its own.
 */
export function checkCreatedBinding(
  created: { keyId: string; ipAllowlist?: string[] },
  callerAddress: string | undefined,
): Violation[] {
  if (callerAddress === undefined || ipAllowed(created.ipAllowlist, callerAddress)) return [];
  return [
    v(
      "I10",
      "created a key its own egress cannot use",
      `key ${created.keyId} is bound to ${created.ipAllowlist?.join(", ")}; keyshift calls from ${callerAddress}`,
    ),
  ];
}

/** I3 right after a key is created. */
export function checkCreatedKey(
  snap: Snapshot,
  account: string,
  keyId: string,
  labelOwner?: string,
): Violation[] {
  const out: Violation[] = [];
  const acct = snap.accounts[account];
  const active = acct?.keys.filter((k) => k.status === "active") ?? [];
  // Where disabled keys count against the limit (Deribit), they count here too.
  const counted = acct?.limitCounts === "all" ? acct.keys : active;
  if (acct && counted.length > acct.maxActiveKeys) {
    out.push(
      v(
        "I3",
        "over the exchange's key limit",
        `${account} holds ${counted.length} > ${acct.maxActiveKeys} ${acct.limitCounts === "all" ? "" : "active "}keys`,
      ),
    );
  }
  const secret = snap.secrets.find((s) => s.secretId === labelOwner);
  if (secret) {
    const mine = new Set([
      ...secret.versions.map((x) => x.keyId),
      ...snap.ledger.filter((e) => e.secretId === secret.secretId).map((e) => e.keyId),
    ]);
    const others = active.filter((k) => k.keyId !== keyId && mine.has(k.keyId));
    if (others.length >= 2) {
      out.push(
        v(
          "I3",
          "third key for one secret",
          `${keyId} created for ${secret.secretId} while ${others.map((k) => k.keyId).join(", ")} are active`,
        ),
      );
    }
  }
  return out;
}

/**
 * `LedgerStatus`'s forward moves (one event may cover several): `disabled → restoring → restored`
 * is the operator's audited undo, `restoring → disabled` a restore withdrawn before it enabled anything;
 * `awaiting-operator` (a manual account) ends only in `revoked`, a person's confirmed deletion.
 */
const FORWARD: Record<string, string[]> = {
  pending: ["pending", "failed", "disabled", "revoked", "awaiting-operator"],
  failed: ["failed", "disabled", "revoked", "awaiting-operator"],
  restored: ["restored", "failed", "disabled", "revoked", "awaiting-operator"],
  // A manual account: a person deletes the key; `keys confirm-deleted` records it revoked.
  "awaiting-operator": ["awaiting-operator", "revoked"],
  disabled: ["disabled", "restoring", "restored", "revoked"],
  restoring: ["restoring", "restored", "disabled"],
  revoked: ["revoked"],
};

function ledgerMoves(prev: LedgerEntry[], next: LedgerEntry[]): Violation[] {
  const out: Violation[] = [];
  const now = new Map(next.map((e) => [e.entryId, e]));
  for (const before of prev) {
    const after = now.get(before.entryId);
    if (!after) out.push(v("I5", "ledger entry vanished", `${before.entryId} vanished`));
    else if (!FORWARD[before.status]?.includes(after.status) || after.attempts < before.attempts) {
      out.push(
        v(
          "I5",
          "ledger moved backwards",
          `${before.entryId} ${before.status}/${before.attempts} -> ${after.status}/${after.attempts}`,
        ),
      );
    }
  }
  return out;
}

/** Checks after every event: I1 (AWSCURRENT usable), I3 (limit), I5 (forward-only), I8 (chains). */
export function checkWorld(prev: Snapshot | undefined, snap: Snapshot): Violation[] {
  const out: Violation[] = [];
  for (const s of snap.secrets) {
    const current = s.versions.find((x) => x.stages.includes(STAGE.current));
    const key = current && snap.accounts[s.account]?.keys.find((k) => k.keyId === current.keyId);
    if (current && key?.status !== "active") {
      out.push(
        v(
          "I1",
          "AWSCURRENT on a revoked key",
          `${s.secretId} AWSCURRENT is ${current.keyId}, ${key ? key.status : "removed"} on the exchange`,
        ),
      );
    }
    const before = prev?.secrets.find((p) => p.secretId === s.secretId);
    if (before?.audit.length !== s.audit.length) {
      const verdict = verifyAuditChain(s.audit);
      if (!verdict.ok) out.push(v("I8", "audit chain broken", `${s.secretId}: ${verdict.brokenAt?.reason}`));
    }
    for (const [stream, entries] of Object.entries(s.instanceAudit)) {
      if (before?.instanceAudit[stream]?.length === entries.length) continue;
      const verdict = verifyAuditChain(entries);
      if (!verdict.ok)
        out.push(v("I8", "instance audit chain broken", `${stream}: ${verdict.brokenAt?.reason}`));
    }
  }
  for (const [account, acct] of Object.entries(snap.accounts)) {
    const active = acct.keys.filter((k) => k.status === "active").length;
    if (active > acct.maxActiveKeys)
      out.push(v("I3", "over the exchange's key limit", `${account}: ${active} active`));
  }
  if (prev) out.push(...ledgerMoves(prev.ledger, snap.ledger));
  return out;
}

/**
 * I4 when a task of `execution` (working for `rotationId`) writes: the lock, if held, must be driven
 * by that very execution (a rotation resumed by another execution fences out the one it replaced).
 */
export function checkWriteUnderLock(
  lock: LockRecord | undefined,
  writer: { rotationId: string; execution: string },
  what: string,
): Violation[] {
  if (!lock) return [];
  const driver = lock.execution ?? lock.rotationId;
  if (driver === writer.execution) return [];
  return [
    v(
      "I4",
      "write while another execution drives the lock",
      `${writer.execution} (rotation ${writer.rotationId}) ${what} while ${driver} drives ${lock.rotationId}'s lock`,
    ),
  ];
}

/** I4 when an execution ends: the lock is free, stalled, or held by a rotation something still runs. */
export function checkLockAtEnd(
  snap: Snapshot,
  live: { rotations: ReadonlySet<string>; executions: ReadonlySet<string> },
  when: string,
): Violation[] {
  const out: Violation[] = [];
  for (const s of snap.secrets) {
    const lock = s.lock;
    // Alive while the execution that drives it runs (a resume whose BeginRotation failed has not
    // said which rotation it adopted, but its catch path still holds the lock until it stalls it).
    const driven = lock && live.executions.has(lock.execution ?? lock.rotationId);
    if (lock && !lock.stalled && !driven && !live.rotations.has(lock.rotationId)) {
      out.push(
        v(
          "I4",
          "lock held un-stalled by a finished rotation",
          `${when}: ${s.secretId} locked by ${lock.rotationId}, not stalled, no execution running`,
        ),
      );
    }
  }
  return out;
}

/** I2 (orphans) and the audit side of I8 at quiescence. Returns the orphan count too. */
export function checkQuiescence(snap: Snapshot): { violations: Violation[]; orphans: number } {
  const out: Violation[] = [];
  let orphans = 0;
  for (const [account, acct] of Object.entries(snap.accounts)) {
    // Disabled keys too: a key still on the exchange must be tracked until it is removed.
    for (const key of acct.keys) {
      // At quiescence every rotation has finished: a key only AWSPREVIOUS still points at was never
      // queued for revocation — lost track of, even though a label still names it.
      const inVersion = snap.secrets.some(
        (s) =>
          s.account === account &&
          s.versions.some(
            (x) =>
              x.keyId === key.keyId && (x.stages.includes(STAGE.current) || x.stages.includes(STAGE.next)),
          ),
      );
      const inLedger = snap.ledger.some((e) => e.keyId === key.keyId && e.status !== "revoked");
      if (!inVersion && !inLedger) {
        orphans += 1;
        const ledger = snap.ledger.find((e) => e.keyId === key.keyId);
        out.push(
          v(
            "I2",
            `orphan key${ledger ? ` (ledger says ${ledger.status})` : ""}`,
            `${account} ${key.keyId} (label ${key.label}) is ${key.status} but neither current nor pending and in no open ledger entry`,
          ),
        );
      }
    }
  }
  for (const s of snap.secrets) {
    for (const inst of s.instances) {
      // An instance's changes live in its own stream, anchored by its row (seq and hash).
      const stream = s.instanceAudit[instanceAuditStream(s.secretId, inst.consumerId, inst.instanceId)] ?? [];
      const changes = stream.filter(
        (a) =>
          a.action === "instance-fingerprint-changed" &&
          a.details?.consumerId === inst.consumerId &&
          a.details?.instanceId === inst.instanceId,
      );
      const anchored = stream.find((a) => a.seq === inst.auditSeq);
      if (inst.auditSeq !== undefined && anchored?.hash !== inst.auditHash) {
        out.push(
          v(
            "I8",
            "instance row anchor not in its stream",
            `${s.secretId} ${inst.consumerId}/${inst.instanceId} anchors seq ${inst.auditSeq}, which its stream does not hold`,
          ),
        );
      }
      // The heartbeat audits a change BEFORE it writes the instance (at-least-once): an entry whose
      // write then failed may come last, so the instance's fingerprint need only have been audited.
      if (!changes.some((a) => a.details?.to === inst.fingerprint)) {
        out.push(
          v(
            "I8",
            "instance fingerprint change not audited",
            `${s.secretId} ${inst.consumerId}/${inst.instanceId} reports ${inst.fingerprint}; no audited change says so (last: ${String(changes.at(-1)?.details?.to ?? "nothing")})`,
          ),
        );
      }
    }
  }
  return { violations: out, orphans };
}

/** I7: no known secret, whole or a 16-character piece of it, in any text that leaves the system. */
export class SecretScanner {
  /** Every secret shape the product handles (`core/secret-shapes`): field values, pieces, escapes. */
  private readonly needles = new SecretNeedles();

  add(secret: string): void {
    this.needles.add(secret);
  }

  scan(where: string, text: string): Violation[] {
    if (this.needles.find(text).length === 0) return [];
    return [
      v(
        "I7",
        `secret material in ${where.split(" ")[0]}`,
        `secret material found in ${where} (value not shown)`,
      ),
    ];
  }
}
