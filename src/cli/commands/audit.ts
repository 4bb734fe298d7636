import type { AppDeps } from "../../commons/deps";
import { type ArchiveVerification, verifyAgainstArchive } from "../../core/audit/archive-verify";
import { verifySecretAudit } from "../../core/audit/trail";
import { InvalidInputError } from "../../core/errors";
import { secretIdArg } from "../args";
import { command } from "../command";
import { EXIT } from "../output";

type ArchiveCheck = ArchiveVerification | { checked: false; reason: string };

/**
 * The table against the archive (the auditArchive function's Object Lock bucket), when this shell
 * names it: what the chain cannot see — head and entries rewritten together — shows there.
 */
async function checkArchive(secretId: string, deps: AppDeps, env: NodeJS.ProcessEnv): Promise<ArchiveCheck> {
  if (!env.KEYSHIFT_AUDIT_ARCHIVE_BUCKET) {
    return {
      checked: false,
      reason: "KEYSHIFT_AUDIT_ARCHIVE_BUCKET is not set (stack output KeyshiftAuditArchiveBucket)",
    };
  }
  const [{ loadConfig }, { auditArchive, compose }] = await Promise.all([
    import("../../commons/config"),
    import("../../commons/wiring"),
  ]);
  const { archive } = compose(loadConfig(env), { archive: auditArchive });
  const tableStreams = [secretId, ...(await deps.audit.streams(secretId))];
  return verifyAgainstArchive(secretId, tableStreams, { audit: deps.audit, archive, clock: deps.clock });
}

function archiveLine(check: ArchiveCheck): string {
  if ("checked" in check) return `; archive not checked: ${check.reason}`;
  if (check.ok) {
    const pending = check.pending ? ` (${check.pending} newest on their way)` : "";
    return `; archive matches: ${check.matching} entries in ${check.trails} trail(s)${pending}`;
  }
  return `; ARCHIVE MISMATCH: ${check.findings.map((f) => `${f.stream} at seq ${f.seq}: ${f.kind} (${f.reason})`).join("; ")}`;
}

/**
 * `audit verify <secretId>`: recompute the secret's chain and every instance stream, and compare
 * them with the archive; exit 3 when one breaks or the table and the archive disagree.
 */
export const auditVerify = command({
  words: ["audit", "verify"],
  args: ["<secretId>"],
  options: [],
  parse: ([secretId = ""]) => secretIdArg(secretId),
  async run({ deps, out, env }, secretId) {
    // The secret's chain, and every consumer instance's own stream of fingerprint changes.
    const whole = await verifySecretAudit(secretId, deps);
    const archive = await checkArchive(secretId, deps, env);
    const archived =
      !("checked" in archive) && (archive.matching > 0 || archive.pending > 0 || archive.findings.length > 0);
    // Nothing at all is "not enrolled" only when nothing outside the trail says it existed: the
    // stream register, the enrollment record (enrolling appends the chain's first entry), the archive.
    const none = !(await deps.audit.head(secretId)) && (await deps.audit.list(secretId)).length === 0;
    if (none && !whole.started && !archived && !(await deps.store.getSettings(secretId))) {
      throw new InvalidInputError(`no audit trail for ${secretId}: is it enrolled? (\`keyshift list\`)`);
    }
    const result = whole.secret;
    const pending = result.pending
      ? ` (entry ${result.pending} verified from the head: an append was interrupted; the next one stores it)`
      : "";
    const streams = Object.entries(whole.broken);
    const instances = `; ${whole.instanceStreams} instance stream(s), ${whole.instanceEntries} entries`;
    const archiveOk = "checked" in archive || archive.ok;
    return out.outcome(
      (!result.ok
        ? `audit trail of ${secretId} BROKEN at seq ${result.brokenAt?.seq}: ${result.brokenAt?.reason}`
        : streams.length > 0
          ? `audit trail of ${secretId}: chain verifies, but ${streams.length} instance stream(s) do not: ` +
            streams.map(([id, v]) => `${id} at seq ${v.brokenAt?.seq}: ${v.brokenAt?.reason}`).join("; ")
          : `audit trail of ${secretId}: ${result.entries} entries up to its head, chain verifies${pending}${instances}`) +
        archiveLine(archive),
      {
        secretId,
        ...result,
        instances: { streams: whole.instanceStreams, entries: whole.instanceEntries, broken: whole.broken },
        archive,
      },
      whole.ok && archiveOk ? EXIT.ok : EXIT.auditBroken,
    );
  },
});
