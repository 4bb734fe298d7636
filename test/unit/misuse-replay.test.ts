/**
 * `keyshift misuse replay FILE` end to end, in process and with NO environment (issue 20,
 * deliverable 5): the corpus's JSON lines in, the findings as the last stdout line out; a bad line
 * named by number and field with every other line still judged; and no finding, error or table
 * ever carries a value it was fed.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { misuseCorpus, toJsonLines } from "../../harness/bench/misuse-corpus";
import { runKeyshift } from "../../src/cli/run";

const dir = mkdtempSync(join(tmpdir(), "keyshift-misuse-"));
const file = (name: string, lines: string[]) => {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
};

async function keyshift(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runKeyshift(argv, {
    env: {},
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  const lastLine = stdout.trim().split("\n").at(-1) ?? "";
  return { code, stdout, stderr, last: argv.includes("--json") ? JSON.parse(lastLine) : undefined };
}

const corpus = [...misuseCorpus({ seed: 7, secrets: 8, weeks: 5, attacks: true })];
const SECRET_VALUE = "sk_live_Zx9Qv3Lr8Tn2Wm5Yb7Kc4Hd6Jf1Gp0Sa";

describe("keyshift misuse replay FILE --json", () => {
  it("runs offline and names every injected attack in the last stdout line", async () => {
    const path = file(
      "corpus.jsonl",
      corpus.flatMap((c) => toJsonLines(c.slice)),
    );

    const run = await keyshift("misuse", "replay", path, "--json");

    expect(run.code, run.stderr).toBe(0);
    const found = run.last.findings as Array<Record<string, string>>;
    for (const f of found)
      expect(Object.keys(f).slice(0, 5)).toEqual(["kind", "secretId", "keyId", "hour", "severity"]);
    for (const label of corpus.flatMap((c) => c.labels)) {
      const hour = new Date(label.hour * 3_600_000).toISOString();
      expect(found, `${label.kind} ${label.secretId} ${hour}`).toContainEqual(
        expect.objectContaining({ kind: label.kind, secretId: label.secretId, keyId: label.keyId, hour }),
      );
    }
  });

  it("without --json prints a table, each finding with its evidence and command", async () => {
    const path = file("one.jsonl", toJsonLines(corpus[5]?.slice ?? ({ exchange: [] } as never)));

    const run = await keyshift("misuse", "replay", path);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/critical withdrawal .*\n {4}requests=\d+\n {4}-> keyshift rotate /);
  });

  it("a bad line is named by number and field; every other line is still judged", async () => {
    const good = toJsonLines(corpus[5]?.slice ?? ({} as never));
    const bad = JSON.stringify({
      t: "2027-03-01T14:00:00Z",
      source: "exchange",
      account: "a",
      secretId: "s",
      keyId: "k",
      endpointClass: "spot",
      count: -1,
    });
    const path = file("bad.jsonl", [good[0] ?? "", bad, "{not json", ...good.slice(1)]);

    const run = await keyshift("misuse", "replay", path, "--json");

    expect(run.code).toBe(1);
    expect(run.stderr).toContain("line 2: field count must be a whole number");
    expect(run.stderr).toContain("line 3: field (line) is not JSON");
    expect(run.last.rejected.map((r: { line: number }) => r.line)).toEqual([2, 3]);
    expect(run.last.findings).toContainEqual(expect.objectContaining({ kind: "withdrawal" }));
  });

  it("a missing file fails with its name, not a stack", async () => {
    const run = await keyshift("misuse", "replay", join(dir, "absent.jsonl"), "--json");

    expect(run.code).toBe(1);
    expect(run.last.error.message).toContain("ENOENT");
  });

  it("no output carries a value it was fed, accepted or rejected", async () => {
    const slice = corpus[5]?.slice ?? ({} as never);
    const lines = toJsonLines(slice).map((l, i) => {
      const row = JSON.parse(l);
      if (i === 0) return JSON.stringify({ ...row, apiSecret: SECRET_VALUE });
      if (i === 1) return JSON.stringify({ ...row, ip: SECRET_VALUE });
      if (i === 2) return JSON.stringify({ ...row, country: SECRET_VALUE });
      if (i === 3) return JSON.stringify({ ...row, endpointClass: SECRET_VALUE });
      if (i === 4) return JSON.stringify({ ...row, account: SECRET_VALUE.replace(/_/g, "-") });
      return l;
    });
    const path = file("secret.jsonl", lines);

    for (const json of [["--json"], []]) {
      const run = await keyshift("misuse", "replay", path, ...json);
      const all = run.stdout + run.stderr;

      expect(run.code).toBe(1);
      expect(all).not.toContain(SECRET_VALUE);
      expect(all).not.toContain(SECRET_VALUE.slice(8, 24));
      expect(all).toContain("withdrawal");
    }
  });
});
