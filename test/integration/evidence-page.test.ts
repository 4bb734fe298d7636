/**
 * `keyshift evidence` on the local stack, from real rotations (the real ASL and handlers, consumers
 * heartbeating through the real API and reading through the Secrets Manager emulator, whose reads
 * reach the read audit), and its page opened in a real headless browser: Debian's Chromium.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedFleet } from "../../harness/local/consumers";
import {
  defaultConsumers,
  type Enrolled,
  enrollLocalSecret,
  registerConsumers,
} from "../../harness/local/scenario";
import { allSecretValues, captureLambdaLogs, scanForSecrets } from "../../harness/local/secret-scan";
import { type LocalStack, startLocalStack } from "../../harness/local/stack";
import { runRotation } from "../../harness/local/workflow-runner";
import type { EvidenceDocument } from "../../src/core/evidence/model";
import { keyshiftProcess } from "./support/keyshift-process";

/** Debian's Chromium (CI installs it: .ci/run), or the one KEYSHIFT_CHROMIUM names. */
function findChromium(): string | undefined {
  const candidates = [
    process.env.KEYSHIFT_CHROMIUM,
    "/usr/bin/chromium",
    ...(process.env.PATH ?? "")
      .split(delimiter)
      .flatMap((dir) => [join(dir, "chromium"), join(dir, "chromium-browser")]),
  ];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

const CHROMIUM = findChromium();
if (!CHROMIUM) {
  process.stderr.write(
    "\n*** evidence-page.test.ts: Chromium NOT FOUND (/usr/bin/chromium, PATH, KEYSHIFT_CHROMIUM): the browser test is SKIPPED. Install it: apt-get install chromium ***\n\n",
  );
}

/** The page as the browser has it once loaded and its script has run (`--dump-dom`). */
function dumpDom(chromium: string, file: string, profile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(chromium, [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-extensions",
      "--disable-background-networking",
      `--user-data-dir=${profile}`,
      "--dump-dom",
      pathToFileURL(file).href,
    ]);
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0 && out.includes("</html>")) resolve(out);
      else reject(new Error(`chromium exited ${code}: ${err.slice(-2000)}`));
    });
  });
}

const HOSTILE = 'arn:aws:sts::000000000000:assumed-role/approver/<script>document.title="pwned"</script>';
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
const ROTATIONS = ["evidence-rot-1", "evidence-rot-2"];

let stack: LocalStack;
let logs: ReturnType<typeof captureLambdaLogs>;
let enrolled: Enrolled;
let dir: string;
const keyshift = (...args: string[]) => keyshiftProcess(stack, args);

beforeAll(async () => {
  logs = captureLambdaLogs();
  stack = await startLocalStack({ seed: 11 });
  dir = await mkdtemp(join(tmpdir(), "keyshift-evidence-"));
  enrolled = await enrollLocalSecret(stack, { account: "evidence-acct" });
  const specs = defaultConsumers(enrolled.secretId, 2);
  await registerConsumers(enrolled, specs);
  const fleet = new SimulatedFleet(stack, specs);
  await fleet.start();
  try {
    for (const executionName of ROTATIONS) {
      const run = await runRotation(
        { secretId: enrolled.secretId, trigger: "manual" },
        { waitMs: 150, retryMs: 20, executionName },
      );
      if (run.status !== "SUCCEEDED") throw new Error(`rotation ${executionName} ended ${run.status}`);
    }
  } finally {
    await fleet.stop();
  }
  await stack.secretReads();
  // What the approvals (another part of issue 18) will write: an entry of kind approval in the
  // secret's chain, here with an actor that holds markup.
  await enrolled.deps.audit.append({
    secretId: enrolled.secretId,
    actor: HOSTILE,
    action: "approval-granted",
    details: {
      approvalId: "ap-1",
      command: "rollback",
      requestedBy: "operator:alice",
      rotationId: "evidence-rot-2",
    },
  });
}, 240_000);
afterAll(async () => {
  logs.restore();
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("keyshift evidence on the local stack", () => {
  let doc: EvidenceDocument;

  it("writes evidence.json and index.html for the period, with progress on stderr and one summary", async () => {
    const run = await keyshift("evidence", "--from", day(-1), "--to", day(1), "--out", dir, "--json");

    expect(run.stderr).toContain(`evidence: 1/1 ${enrolled.secretId}`);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      summary: { secrets: 1, rotations: 2, byStatus: { completed: 2 }, approvals: 1, auditBroken: [] },
      files: { json: join(dir, "evidence.json"), html: join(dir, "index.html") },
    });
    doc = JSON.parse(await readFile(join(dir, "evidence.json"), "utf8"));
    const [secret] = doc.secrets;
    expect(secret?.rotations.map((r) => [r.rotationId, r.status, r.outcome])).toEqual([
      ["evidence-rot-1", "completed", "revoked"],
      ["evidence-rot-2", "completed", "revoked"],
    ]);
    for (const r of secret?.rotations ?? []) {
      expect(r.events.map((e) => e.kind)).toEqual(
        expect.arrayContaining(["begun", "created", "promoted", "revoked", "completed"]),
      );
      expect(r.consumers.map((c) => [c.consumerId, c.confirmedAt !== null])).toEqual([
        ["market-data-gateway", true],
        ["trading-engine", true],
      ]);
    }
    expect(secret?.rotations[1]?.previousKeyId).toBe(secret?.rotations[0]?.newKeyId);
    expect(secret?.readers.map((r) => r.reader)).toEqual(expect.arrayContaining(["consumer", "keyshift"]));
    expect(secret?.audit.ok).toBe(true);
  }, 120_000);

  it.skipIf(!CHROMIUM)(
    `renders in headless Chromium: the script ran, the timeline shows exactly the two rotations in order, no key value (${CHROMIUM ?? "SKIPPED: Chromium not installed"})`,
    async () => {
      const profile = await mkdtemp(join(tmpdir(), "keyshift-chromium-"));
      try {
        const dom = await dumpDom(CHROMIUM ?? "", join(dir, "index.html"), profile);

        expect(dom).toContain('<body data-script="ran">');
        expect(dom).toMatch(/<strong id="rotation-count">2<\/strong>/);
        expect(dom).toMatch(
          /2 rotation\(s\) on 1 secret\(s\), \d+ timeline event\(s\); checked against the embedded data\./,
        );
        expect(
          [...dom.matchAll(/<li class="rotation" data-rotation-id="([^"]*)"/g)].map((m) => m[1]),
        ).toEqual(ROTATIONS);
        // Worked out by the script only: the JSON holds the times, not the durations.
        expect(dom.match(/<span class="duration muted">took \d+ (s|min)<\/span>/g)).toHaveLength(2);
        // The hostile actor is text in the DOM, not an element: the title is the page's own.
        expect(dom).toContain('approver/&lt;script&gt;document.title="pwned"&lt;/script&gt;');
        expect(dom).not.toContain("pwned</title>");
        const values = await allSecretValues(stack.endpoints.secretsManager, stack.region);
        expect(values.length).toBeGreaterThanOrEqual(3);
        expect(
          scanForSecrets(
            [
              { where: "dom", text: dom },
              { where: "index.html", text: await readFile(join(dir, "index.html"), "utf8") },
              { where: "evidence.json", text: await readFile(join(dir, "evidence.json"), "utf8") },
            ],
            values,
          ),
        ).toEqual([]);
      } finally {
        await rm(profile, { recursive: true, force: true });
      }
    },
    120_000,
  );

  it("made again into the same DIR for the same period, it replaces it and says so in one line", async () => {
    const run = await keyshift("evidence", "--from", day(-1), "--to", day(1), "--out", dir);

    expect(run.code).toBe(0);
    expect(run.stdout.trim().split("\n")).toEqual([
      expect.stringMatching(
        new RegExp(
          `^evidence ${day(-1)}\\.\\.${day(1)}: 1 secret\\(s\\), 2 rotation\\(s\\) \\(2 completed\\), \\d+ read\\(s\\), 1 approval\\(s\\), \\d+ high finding\\(s\\); every audit trail verifies -> .*index\\.html$`,
        ),
      ),
    ]);
    expect(run.stderr).toContain("evidence: hygiene audit");
  }, 120_000);

  it("refuses bad days (64) and another period over this one (1), before anything is written", async () => {
    const file = join(dir, "evidence.json");
    const before = { text: await readFile(file, "utf8"), mtime: (await stat(file)).mtimeMs };

    const notADay = await keyshift("evidence", "--from", "2026-02-30", "--to", day(0), "--out", dir);
    const backwards = await keyshift("evidence", "--from", day(1), "--to", day(-1), "--out", dir);
    const other = await keyshift("evidence", "--from", "2020-01-01", "--to", "2020-01-31", "--out", dir);

    expect(notADay.code).toBe(64);
    expect(notADay.stderr).toContain('--from "2026-02-30": a period is given as calendar days YYYY-MM-DD');
    expect(backwards.code).toBe(64);
    expect(backwards.stderr).toContain(`--from ${day(1)} is after --to ${day(-1)}`);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("already holds evidence of another period");
    expect({ text: await readFile(file, "utf8"), mtime: (await stat(file)).mtimeMs }).toEqual(before);
  }, 120_000);
});
