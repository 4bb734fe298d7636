import { principalArg } from "../args";
import { command } from "../command";

interface Exposure {
  secretId: string;
  lastReadAt: string;
  /** When the secret's current key became current (none: never rotated by keyshift). */
  promotedAt: string | null;
  /** The key the principal last read has been replaced since: the exposure is over once it is revoked. */
  rotatedSince: boolean;
  next: string | null;
}

/**
 * `exposure <principal>`: every enrolled secret the principal ever read (the read audit's history,
 * from CloudTrail), when it last did, and whether the key it could have copied was rotated since —
 * what a departure ("revocation must be fast and complete") or a retired service leaves exposed.
 */
export const exposure = command({
  words: ["exposure"],
  args: ["<principal>"],
  options: [],
  parse: ([principal = ""]) => principalArg(principal),
  async run({ deps, out }, principal) {
    const reads = await deps.readHistory.readsBy(principal);
    const rows: Exposure[] = [];
    for (const read of reads) {
      const versions = await deps.store.getVersions(read.secretId);
      const promotedAt = versions?.promotedAt ?? null;
      const rotatedSince = promotedAt !== null && promotedAt > read.lastReadAt;
      rows.push({
        ...read,
        promotedAt,
        rotatedSince,
        next: rotatedSince
          ? null
          : `keyshift rotate ${read.secretId} --compromised --reason "exposed to ${principal}"`,
      });
    }
    const exposed = rows.filter((r) => !r.rotatedSince);
    const lines = rows.map(
      (r) =>
        `${r.secretId}  last read ${r.lastReadAt}; ${r.rotatedSince ? `rotated since (${r.promotedAt})` : `STILL EXPOSED: ${r.next}`}`,
    );
    out.result(
      rows.length === 0
        ? `${principal} has read no enrolled secret (as far as the read audit recorded)`
        : `${principal} read ${rows.length} secret(s); ${exposed.length} still exposed\n${lines.join("\n")}`,
      { principal, secrets: rows, stillExposed: exposed.length },
    );
    return 0;
  },
});
