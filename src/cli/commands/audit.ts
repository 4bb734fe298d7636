import { verifySecretAudit } from "../../core/audit/trail";
import { InvalidInputError } from "../../core/errors";
import { secretIdArg } from "../args";
import { command } from "../command";
import { EXIT } from "../output";

/** `audit verify <secretId>`: recompute the secret's chain and every instance stream; exit 3 when one breaks. */
export const auditVerify = command({
  words: ["audit", "verify"],
  args: ["<secretId>"],
  options: [],
  parse: ([secretId = ""]) => secretIdArg(secretId),
  async run({ deps, out }, secretId) {
    // The secret's chain, and every consumer instance's own stream of fingerprint changes.
    const whole = await verifySecretAudit(secretId, deps);
    // Nothing at all is "not enrolled" only when nothing outside the trail says it existed: the
    // stream register, or the enrollment record (enrolling appends the chain's first entry).
    const none = !(await deps.audit.head(secretId)) && (await deps.audit.list(secretId)).length === 0;
    if (none && !whole.started && !(await deps.store.getSettings(secretId))) {
      throw new InvalidInputError(`no audit trail for ${secretId}: is it enrolled? (\`keyshift list\`)`);
    }
    const result = whole.secret;
    const pending = result.pending
      ? ` (entry ${result.pending} verified from the head: an append was interrupted; the next one stores it)`
      : "";
    const streams = Object.entries(whole.broken);
    const instances = `; ${whole.instanceStreams} instance stream(s), ${whole.instanceEntries} entries`;
    return out.outcome(
      !result.ok
        ? `audit trail of ${secretId} BROKEN at seq ${result.brokenAt?.seq}: ${result.brokenAt?.reason}`
        : streams.length > 0
          ? `audit trail of ${secretId}: chain verifies, but ${streams.length} instance stream(s) do not: ` +
            streams.map(([id, v]) => `${id} at seq ${v.brokenAt?.seq}: ${v.brokenAt?.reason}`).join("; ")
          : `audit trail of ${secretId}: ${result.entries} entries up to its head, chain verifies${pending}${instances}`,
      {
        secretId,
        ...result,
        instances: { streams: whole.instanceStreams, entries: whole.instanceEntries, broken: whole.broken },
      },
      whole.ok ? EXIT.ok : EXIT.auditBroken,
    );
  },
});
