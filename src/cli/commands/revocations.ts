import { requeueRevocation } from "../../core/operator/operator";
import { restoreRevocation } from "../../core/revocation/restore";
import { ledgerEntryIdArg, reasonOption, stringOption } from "../args";
import { command } from "../command";

/** `revocations list`: every ledger entry (pending / revoked / failed, needs operator). */
export const revocationsList = command({
  words: ["revocations", "list"],
  args: [],
  options: [],
  parse: () => undefined,
  async run({ deps, out }) {
    const entries = await deps.ledger.listAll();
    out.result(
      entries
        .map(
          (e) =>
            `${e.entryId}\t${e.status}\t${e.attempts}\t${e.needsOperator ? "needs-operator" : ""}\t${e.lastError ?? ""}`,
        )
        .join("\n") || "ledger is empty",
      entries,
    );
    return 0;
  },
});

/** `revocations retry <entryId>`: put an entry back in the sweeper's queue now. */
export const revocationsRetry = command({
  words: ["revocations", "retry"],
  args: ["<entryId>"],
  options: [],
  parse: ([entryId = ""]) => ledgerEntryIdArg(entryId),
  async run({ deps, out, actor }, entryId) {
    const entry = await requeueRevocation({ entryId, actor }, deps);
    out.result(`requeued ${entry.entryId}; the sweeper retries it on its next run`, entry);
    return 0;
  },
});

/**
 * `revocations restore <entryId> --reason "..."`: within a two-stage revocation's grace, enable the
 * disabled previous key again (the undo for a consumer nobody had registered). Audited, alerted.
 */
export const revocationsRestore = command({
  words: ["revocations", "restore"],
  args: ["<entryId>"],
  options: ["reason"],
  parse: ([entryId = ""], values) => ({
    entryId: ledgerEntryIdArg(entryId),
    reason: reasonOption(stringOption(values, "reason"), "revocations restore"),
  }),
  async run({ deps, out, actor }, input: { entryId: string; reason: string }) {
    const entry = await restoreRevocation({ ...input, actor }, deps);
    out.result(
      `restored ${entry.entryId}: key ${entry.keyId} authenticates again. Register the consumer that needed it, ` +
        `let it move to the current key, then \`keyshift revocations retry ${entry.entryId}\``,
      entry,
    );
    return 0;
  },
});
