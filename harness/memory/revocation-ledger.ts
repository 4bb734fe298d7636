import { InvalidInputError, OperatorActionRejectedError } from "../../src/core/errors";
import type { BreakGlass, LedgerEntry, LedgerStatus } from "../../src/core/model";
import { FIRST_STAGE_STATUSES, restoringRefusal } from "../../src/core/model";
import type { FailedAttempt, RevocationLedger } from "../../src/core/ports";
import { copy } from "./copy";

interface LedgerItem {
  entry: LedgerEntry;
  /** The sparse by-sweep index key: present only while the entry still needs work. */
  sweepAt?: string;
}

/**
 * Revocation ledger with the adapter's conditions (see `LedgerStatus` and `RevocationLedger`):
 * forward-only transitions, `revoked` final, `openPending` never resets an existing entry; a
 * transition with an `owner` needs that owner's claim, one without needs no live claim; every
 * transition gives the claim back.
 * Proven equal to the production adapter by revocation-ledger.suite.ts and revocation-ledger-two-stage.suite.ts (test/contract/ports/).
 */
export class InMemoryRevocationLedger implements RevocationLedger {
  private readonly items = new Map<string, LedgerItem>();

  async get(entryId: string) {
    const item = this.items.get(entryId);
    return item && copy(item.entry);
  }
  async openPending(entry: LedgerEntry): Promise<LedgerEntry> {
    const existing = this.items.get(entry.entryId);
    if (existing) return copy(existing.entry);
    const stored: LedgerEntry = { ...copy(entry), status: "pending" };
    this.items.set(entry.entryId, { entry: stored, sweepAt: entry.nextAttemptAt });
    return copy(stored);
  }
  async claim(
    entryId: string,
    expect: { status: LedgerStatus; attempts: number; dueBy?: Date },
    claim: { owner: string; at: Date; until: Date },
  ): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    const e = item.entry;
    const due =
      !expect.dueBy ||
      (!e.needsOperator && e.nextAttemptAt !== undefined && e.nextAttemptAt <= expect.dueBy.toISOString());
    if (e.status !== expect.status || e.attempts !== expect.attempts || !due || claimLive(e, claim.at)) {
      return copy(e);
    }
    item.entry = { ...e, claim: { owner: claim.owner, until: claim.until.toISOString() } };
    return copy(item.entry);
  }
  async releaseClaim(entryId: string, owner: string): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    if (item.entry.claim?.owner === owner) item.entry = unclaimed(item.entry);
    return copy(item.entry);
  }
  async markRevoked(entryId: string, at: Date, owner?: string): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    const status = item.entry.status;
    if (status !== "revoked" && status !== "restoring" && claimAllows(item.entry, owner, at)) {
      const { nextAttemptAt: _dropped, heldReason: _held, ...rest } = unclaimed(item.entry);
      item.entry = {
        ...rest,
        status: "revoked",
        reRetiredAt: item.entry.reRetiredAt ?? at.toISOString(),
        revokedAt: at.toISOString(),
        updatedAt: at.toISOString(),
        attempts: item.entry.attempts + 1,
        needsOperator: false,
      };
      item.sweepAt = undefined;
    }
    return copy(item.entry);
  }
  async markAwaitingOperator(entryId: string, update: { at: Date; owner?: string }): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    if (
      !FIRST_STAGE_STATUSES.includes(item.entry.status) ||
      !claimAllows(item.entry, update.owner, update.at)
    ) {
      return copy(item.entry);
    }
    const at = update.at.toISOString();
    const { nextAttemptAt: _next, heldReason: _held, ...rest } = unclaimed(item.entry);
    item.entry = {
      ...rest,
      status: "awaiting-operator",
      reRetiredAt: item.entry.reRetiredAt ?? at,
      awaitingSince: at,
      updatedAt: at,
      needsOperator: true,
      attempts: item.entry.attempts + 1,
    };
    item.sweepAt = undefined;
    return copy(item.entry);
  }
  async markDisabled(
    entryId: string,
    update: { at: Date; removeAfter: Date; owner?: string },
  ): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    if (
      !FIRST_STAGE_STATUSES.includes(item.entry.status) ||
      !claimAllows(item.entry, update.owner, update.at)
    ) {
      return copy(item.entry);
    }
    const at = update.at.toISOString();
    const next = update.removeAfter.toISOString();
    const { heldReason: _held, lastError: _err, restored: _restored, ...rest } = unclaimed(item.entry);
    item.entry = {
      ...rest,
      status: "disabled",
      reRetiredAt: item.entry.reRetiredAt ?? at,
      disabledAt: at,
      updatedAt: at,
      needsOperator: false,
      attempts: item.entry.attempts + 1,
      attemptsAtDisable: item.entry.attempts + 1,
      nextAttemptAt: next,
    };
    item.sweepAt = next;
    return copy(item.entry);
  }
  async beginRestore(
    entryId: string,
    intent: { owner: string; actor: string; reason: string; at: Date },
  ): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    const e = item.entry;
    const from = e.status === "restoring" || (e.status === "disabled" && !claimLive(e, intent.at));
    if (!from) return copy(e);
    const at = intent.at.toISOString();
    item.entry = {
      ...unclaimed(e),
      status: "restoring",
      restoring: { owner: intent.owner, actor: intent.actor, reason: intent.reason, at },
      updatedAt: at,
    };
    item.sweepAt = undefined;
    return copy(item.entry);
  }
  async markRestored(entryId: string, update: { owner: string; at: Date }): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    const e = item.entry;
    if (e.status !== "restoring" || e.restoring?.owner !== update.owner) return copy(e);
    const at = update.at.toISOString();
    const { nextAttemptAt: _next, restoring: intent, breakGlass, reRetiredAt: _inService, ...rest } = e;
    item.entry = {
      ...rest,
      status: "restored",
      restored: { actor: intent.actor, reason: intent.reason, at },
      lastRestoredAt: at,
      ...(breakGlass ? { breakGlassHistory: [...(e.breakGlassHistory ?? []), breakGlass] } : {}),
      updatedAt: at,
      needsOperator: true,
    };
    item.sweepAt = undefined;
    return copy(item.entry);
  }
  async withdrawRestore(entryId: string, update: { owner: string; at: Date }): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    const e = item.entry;
    if (e.status !== "restoring" || e.restoring?.owner !== update.owner) return copy(e);
    const { restoring: _intent, ...rest } = e;
    item.entry = { ...rest, status: "disabled", updatedAt: update.at.toISOString() };
    item.sweepAt = e.nextAttemptAt;
    return copy(item.entry);
  }
  async markFailed(entryId: string, update: FailedAttempt): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    const removing = update.stage === "remove";
    if (removing ? item.entry.status !== "disabled" : !FIRST_STAGE_STATUSES.includes(item.entry.status)) {
      return copy(item.entry);
    }
    if (!claimAllows(item.entry, update.owner, update.at)) return copy(item.entry);
    const next = update.nextAttemptAt?.toISOString();
    const { nextAttemptAt: _dropped, heldReason: _held, ...rest } = unclaimed(item.entry);
    item.entry = {
      ...rest,
      status: removing ? "disabled" : "failed",
      reRetiredAt: item.entry.reRetiredAt ?? update.at.toISOString(),
      updatedAt: update.at.toISOString(),
      lastError: update.error,
      attempts: item.entry.attempts + 1,
      needsOperator: update.needsOperator,
      ...(next ? { nextAttemptAt: next } : {}),
    };
    item.sweepAt = next;
    return copy(item.entry);
  }
  async hold(
    entryId: string,
    update: {
      at: Date;
      reason: string;
      nextAttemptAt: Date | undefined;
      needsOperator: boolean;
      owner?: string;
    },
  ): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    const status = item.entry.status;
    if (status === "revoked" || status === "restoring" || !claimAllows(item.entry, update.owner, update.at)) {
      return copy(item.entry);
    }
    const next = update.nextAttemptAt?.toISOString();
    const { nextAttemptAt: _dropped, ...rest } = unclaimed(item.entry);
    item.entry = {
      ...rest,
      updatedAt: update.at.toISOString(),
      heldReason: update.reason,
      needsOperator: update.needsOperator,
      ...(next ? { nextAttemptAt: next } : {}),
    };
    item.sweepAt = next;
    return copy(item.entry);
  }
  async requeue(entryId: string, at: Date): Promise<LedgerEntry> {
    const item = this.items.get(entryId);
    if (!item) throw new InvalidInputError(`no ledger entry ${entryId}: see \`keyshift revocations list\``);
    if (item.entry.status === "revoked")
      throw new OperatorActionRejectedError(`ledger entry ${entryId} is already revoked: nothing to retry`);
    if (item.entry.status === "restoring") throw new OperatorActionRejectedError(restoringRefusal(entryId));
    item.entry = {
      ...item.entry,
      needsOperator: false,
      nextAttemptAt: at.toISOString(),
      updatedAt: at.toISOString(),
    };
    item.sweepAt = at.toISOString();
    return copy(item.entry);
  }
  async recordBreakGlass(entryId: string, breakGlass: BreakGlass): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    if (item.entry.status === "revoked" || item.entry.status === "restoring") return copy(item.entry);
    item.entry = {
      ...item.entry,
      breakGlass: item.entry.breakGlass ?? copy(breakGlass),
      updatedAt: breakGlass.at,
    };
    return copy(item.entry);
  }
  async listDue(now: Date, limit: number): Promise<LedgerEntry[]> {
    const cutoff = now.toISOString();
    return [...this.items.values()]
      .filter((i): i is LedgerItem & { sweepAt: string } => i.sweepAt !== undefined && i.sweepAt <= cutoff)
      .sort((a, b) => a.sweepAt.localeCompare(b.sweepAt))
      .slice(0, limit)
      .map((i) => copy(i.entry));
  }
  async listBySecret(secretId: string): Promise<LedgerEntry[]> {
    return [...this.items.values()]
      .filter((i) => i.entry.secretId === secretId)
      .map((i) => copy(i.entry))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
  async listByStatus(status: LedgerStatus): Promise<LedgerEntry[]> {
    return (await this.listAll()).filter((e) => e.status === status);
  }
  async listAll(): Promise<LedgerEntry[]> {
    return [...this.items.values()]
      .map((i) => copy(i.entry))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  private mustGet(entryId: string): LedgerItem {
    const item = this.items.get(entryId);
    // The adapter's conditional update fails on a missing item, then its re-read finds nothing.
    if (!item) throw new Error(`ledger entry ${entryId} vanished`);
    return item;
  }
}

/** Another attempt's claim still runs at `at`. */
function claimLive(entry: LedgerEntry, at: Date): boolean {
  return entry.claim !== undefined && entry.claim.until > at.toISOString();
}

/** A transition by `owner` needs its claim; one without an owner needs no live claim. */
function claimAllows(entry: LedgerEntry, owner: string | undefined, at: Date): boolean {
  return owner ? entry.claim?.owner === owner : !claimLive(entry, at);
}

function unclaimed(entry: LedgerEntry): LedgerEntry {
  const { claim: _claim, ...rest } = entry;
  return rest;
}
