/**
 * The simulator's interpreter is a faithful model of `statemachines/rotation.asl.json` only if it
 * agrees with a real engine. Each case runs the same execution, with the same scripted stub tasks,
 * through aws-local-stepfunctions and through `runExecution`, and compares the states entered and
 * the final status, output, error and cause.
 */
import { readFileSync } from "node:fs";
import { ExecutionError, StateMachine } from "aws-local-stepfunctions";
import { describe, expect, it } from "vitest";
import { DEFINITION_PATH, loadLocalDefinition } from "../../harness/local/definition";
import { asLibraryReadsTimeouts } from "../../harness/local/workflow-runner";
import { type AslDefinition, runExecution } from "../../harness/sim/asl-interpreter";
import type { Json } from "../../harness/sim/jsonpath";

type Step = Json | { throw: string; message?: string };
type Script = Record<string, Step[]>;

class Scripted extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Per state, answers in order (the last one repeats); `{throw}` raises an error of that name. */
function stub(script: Script) {
  const calls: Record<string, number> = {};
  return (state: string, input: Json): Json => {
    const n = calls[state] ?? 0;
    calls[state] = n + 1;
    const steps: Step[] = script[state] ?? [{ echo: input }];
    const step = steps[Math.min(n, steps.length - 1)] ?? null;
    if (step !== null && typeof step === "object" && !Array.isArray(step) && typeof step.throw === "string") {
      throw new Scripted(
        step.throw,
        typeof step.message === "string" ? step.message : `scripted ${step.throw}`,
      );
    }
    return step as Json;
  };
}

const context = (name: string, input: Json) => ({
  Execution: {
    Id: `arn:aws:states:us-east-1:000000000000:execution:keyshift:${name}`,
    Name: name,
    StartTime: "2030-01-01T00:00:00.000Z",
    Input: input,
    RoleArn: "arn:aws:iam::000000000000:role/states",
  },
  StateMachine: { Id: "arn:aws:states:us-east-1:000000000000:stateMachine:keyshift", Name: "keyshift" },
});

interface Outcome {
  states: string[];
  status: string;
  output?: Json;
  error?: string;
  cause?: string;
}

async function viaLocalEngine(input: Json, script: Script): Promise<Outcome> {
  const { definition, taskFunctions } = loadLocalDefinition();
  const task = stub(script);
  const handlers: Record<string, (i: Json) => Promise<Json>> = {};
  const retry: Record<string, number> = {};
  const defined = (definition as { States: Record<string, { Resource?: unknown }> }).States;
  for (const state of Object.keys(taskFunctions)) {
    // A waiting state (the engine has no callback pattern): the function is invoked with the
    // Payload, then the scripted answer to its token (`<state>.answer`) is the state's result.
    handlers[state] =
      defined[state]?.Resource === WAIT_FOR_TASK_TOKEN_ARN
        ? async (i) => {
            task(state, (i as { Payload?: Json }).Payload ?? null);
            return task(`${state}.answer`, null);
          }
        : async (i) => task(state, i);
    retry[state] = 0;
  }
  const machine = new StateMachine(asLibraryReadsTimeouts(definition) as never, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      waitTimeOverrides: { WaitForConsumers: 0 },
      retryIntervalOverrides: retry,
    },
    context: { ...context("exec-1", input), Task: { Token: "token-1" } } as never,
  });
  const states: string[] = [];
  let failed: { Error?: string; Cause?: unknown } | undefined;
  const collecting = (async () => {
    for await (const raw of execution.eventLogs) {
      const e = raw as unknown as { type: string; state?: { name: string }; Error?: string; Cause?: unknown };
      if (e.type === "StateEntered" && e.state) states.push(e.state.name);
      if (e.type === "ExecutionFailed") failed = e;
    }
  })();
  try {
    const output = (await execution.result) as Json;
    await collecting;
    return { states, status: "SUCCEEDED", output };
  } catch (err) {
    await collecting.catch(() => undefined);
    if (!(err instanceof ExecutionError) && !failed) throw err;
    return {
      states,
      status: "FAILED",
      error: failed?.Error ?? (err as Error).name,
      cause: String(failed?.Cause ?? ""),
    };
  }
}

const WAIT_FOR_TASK_TOKEN_ARN = "arn:aws:states:::lambda:invoke.waitForTaskToken";

async function viaInterpreter(input: Json, script: Script): Promise<Outcome> {
  const definition = JSON.parse(readFileSync(DEFINITION_PATH, "utf8")) as AslDefinition;
  const task = stub(script);
  let ms = Date.parse("2030-01-01T00:00:00.000Z");
  const result = await runExecution(definition, input, context("exec-1", input), {
    invoke: async (call) => task(call.state, call.input),
    issueToken: () => "token-1",
    awaitToken: async (_token, _seconds, state) => task(`${state}.answer`, null),
    sleep: async (s) => {
      ms += s * 1000;
    },
    random: () => 0.5,
    now: () => new Date(ms),
  });
  const { statesEntered: states, ...rest } = result;
  return { states, ...rest };
}

const begun = { secretId: "s1", rotationId: "exec-1", trigger: "manual", mode: "rotate", route: "create" };
const created = { reused: false, next: { versionId: "v2", fingerprint: "fp1_b", exchangeKeyId: "k2" } };
const promoted = {
  current: { versionId: "v2", fingerprint: "fp1_b" },
  previous: { exchangeKeyId: "k1" },
  promotedAt: "2030-01-01T00:00:00.000Z",
};
const notReady = {
  ready: false,
  deadlinePassed: false,
  waitSeconds: 30,
  lagging: [],
  laggingCount: 1,
  deadlineAt: "x",
};
const ready = { ...notReady, ready: true, laggingCount: 0 };
const completed = { outcome: "revoked" };

const manualBegun = { ...begun, manualTaskSeconds: 3600 };

const cases: { name: string; input: Json; script: Script }[] = [
  {
    name: "manual account: a person makes the key and deletes the old one (.waitForTaskToken)",
    input: { secretId: "s1", trigger: "manual" },
    script: {
      BeginRotation: [manualBegun],
      CreateNext: [{ throw: "ManualKeyNeededError" }, created],
      AwaitManualKey: [{ throw: "Lambda.ServiceException" }, { taskId: "mk-1", state: "waiting" }],
      "AwaitManualKey.answer": [{ taskId: "mk-1", keyId: "k2" }],
      PromoteCurrent: [promoted],
      CheckConsumers: [ready],
      RevokePrevious: [{ entryId: "a#k1", keyId: "k1", status: "awaiting-operator" }],
      AwaitManualDeletion: [{ taskId: "rm-1", state: "waiting" }],
      "AwaitManualDeletion.answer": [{ taskId: "rm-1", entryId: "a#k1" }],
      CompleteRotation: [completed],
    },
  },
  {
    name: "manual account: nobody makes the key before the deadline (States.Timeout parks)",
    input: { secretId: "s1", trigger: "manual" },
    script: {
      BeginRotation: [manualBegun],
      CreateNext: [{ throw: "ManualKeyNeededError" }],
      AwaitManualKey: [{ taskId: "mk-1", state: "waiting" }],
      "AwaitManualKey.answer": [{ throw: "States.Timeout" }],
      MarkStalled: [{ stalled: true, laggingCount: 0 }],
    },
  },
  {
    name: "manual account: the deletion's token answered with a failure",
    input: { secretId: "s1", trigger: "manual" },
    script: {
      BeginRotation: [manualBegun],
      CreateNext: [created],
      PromoteCurrent: [promoted],
      CheckConsumers: [ready],
      RevokePrevious: [{ entryId: "a#k1", keyId: "k1", status: "awaiting-operator" }],
      AwaitManualDeletion: [{ taskId: "rm-1", state: "waiting" }],
      "AwaitManualDeletion.answer": [{ throw: "ManualTaskRefusedError", message: "not deleted" }],
      MarkStalled: [{ stalled: true, laggingCount: 0 }],
    },
  },
  {
    name: "happy path with one wait",
    input: { secretId: "s1", trigger: "manual" },
    script: {
      BeginRotation: [begun],
      CreateNext: [created],
      PromoteCurrent: [promoted],
      CheckConsumers: [notReady, ready],
      RevokePrevious: [{ entryId: "a#k1", status: "revoked" }],
      CompleteRotation: [completed],
    },
  },
  {
    name: "retried tasks (Lambda.ServiceException, RevocationFailedError) then success",
    input: { secretId: "s1", trigger: "schedule" },
    script: {
      BeginRotation: [begun],
      CreateNext: [{ throw: "Lambda.ServiceException" }, { throw: "ExchangeRetryableError" }, created],
      PromoteCurrent: [promoted],
      CheckConsumers: [ready],
      RevokePrevious: [
        { throw: "RevocationFailedError" },
        { throw: "RevocationFailedError" },
        { entryId: "a#k1" },
      ],
      CompleteRotation: [completed],
    },
  },
  {
    name: "a spent 2FA window (TotpWindowError) is waited out by the state machine, not the Lambda",
    input: { secretId: "s1", trigger: "manual" },
    script: {
      BeginRotation: [begun],
      CreateNext: [{ throw: "TotpWindowError" }, { throw: "TotpWindowError" }, created],
      PromoteCurrent: [promoted],
      CheckConsumers: [ready],
      RevokePrevious: [{ entryId: "a#k1", status: "revoked" }],
      CompleteRotation: [completed],
    },
  },
  {
    name: "caught error aborts (Catch ResultPath, ErrorPath/CausePath)",
    input: { secretId: "s1", trigger: "manual" },
    script: {
      BeginRotation: [begun],
      CreateNext: [created],
      PromoteCurrent: [{ throw: "RotationStateError", message: "no next version" }],
      AbortRotation: [{ aborted: true, revokedKeyIds: ["k2"], pendingRevocations: [] }],
    },
  },
  {
    name: "retries exhausted hand over to the sweeper; not-ready goes back to waiting",
    input: { secretId: "s1", trigger: "manual" },
    script: {
      BeginRotation: [begun],
      CreateNext: [created],
      PromoteCurrent: [promoted],
      CheckConsumers: [ready],
      RevokePrevious: [{ throw: "ConsumersNotReadyError" }, { throw: "RevocationFailedError" }],
      HandOverToSweeper: [completed],
    },
  },
  {
    name: "deadline passed stalls",
    input: { secretId: "s1", trigger: "manual", mode: "resume" },
    script: {
      BeginRotation: [{ ...begun, route: "wait" }],
      CheckConsumers: [notReady, { ...notReady, deadlinePassed: true }],
      MarkStalled: [{ stalled: true, laggingCount: 1 }],
    },
  },
  {
    name: "abort finds promotion happened and carries on; park after an unexpected error",
    input: { secretId: "s1", trigger: "manual" },
    script: {
      BeginRotation: [{ throw: "ThrottlingException" }, begun],
      AbortRotation: [{ aborted: false }],
      CheckConsumers: [{ throw: "States.Timeout" }],
      MarkStalled: [{ stalled: true, laggingCount: 0 }],
    },
  },
  {
    name: "rejected input",
    input: { secretId: "s1" },
    script: { BeginRotation: [{ throw: "InvalidInputError" }] },
  },
  { name: "array input", input: [], script: { BeginRotation: [{ throw: "InvalidInputError" }] } },
  { name: "number input", input: 42, script: { BeginRotation: [{ throw: "InvalidInputError" }] } },
  { name: "number input, task succeeds", input: 42, script: { BeginRotation: [begun] } },
  {
    name: "task result missing a selected field",
    input: { secretId: "s1", trigger: "manual" },
    script: { BeginRotation: [begun], CreateNext: [{ reused: false }] },
  },
];

describe("ASL interpreter agrees with aws-local-stepfunctions on rotation.asl.json", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const reference = await viaLocalEngine(c.input, c.script);
      const ours = await viaInterpreter(c.input, c.script);
      expect(ours).toEqual(reference);
    });
  }
});
