/**
 * The `keyshift` process on a pipe: stdout is asynchronous there, and a process that exits right
 * after a large write loses what is still queued. `keyshift apply --json` of 10,000 secrets writes
 * ~1.5 MB; the fleet bench's parse of it failed at 146 KB. Every byte must reach the reader.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "keyshift-cli-pipe-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/keyshift.mjs", ...args], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout }));
  });
}

describe("keyshift on a pipe", () => {
  it("a --json answer of over a megabyte arrives whole (offline: misuse replay with 6,000 findings)", async () => {
    // Withdrawals by trading keys: one critical finding per key and hour, from the first hour.
    const lines: string[] = [];
    for (let k = 0; k < 250; k++)
      for (let h = 0; h < 24; h++) {
        const t = new Date(Date.UTC(2030, 0, 1, h, 10)).toISOString();
        lines.push(
          JSON.stringify({
            t,
            source: "exchange",
            account: `acct-${k}`,
            secretId: `keyshift/exchange/pipe-${k}/trading`,
            keyId: `key-${k}`,
            endpointClass: "withdrawal",
            count: 1,
          }),
        );
      }
    const file = join(dir, "traffic.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);

    const { stdout } = await run(["misuse", "replay", file, "--json"]);

    expect(stdout.length).toBeGreaterThan(1_000_000);
    const last = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as { findings: unknown[] };
    expect(last.findings).toHaveLength(6000);
  }, 120_000);
});
