import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { InvalidInputError } from "../../core/errors";
import { assembleEvidence } from "../../core/evidence/assemble";
import type { EvidenceDocument, EvidencePeriod } from "../../core/evidence/model";
import { renderEvidencePage } from "../../core/evidence/page";
import { evidencePeriod } from "../../core/evidence/period";
import { hygieneAudit } from "../../core/hygiene/audit";
import { readPolicyDrift } from "../../core/read-policy/sync";
import { secretIdArg, shown, stringOption, UsageError } from "../args";
import { command } from "../command";
import { EXIT } from "../output";

interface EvidenceArgs {
  period: EvidencePeriod;
  dir: string;
  secretId: string | undefined;
}

const SHAPE = "keyshift evidence --from YYYY-MM-DD --to YYYY-MM-DD --out DIR [--secret ID]";

/** Everything is checked before anything is read or written: a wrong day costs a re-run, nothing else. */
function parseEvidence(values: Parameters<typeof stringOption>[0]): EvidenceArgs {
  const from = stringOption(values, "from");
  const to = stringOption(values, "to");
  const dir = stringOption(values, "out");
  const missing = [!from && "--from", !to && "--to", !dir && "--out"].filter(Boolean);
  if (!from || !to || !dir) throw new UsageError(`evidence needs ${missing.join(" ")}: ${SHAPE}`);
  const secret = stringOption(values, "secret");
  try {
    return { period: evidencePeriod(from, to), dir, secretId: secret && secretIdArg(secret) };
  } catch (err) {
    if (err instanceof InvalidInputError) throw new UsageError(`${err.message}; nothing was read or written`);
    throw err;
  }
}

/**
 * An earlier evidence set in DIR is replaced only by the same evidence made again (same period, same
 * secrets): another period's set is an auditor's record, never overwritten by a slip of `--out`.
 */
async function refuseOtherEvidence(dir: string, args: EvidenceArgs): Promise<void> {
  const text = await readFile(join(dir, "evidence.json"), "utf8").catch(() => undefined);
  if (text === undefined) return;
  let earlier: Partial<EvidenceDocument> = {};
  try {
    earlier = JSON.parse(text);
  } catch {
    // Not ours to judge: refused below like any other evidence.
  }
  const same =
    earlier.period?.from === args.period.from &&
    earlier.period?.to === args.period.to &&
    (earlier.selection ?? null) === (args.secretId ?? null);
  if (!same) {
    throw new InvalidInputError(
      `${shown(dir)} already holds evidence of another period or selection (${earlier.period?.from ?? "?"}..${earlier.period?.to ?? "?"}): ` +
        "choose another --out, or move that one away first; nothing was written",
    );
  }
}

/** Each file is written beside its final name and renamed over it: a failure leaves the earlier file whole. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o644 });
  await rename(temporary, path);
}

/**
 * `evidence --from D --to D --out DIR [--secret ID]`: the evidence of a period for an auditor —
 * `DIR/evidence.json` and a self-contained `DIR/index.html` (per secret its rotations as timelines,
 * who read it, approvals, hygiene findings and their resolution, the audit verification). Reads
 * only. Exit 3 when an audit trail does not verify (the files are written and say which).
 */
export const evidence = command({
  words: ["evidence"],
  args: [],
  options: ["from", "to", "out", "secret"],
  parse: (_args, values) => parseEvidence(values),
  async run({ deps, out, actor }, args) {
    const dir = resolve(args.dir);
    await refuseOtherEvidence(dir, args);
    const doc = await assembleEvidence(
      {
        period: args.period,
        ...(args.secretId ? { secretId: args.secretId } : {}),
        generatedBy: actor,
        progress: (line) => out.progress(`evidence: ${line}\n`),
      },
      {
        ...deps,
        hygiene: () =>
          hygieneAudit({}, { ...deps, policyDrift: (secretId) => readPolicyDrift(deps, secretId) }),
      },
    );
    await mkdir(dir, { recursive: true });
    const files = { json: join(dir, "evidence.json"), html: join(dir, "index.html") };
    await writeAtomically(files.json, `${JSON.stringify(doc, null, 2)}\n`);
    await writeAtomically(files.html, renderEvidencePage(doc));
    const s = doc.summary;
    const statuses = Object.entries(s.byStatus)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`)
      .join(", ");
    const audit = s.auditBroken.length
      ? `audit BROKEN for ${s.auditBroken.join(", ")}`
      : "every audit trail verifies";
    const line =
      `evidence ${args.period.from}..${args.period.to}: ${s.secrets} secret(s), ${s.rotations} rotation(s)` +
      `${statuses ? ` (${statuses})` : ""}, ${s.reads} read(s), ${s.approvals} approval(s), ` +
      `${s.findings.high} high finding(s); ${audit} -> ${files.html}`;
    return out.outcome(
      line,
      { period: doc.period, files, summary: s },
      s.auditBroken.length ? EXIT.auditBroken : EXIT.ok,
    );
  },
});
