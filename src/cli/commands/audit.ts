import { verifyAuditTrail } from "../../core/audit-chain";
import { InvalidInputError } from "../../core/errors";
import { secretIdArg } from "../args";
import { command } from "../command";
import { EXIT } from "../output";

/** `audit verify <secretId>`: recompute the hash chain up to its head; exit 3 when it breaks. */
export const auditVerify = command({
  words: ["audit", "verify"],
  args: ["<secretId>"],
  options: [],
  parse: ([secretId = ""]) => secretIdArg(secretId),
  async run({ deps, out }, secretId) {
    // The head first: an append while this runs then only adds entries past it.
    const head = await deps.audit.head(secretId);
    const entries = await deps.audit.list(secretId);
    if (!head && entries.length === 0) {
      throw new InvalidInputError(`no audit trail for ${secretId}: is it enrolled? (\`keyshift list\`)`);
    }
    const result = verifyAuditTrail(entries, head);
    const pending = result.pending
      ? ` (entry ${result.pending} verified from the head: an append was interrupted; the next one stores it)`
      : "";
    return out.outcome(
      result.ok
        ? `audit trail of ${secretId}: ${result.entries} entries up to its head, chain verifies${pending}`
        : `audit trail of ${secretId} BROKEN at seq ${result.brokenAt?.seq}: ${result.brokenAt?.reason}`,
      { secretId, ...result },
      result.ok ? EXIT.ok : EXIT.auditBroken,
    );
  },
});
