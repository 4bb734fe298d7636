import type { AppDeps } from "../../commons/deps";
import { sanitizeErrorMessage } from "../../core/errors";
import { principalArg, reasonOption, stringOption } from "../args";
import { command } from "../command";
import { stateMachineArnOf } from "./rotate";

interface Exposure {
  secretId: string;
  lastReadAt: string;
  /** When the secret's current key became current (none: never rotated by keyshift). */
  promotedAt: string | null;
  /** The key the principal last read has been replaced since: the exposure is over once it is revoked. */
  rotatedSince: boolean;
  next: string | null;
}

/** Every secret `principal` read, and whether its key was rotated since the last read. */
async function exposuresOf(
  deps: Pick<AppDeps, "readHistory" | "store">,
  principal: string,
): Promise<Exposure[]> {
  const rows: Exposure[] = [];
  for (const read of await deps.readHistory.readsBy(principal)) {
    const promotedAt = (await deps.store.getVersions(read.secretId))?.promotedAt ?? null;
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
  return rows;
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
    const rows = await exposuresOf(deps, principal);
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

/** Emergency rotations started at once: bounded, so a large exposure does not flood the exchange. */
const CONCURRENCY = 4;

/**
 * `exposure rotate <principal> --reason "..."`: an emergency rotation (`rotate --compromised`) of
 * every secret `exposure` shows as still exposed to the principal, a few at a time, with progress on
 * stderr and a summary of what was started and what could not be; each execution is then followed
 * with `keyshift status` (an emergency breaks the gate at its short deadline: docs/deploy.md).
 */
export const exposureRotate = command({
  words: ["exposure", "rotate"],
  args: ["<principal>"],
  options: ["reason"],
  parse: ([principal = ""], values) => ({
    principal: principalArg(principal),
    reason: reasonOption(stringOption(values, "reason"), "exposure rotate"),
  }),
  async run({ deps, out, env }, { principal, reason }) {
    const stateMachineArn = stateMachineArnOf(env, "exposure rotate");
    const exposed = (await exposuresOf(deps, principal))
      .filter((r) => !r.rotatedSince)
      .map((r) => r.secretId);
    const { SFNClient, StartExecutionCommand } = await import("@aws-sdk/client-sfn");
    const sfn = new SFNClient({ region: env.AWS_REGION, endpoint: env.KEYSHIFT_ENDPOINT_STEPFUNCTIONS });
    const started: Array<{ secretId: string; executionArn: string }> = [];
    const failed: Array<{ secretId: string; error: string }> = [];
    try {
      for (let i = 0; i < exposed.length; i += CONCURRENCY) {
        await Promise.all(
          exposed.slice(i, i + CONCURRENCY).map(async (secretId) => {
            const input = { secretId, trigger: "manual", mode: "rotate", compromised: true, reason };
            try {
              const run = await sfn.send(
                new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
              );
              started.push({ secretId, executionArn: run.executionArn ?? "" });
              out.progress(`started emergency rotation of ${secretId}\n`);
            } catch (err) {
              failed.push({ secretId, error: sanitizeErrorMessage(err, 200) });
              out.progress(`could not start ${secretId}: ${sanitizeErrorMessage(err, 200)}\n`);
            }
          }),
        );
      }
    } finally {
      sfn.destroy();
    }
    const summary =
      `${principal}: ${exposed.length} secret(s) still exposed; ${started.length} emergency rotation(s) started` +
      (failed.length > 0
        ? `, ${failed.length} NOT started (${failed.map((f) => f.secretId).join(", ")})`
        : "") +
      "; follow each with `keyshift status <secretId>`";
    return out.outcome(summary, { principal, exposed, started, failed }, failed.length > 0 ? 1 : 0);
  },
});
