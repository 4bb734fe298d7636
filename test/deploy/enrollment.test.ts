import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CONSUMER_BOUNDS,
  deadlineBound,
  EnrollmentConfigError,
  LEASE_MARGIN_SECONDS,
  loadEnrollment,
  validateEnrollment as validateWith,
  workflowLimits,
} from "../../src/cli/enrollment-file";
import { runKeyshift } from "../../src/cli/run";
import { REGISTRATION_BOUNDS } from "../../src/core/consumers/registry-rules";
import { MAX_DEADLINE_SECONDS } from "../../src/core/revocation/readiness";

const FIXTURES = "test/fixtures/enrollment";
/** The rules with this checkout's workflow limits (the rotation ASL's TimeoutSeconds), as loadEnrollment runs them. */
const validateEnrollment = (raw: unknown) => validateWith(raw, workflowLimits());

/** A valid entry; tests spread it and break one field. */
const ENTRY = {
  secretId: "keyshift/exchange/acme-main/trading",
  exchangeAccount: "acme-main",
  schedule: "rate(30 days)",
  minOverlapSeconds: 900,
  deadlineSeconds: 86_400,
  pollIntervalSeconds: 30,
  maxPollIntervalSeconds: 900,
  livenessMultiplier: 3,
  consumer: { cacheTtlSeconds: 300, heartbeatIntervalSeconds: 60, required: true },
};

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(EnrollmentConfigError);
    return (err as EnrollmentConfigError).problems;
  }
  throw new Error("expected the config to be rejected");
}

const problemsFor = (entry: Record<string, unknown>) =>
  problemsOf(() => validateEnrollment({ secrets: [entry] }));

describe("enrollment config (rotation.config.yml)", () => {
  it("accepts the checked-in config, every entry enabled unless it says otherwise", () => {
    const config = loadEnrollment();
    expect(config.secrets.map((s) => [s.secretId, s.enabled])).toEqual([
      ["keyshift/exchange/acme-main/trading", true],
      ["keyshift/exchange/acme-hedge/market-data", true],
    ]);
  });

  it("applies defaults, lets an entry override them, and accepts cron and disabled entries", () => {
    const { secrets } = loadEnrollment(`${FIXTURES}/valid-minimal.yml`);
    expect(secrets).toEqual([
      expect.objectContaining({ schedule: "cron(30 2 1 * ? *)", enabled: false, minOverlapSeconds: 1 }),
    ]);
    const { secretId: _, exchangeAccount: __, ...defaults } = ENTRY;
    const merged = validateEnrollment({
      defaults,
      secrets: [{ secretId: ENTRY.secretId, exchangeAccount: "a", consumer: { required: false } }],
    });
    expect(merged.secrets[0]).toMatchObject({
      enabled: true,
      deadlineSeconds: 86_400,
      consumer: { ...ENTRY.consumer, required: false },
    });
  });

  it("names the entry and the field of every problem in a bad file", () => {
    expect(problemsOf(() => loadEnrollment(`${FIXTURES}/bad-entries.yml`))).toEqual([
      expect.stringMatching(
        /^entry secrets\[0\] \(prod\/binance\/trading\), field secretId: must start with "keyshift\/exchange\/"/,
      ),
      expect.stringMatching(
        /^entry secrets\[1\] \(keyshift\/exchange\/kraken\/trading\), field exchangeAccount: required/,
      ),
      expect.stringMatching(
        /^entry secrets\[2\] \(keyshift\/exchange\/okx\/trading\), field deadlineSeconds: must be greater than minOverlapSeconds/,
      ),
      expect.stringMatching(
        /^entry secrets\[3\] \(keyshift\/exchange\/bybit\/trading\), field deadline: unknown field/,
      ),
      expect.stringMatching(
        /^entry secrets\[4\] \(keyshift\/exchange\/okx\/trading\), field secretId: duplicate of secrets\[2\]/,
      ),
    ]);
    expect(problemsOf(() => loadEnrollment(`${FIXTURES}/bad-schedule.yml`))).toEqual([
      "entry secrets[1] (keyshift/exchange/acme-hedge/market-data), field schedule: rate(1 days): use the singular unit for 1, e.g. rate(1 day)",
    ]);
  });

  it.each([
    [{ schedule: "every 30 days" }, 'field schedule: "every 30 days" must be rate('],
    [{ schedule: "rate(2 day)" }, "field schedule: rate(2 day): use the plural unit"],
    [{ schedule: "cron(0 6 * * MON *)" }, 'exactly one of day-of-month and day-of-week must be "?"'],
    [{ schedule: "cron(0 6 ? *)" }, "cron needs 6 fields"],
    [{ schedule: "rate(1 day)" }, "must be longer than deadlineSeconds + 3600"],
    [{ exchangeAccount: "acme main" }, "field exchangeAccount: must be 1-64 characters"],
    [{ secretId: "keyshift/exchange/" }, "field secretId: must start with"],
    [{ secretId: "keyshift/exchange/a b" }, "field secretId: must be 1-512 characters"],
    [{ minOverlapSeconds: -1 }, "field minOverlapSeconds: must be an integer from 0 to 1123200"],
    // Integers to JavaScript, refused by DynamoDB at enroll ("Number 1e+200 is greater than MAX_SAFE_INTEGER").
    [
      { pollIntervalSeconds: 1e200, maxPollIntervalSeconds: 1e200 },
      "field pollIntervalSeconds: must be an integer from 1 to 1123200",
    ],
    [{ minOverlapSeconds: 1e200 }, "field minOverlapSeconds: must be an integer from 0 to 1123200"],
    // A number >= 1, refused by DynamoDB at enroll ("Special numeric value Infinity is not allowed").
    [
      { livenessMultiplier: Number.POSITIVE_INFINITY },
      "field livenessMultiplier: must be a number from 1 to 100",
    ],
    [
      { consumer: { cacheTtlSeconds: 1e200, heartbeatIntervalSeconds: 60, required: true } },
      "field consumer.cacheTtlSeconds: must be an integer from 0 to 604800",
    ],
    [{ deadlineSeconds: 1_300_000 }, "field deadlineSeconds: must be at most 1123200"],
    [{ maxPollIntervalSeconds: 10 }, "field maxPollIntervalSeconds: must be >= pollIntervalSeconds"],
    [
      {
        pollIntervalSeconds: 1,
        maxPollIntervalSeconds: 1,
        schedule: "rate(90 days)",
        deadlineSeconds: 600_000,
      },
      "history events",
    ],
    [{ livenessMultiplier: 0.5 }, "field livenessMultiplier: must be a number from 1 to 100"],
    [{ idleHeartbeatSeconds: 0 }, "field idleHeartbeatSeconds: must be an integer >= 1"],
    [
      { activeHeartbeatSeconds: 600 },
      "field activeHeartbeatSeconds: 600 must be <= idleHeartbeatSeconds (300)",
    ],
    [{ livenessGraceSeconds: -1 }, "field livenessGraceSeconds: must be an integer >= 0"],
    [
      { minOverlapSeconds: 120 },
      "field minOverlapSeconds: 120 does not cover the consumers' cache TTL (300s) and the idle heartbeat interval (idleHeartbeatSeconds 300s): set it to at least 300",
    ],
    [
      { minOverlapSeconds: 600, idleHeartbeatSeconds: 900, deadlineSeconds: 86_400 },
      "set it to at least 900",
    ],
    [{ enabled: "yes" }, "field enabled: must be true or false"],
    [
      { consumer: { cacheTtlSeconds: 300, heartbeatIntervalSeconds: 0, required: true } },
      "field consumer.heartbeatIntervalSeconds",
    ],
    [
      { consumer: { cacheTtlSeconds: 300, heartbeatIntervalSeconds: 60, required: true, ttl: 1 } },
      "field consumer.ttl: unknown field",
    ],
  ])("rejects %j", (change, expected) => {
    const problems = problemsFor({ ...ENTRY, ...change });
    expect(problems.join("\n")).toContain(expected);
    expect(problems[0]).toMatch(/^entry secrets\[0\] \(/);
  });

  it("bounds the consumer defaults with register-consumer's own bounds (src/core/consumers/registry-rules.ts)", () => {
    expect(CONSUMER_BOUNDS).toBe(REGISTRATION_BOUNDS);
  });

  it("rejects a file without a secrets list, or with unknown top-level keys", () => {
    expect(problemsOf(() => validateEnrollment({ secret: [] }))).toEqual([
      expect.stringContaining('unknown key "secret"'),
      expect.stringContaining("secrets: must be a list"),
    ]);
    expect(problemsOf(() => validateEnrollment("secrets: []"))).toEqual([
      expect.stringContaining("must be a mapping"),
    ]);
  });

  it("break 15: rejects a deadline of 1e11 s or more at once, naming the bound, without counting the checks", () => {
    // Its own process: the old validator counted one check per wait and never came back.
    const entries = [1e11, 1e18, Number.MAX_SAFE_INTEGER].map((deadlineSeconds) => ({
      ...ENTRY,
      schedule: "rate(3650 days)",
      pollIntervalSeconds: 1,
      maxPollIntervalSeconds: 1,
      deadlineSeconds,
    }));
    const code = `
      const { validateEnrollment, workflowLimits } = require("./infra/enrollment.cjs");
      const entries = ${JSON.stringify(entries)};
      const problems = entries.map((entry) => {
        try { validateEnrollment({ secrets: [entry] }, workflowLimits()); return []; } catch (err) { return err.problems; }
      });
      process.stdout.write(JSON.stringify(problems));`;
    const started = Date.now();
    const run = spawnSync(process.execPath, ["-e", code], { encoding: "utf8", timeout: 15_000 });

    expect(run.signal).toBeNull();
    expect(run.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const problems of JSON.parse(run.stdout) as string[][]) {
      expect(problems.join("\n")).toContain("field deadlineSeconds: must be at most 1123200");
    }
  });

  it("break 15: the config check and enroll agree on the deadline bound (MAX_DEADLINE_SECONDS)", () => {
    const at = { ...ENTRY, schedule: "rate(30 days)", deadlineSeconds: MAX_DEADLINE_SECONDS };

    const asl = JSON.parse(readFileSync("statemachines/rotation.asl.json", "utf8")) as {
      TimeoutSeconds: number;
    };

    expect(MAX_DEADLINE_SECONDS).toBe(13 * 24 * 3600);
    expect(deadlineBound(asl.TimeoutSeconds)).toBe(MAX_DEADLINE_SECONDS);
    expect(MAX_DEADLINE_SECONDS + LEASE_MARGIN_SECONDS).toBeLessThan(asl.TimeoutSeconds);
    expect(validateEnrollment({ secrets: [at] }).secrets[0]?.deadlineSeconds).toBe(MAX_DEADLINE_SECONDS);
    expect(problemsFor({ ...at, deadlineSeconds: MAX_DEADLINE_SECONDS + 1 })).toEqual([
      expect.stringContaining(`field deadlineSeconds: must be at most ${MAX_DEADLINE_SECONDS}`),
    ]);
  });

  it("fails `keyshift apply` with the entry and field when the config is invalid, before any call", async () => {
    let stdout = "";
    const code = await runKeyshift(["apply", "--config", `${FIXTURES}/bad-schedule.yml`, "--json"], {
      env: {},
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: () => true },
    });
    expect(code).toBe(78);
    expect(JSON.parse(stdout).error.message).toContain(
      "entry secrets[1] (keyshift/exchange/acme-hedge/market-data), field schedule: rate(1 days): use the singular unit",
    );
  });
});
