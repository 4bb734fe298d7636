/**
 * The enrollment rules are written once (src/core/enrollment/) and run by every command that reads
 * the enrollment file: `keyshift enroll` (one entry) and `keyshift apply` (all of them). Packaging
 * reads no enrollment file any more (test/deploy/schedules.test.ts). Here both commands run in-process
 * on the same files and must give the same verdict; and no code in infra/ may restate a rule.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { runKeyshift } from "../../src/cli/run";
import { CONSUMER_KEYS, ENTRY_KEYS } from "../../src/core/enrollment/fields";
import { ROOT } from "./packaged";

const SECRET = "keyshift/exchange/acme-main/trading";
const ENTRY = {
  secretId: SECRET,
  exchangeAccount: "acme-main",
  schedule: "rate(30 days)",
  minOverlapSeconds: 900,
  deadlineSeconds: 86_400,
  pollIntervalSeconds: 30,
  maxPollIntervalSeconds: 900,
  livenessMultiplier: 3,
  consumer: { cacheTtlSeconds: 300, heartbeatIntervalSeconds: 60, required: true },
};
const consumer = (cacheTtlSeconds: number) => ({ ...ENTRY.consumer, cacheTtlSeconds });

/** [name, config, the verdict both sides must give: "accepted" or a part of the problem]. */
const CASES: Array<[string, Record<string, unknown>, string]> = [
  ["a valid entry", { secrets: [ENTRY] }, "accepted"],
  [
    "an overlap shorter than the consumers' cache TTL",
    { secrets: [{ ...ENTRY, minOverlapSeconds: 400, consumer: consumer(600) }] },
    "field minOverlapSeconds: 400 does not cover the consumers' cache TTL (600s)",
  ],
  [
    "an overlap exactly the cache TTL",
    { secrets: [{ ...ENTRY, minOverlapSeconds: 600, consumer: consumer(600) }] },
    "accepted",
  ],
  [
    "a cache TTL from defaults longer than the entry's overlap",
    { defaults: { consumer: consumer(1200) }, secrets: [{ ...ENTRY, consumer: { required: false } }] },
    "does not cover the consumers' cache TTL (1200s)",
  ],
  [
    "an overlap shorter than the idle heartbeat interval",
    { secrets: [{ ...ENTRY, minOverlapSeconds: 600, idleHeartbeatSeconds: 900 }] },
    "set it to at least 900",
  ],
  [
    "a wait loop over the history budget",
    {
      secrets: [
        {
          ...ENTRY,
          pollIntervalSeconds: 1,
          maxPollIntervalSeconds: 1,
          schedule: "rate(90 days)",
          deadlineSeconds: 600_000,
        },
      ],
    },
    "history events",
  ],
  [
    "a schedule inside the lock lease",
    { secrets: [{ ...ENTRY, schedule: "rate(1 day)" }] },
    "must be longer than deadlineSeconds + 3600",
  ],
  [
    "a deadline past enroll's bound",
    { secrets: [{ ...ENTRY, deadlineSeconds: 1_300_000 }] },
    "must be at most 1123200",
  ],
];

const dir = mkdtempSync(join(tmpdir(), "keyshift-enrollment-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const files = CASES.map(([, config], i) => {
  const file = join(dir, `case-${i}.yml`);
  writeFileSync(file, stringify(config));
  return file;
});

/** `keyshift enroll` on the file, with no environment: the entry is read before any AWS call. */
async function cliVerdict(file: string): Promise<string> {
  let stdout = "";
  await runKeyshift(["enroll", SECRET, "--config", file, "--json"], {
    env: {},
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: () => true },
  });
  const { error } = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as {
    error?: { name: string; message: string };
  };
  // Past the enrollment file, enroll stops at the missing environment (ConfigError): accepted.
  return error?.name === "EnrollmentConfigError" ? error.message : "accepted";
}

/** `keyshift apply --dry-run` on the file, with no environment: the file is read before anything else. */
async function applyVerdict(file: string): Promise<string> {
  let stdout = "";
  await runKeyshift(["apply", "--config", file, "--dry-run", "--json"], {
    env: {},
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: () => true },
  });
  const { error } = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as {
    error?: { name: string; message: string };
  };
  return error?.name === "EnrollmentConfigError" ? error.message : "accepted";
}

describe("one set of enrollment rules for the CLI and packaging", () => {
  it("gives the same verdict in `keyshift enroll` and `keyshift apply` for the same entry", async () => {
    for (const [i, [name, , expected]] of CASES.entries()) {
      const cli = await cliVerdict(files[i] ?? "");
      expect(cli, name).toContain(expected);
      expect(await applyVerdict(files[i] ?? ""), name).toBe(cli);
    }
  });

  it("infra/ restates no rule: its code names no rule field and parses no schedule expression", () => {
    // infra/ compiles nothing from an entry any more; `secretId`, `schedule`, `enabled`, `consumer`
    // and `required` are words of other things too, so only the other fields are looked for.
    const ruleFields = [...ENTRY_KEYS, ...CONSUMER_KEYS].filter(
      (k) => !["secretId", "schedule", "enabled", "consumer", "required"].includes(k),
    );
    const code = readdirSync(join(ROOT, "infra")).filter((f) => /\.(c|m)?js$/.test(f));
    expect(code).toContain("enrollment.cjs");
    for (const file of code) {
      const text = readFileSync(join(ROOT, "infra", file), "utf8");
      for (const field of ruleFields) expect(text, `${file} names ${field}`).not.toContain(field);
      expect(text, `${file} parses schedule expressions`).not.toMatch(/rate\\\(|cron\\\(/);
    }
  });
});
