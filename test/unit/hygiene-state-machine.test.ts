import { readFileSync } from "node:fs";
import aslValidator from "asl-validator";
import { StateMachine } from "aws-local-stepfunctions";
import { describe, expect, it, vi } from "vitest";
import { resolveDefinition } from "../../harness/local/definition";
import { type HygieneCarry, hygieneAudit } from "../../src/core/hygiene/audit";
import { addConsumer, makeDeps, seedSecret } from "./fakes";

const raw = JSON.parse(readFileSync("statemachines/hygiene.asl.json", "utf8"));
const { definition, taskFunctions } = resolveDefinition(
  raw,
  (id) => `arn:aws:lambda:us-east-1:000000000000:function:keyshift-local-${id}`,
);

describe("statemachines/hygiene.asl.json", () => {
  it("is valid ASL and invokes the hygiene audit Lambda", () => {
    const verdict = aslValidator(definition, { checkArn: true, checkPaths: true });
    expect(verdict.errorsText("\n")).toBe("");
    expect(verdict.isValid).toBe(true);
    expect(taskFunctions).toEqual({ AuditSlice: "HygieneAuditLambdaFunction" });
  });

  it("runs the audit in slices until done, each continuing from the last one's cursor, and alerts once", async () => {
    const deps = makeDeps();
    for (let i = 0; i < 7; i++) {
      const s = await seedSecret(deps, {
        secretId: `keyshift/exchange/a/k${i}`,
        account: `acct-${i}`,
        settings: { schedule: "rate(30 days)", scheduleEnabled: false },
      });
      await addConsumer(deps, s.secretId, "engine");
    }
    const cursors: Array<string | null> = [];
    // Each slice has time for 3 secrets, as a Lambda near its timeout would.
    const slice = async (event: unknown) => {
      const { cursor, carried } = event as { cursor: string | null; carried: HygieneCarry | null };
      cursors.push(cursor);
      let started = 0;
      const report = await hygieneAudit(
        {
          alert: true,
          concurrency: 2,
          outOfTime: () => ++started > 2,
          ...(cursor ? { after: cursor, ...(carried ? { carried } : {}) } : {}),
        },
        deps,
      );
      const { findings: _f, cursor: next, carried: carry, ...rest } = report;
      return { ...rest, done: next === undefined, cursor: next ?? null, carried: carry ?? null };
    };
    const machine = new StateMachine(definition as never, {
      validationOptions: { checkArn: true, checkPaths: true },
    });

    const output = (await machine.run(
      {},
      { overrides: { taskResourceLocalHandlers: { AuditSlice: slice as never } } },
    ).result) as { done: boolean; secrets: number };

    expect(cursors).toEqual([null, "keyshift/exchange/a/k2", "keyshift/exchange/a/k5"]);
    expect(output).toMatchObject({ done: true, secrets: 7 });
    expect(deps.alerts.sent).toHaveLength(1);
    expect(deps.alerts.sent[0]?.subject).toContain("over 7 secret(s)");
  });
});

describe("functions/hygiene-audit.ts: only the state machine's runs stop early", () => {
  const env = {
    AWS_REGION: "us-east-1",
    KEYSHIFT_TABLE_CONSUMERS: "consumers",
    KEYSHIFT_TABLE_ROTATIONS: "rotations",
    KEYSHIFT_TABLE_LEDGER: "ledger",
    KEYSHIFT_TABLE_AUDIT: "audit",
    KEYSHIFT_ALERT_TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:alerts",
    KEYSHIFT_ADMIN_SECRET_PREFIX: "keyshift/admin/",
    KEYSHIFT_REVOCATION_MAX_ATTEMPTS: "5",
    KEYSHIFT_REVOCATION_BASE_SECONDS: "60",
    KEYSHIFT_REVOCATION_CAP_SECONDS: "3600",
    KEYSHIFT_EXCHANGE_TIMEOUT_MS: "5000",
    // The schedule group it checks and what the schedules call: required at cold start.
    KEYSHIFT_SCHEDULE_GROUP: "keyshift-test-rotations",
    KEYSHIFT_STATE_MACHINE_ARN: "arn:aws:states:us-east-1:000000000000:stateMachine:keyshift-test-rotation",
    KEYSHIFT_SCHEDULER_ROLE_ARN: "arn:aws:iam::000000000000:role/keyshift-test-scheduler",
    KEYSHIFT_SCHEDULE_DLQ_ARN: "arn:aws:sqs:us-east-1:000000000000:keyshift-test-schedule-dlq",
  };
  const step = async () => {
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    return (await import("../../functions/hygiene-audit")).hygieneAuditStep;
  };
  const outOfTime = { getRemainingTimeInMillis: () => 1000 };

  it("refuses to start without the schedule group it checks", async () => {
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    vi.stubEnv("KEYSHIFT_SCHEDULE_GROUP", "");
    vi.resetModules();
    await expect(import("../../functions/hygiene-audit")).rejects.toThrow(/KEYSHIFT_SCHEDULE_GROUP/);
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it("a bare schedule's event audits the whole fleet whatever the time left; the state machine's stops early", async () => {
    const hygieneAuditStep = await step();
    const deps = makeDeps();
    for (let i = 0; i < 3; i++)
      await seedSecret(deps, { secretId: `keyshift/exchange/a/s${i}`, account: `acct-s${i}` });

    const scheduled = await hygieneAuditStep({ "detail-type": "Scheduled Event" }, deps as never, outOfTime);
    const inRuns = await hygieneAuditStep({ cursor: null, carried: null }, deps as never, outOfTime);

    expect(scheduled).toMatchObject({ done: true, cursor: null, secrets: 3 });
    // Out of time from the start, a run still audits one secret: continued runs always end.
    expect(inRuns).toMatchObject({ done: false, cursor: "keyshift/exchange/a/s0", secrets: 1 });
  });
});
