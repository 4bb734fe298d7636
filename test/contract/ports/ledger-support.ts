/** What both revocation ledger suites share: entries as production opens them, and the sweep index. */
import { expect } from "vitest";
import type { LedgerEntry } from "../../../src/core/model";
import type { RevocationLedger } from "../../../src/core/ports";
import { newLedgerEntry } from "../../../src/core/revocation/through-ledger";
import type { PortTarget } from "./support";

export interface LedgerHelpers {
  /** A ledger entry as production opens it (`newLedgerEntry`): pending, due 5 minutes after `now`. */
  entryAt(now: Date, label: string): LedgerEntry;
  /** Entry ids `listDue(now)` returns among `ids` (a shared index may hold other tests' entries). */
  dueAmong(now: Date, ids: string[], limit?: number): Promise<string[]>;
  /** Waits (real AWS only) until the sparse index shows exactly `expected` of `ids` as due at `now`. */
  expectDue(now: Date, ids: string[], expected: string[]): Promise<void>;
}

export function ledgerHelpers(
  target: PortTarget<RevocationLedger>,
  ledger: () => RevocationLedger,
): LedgerHelpers {
  const dueAmong = async (now: Date, ids: string[], limit = 1000) =>
    (await ledger().listDue(now, limit)).map((e) => e.entryId).filter((id) => ids.includes(id));
  return {
    entryAt(now, label) {
      const keyId = target.id(label);
      return newLedgerEntry(
        {
          secretId: `keyshift/exchange/${label}`,
          exchangeAccount: "acme",
          keyId,
          versionId: "v-previous",
          rotationId: "rot-1",
          kind: "previous",
        },
        `acme#${keyId}`,
        now,
      );
    },
    dueAmong,
    async expectDue(now, ids, expected) {
      await target.eventually(async () => expect(await dueAmong(now, ids)).toEqual(expected));
    },
  };
}
