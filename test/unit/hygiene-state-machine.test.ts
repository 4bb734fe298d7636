import { readFileSync } from "node:fs";
import aslValidator from "asl-validator";
import { StateMachine } from "aws-local-stepfunctions";
import { describe, expect, it } from "vitest";
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
          outOfTime: () => ++started > 3,
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
