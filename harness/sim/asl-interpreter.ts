/**
 * A stepping interpreter of Amazon States Language (JSONPath flavour) for the simulator.
 *
 * Why not aws-local-stepfunctions: its Waits and retry delays sleep on the wall clock and its
 * jitter uses Math.random, so a run cannot be replayed bit for bit. Here every Task invocation,
 * Wait and retry delay goes through `hooks`, which the simulation scheduler owns: other actors
 * interleave at those points and time is virtual. `test/sim/asl-interpreter.test.ts` runs the same
 * executions through both engines and asserts the same states and outcome.
 */
import { type ChoiceRule, evaluateRule } from "./asl-choice";
import {
  applyResultPath,
  applyTemplate,
  type Json,
  queryPath,
  runtimeError,
  StatesError,
  selectPath,
} from "./jsonpath";

type StateDef = { [k: string]: Json };

export interface AslDefinition {
  StartAt: string;
  States: Record<string, StateDef>;
  TimeoutSeconds?: number;
}

export interface TaskCall {
  state: string;
  /** The logical id of `{"Fn::GetAtt": [X, "Arn"]}`, or the ARN string as written. */
  resource: string;
  input: Json;
  /** 0 on the first try of this entry into the state, then 1, 2… across retriers. */
  attempt: number;
}

export type AslEvent =
  | { type: "StateEntered"; state: string }
  | { type: "TaskFailed"; state: string; error: string }
  | { type: "StateRetried"; state: string; error: string; delaySeconds: number }
  | { type: "StateCaught"; state: string; error: string; next: string }
  | { type: "ExecutionSucceeded" }
  | { type: "ExecutionFailed"; error: string };

export interface AslHooks {
  invoke(call: TaskCall): Promise<Json>;
  /** Virtual time passes; other actors run meanwhile. */
  sleep(seconds: number, why: string): Promise<void>;
  /** Seeded, in [0, 1): the retriers' FULL jitter. */
  random(): number;
  now(): Date;
  onEvent?(event: AslEvent): void;
  /**
   * `.waitForTaskToken` (the callback pattern): a fresh token for one attempt of a waiting state,
   * registered before the function is invoked (it may answer at once), then awaited in virtual time
   * until SendTaskSuccess (its output is the result), SendTaskFailure (rejects with a StatesError)
   * or the state's timeout (rejects with `States.Timeout`; the token is closed from then on).
   */
  issueToken?(state: string): string;
  awaitToken?(token: string, timeoutSeconds: number | undefined, state: string): Promise<Json>;
  /** The attempt failed before waiting (its invocation failed): the token no longer exists. */
  closeToken?(token: string): void;
}

export const WAIT_FOR_TASK_TOKEN = ".waitForTaskToken";

export interface AslResult {
  status: "SUCCEEDED" | "FAILED";
  output?: Json;
  error?: string;
  cause?: string;
  statesEntered: string[];
}

/** `{"Fn::GetAtt": [X, "Arn"]}` resolves to X, like the deployment's CloudFormation would to X's ARN. */
export function resourceId(resource: Json): string {
  if (typeof resource === "string") return resource;
  const getAtt =
    resource !== null && typeof resource === "object" && !Array.isArray(resource)
      ? resource["Fn::GetAtt"]
      : undefined;
  if (Array.isArray(getAtt) && typeof getAtt[0] === "string" && getAtt[1] === "Arn") return getAtt[0];
  throw runtimeError(`Task Resource ${JSON.stringify(resource)} is neither an ARN nor Fn::GetAtt [X, Arn]`);
}

function toStatesError(err: unknown): StatesError {
  if (err instanceof StatesError) return err;
  if (err instanceof Error) return new StatesError(err.name, err.message);
  return new StatesError("Error", String(err));
}

function matches(equals: Json, error: StatesError, stateType: string): boolean {
  if (!error.handleable || !Array.isArray(equals)) return false;
  return equals.some(
    (e) =>
      e === error.name ||
      e === "States.ALL" ||
      (e === "States.TaskFailed" && stateType === "Task" && error.name !== "States.Timeout"),
  );
}

const num = (v: Json | undefined, fallback: number) => (typeof v === "number" ? v : fallback);

export async function runExecution(
  definition: AslDefinition,
  input: Json,
  context: { [k: string]: Json },
  hooks: AslHooks,
): Promise<AslResult> {
  const statesEntered: string[] = [];
  const emit = (e: AslEvent) => hooks.onEvent?.(e);
  const started = hooks.now().getTime();
  let stateName = definition.StartAt;
  let data: Json = input;
  try {
    for (;;) {
      const state = definition.States[stateName];
      if (!state) throw runtimeError(`state ${stateName} does not exist`);
      if (
        definition.TimeoutSeconds !== undefined &&
        hooks.now().getTime() - started > definition.TimeoutSeconds * 1000
      ) {
        throw new StatesError("States.Timeout", "execution timed out", false);
      }
      statesEntered.push(stateName);
      emit({ type: "StateEntered", state: stateName });
      const ctx: { [k: string]: Json } = {
        ...context,
        State: { Name: stateName, EnteredTime: hooks.now().toISOString() },
      };
      const step = await runState(stateName, state, data, ctx, hooks, emit);
      if (step.end) {
        if (step.failed) {
          emit({ type: "ExecutionFailed", error: step.failed.name });
          return { status: "FAILED", error: step.failed.name, cause: step.failed.message, statesEntered };
        }
        emit({ type: "ExecutionSucceeded" });
        return { status: "SUCCEEDED", output: step.output, statesEntered };
      }
      data = step.output;
      stateName = step.next;
    }
  } catch (err) {
    const e = toStatesError(err);
    emit({ type: "ExecutionFailed", error: e.name });
    return { status: "FAILED", error: e.name, cause: e.message, statesEntered };
  }
}

type Step = { end: false; next: string; output: Json } | { end: true; output?: Json; failed?: StatesError };

function after(state: StateDef, output: Json): Step {
  if (state.End === true) return { end: true, output };
  if (typeof state.Next !== "string") throw runtimeError("state has neither Next nor End");
  return { end: false, next: state.Next, output };
}

async function runState(
  name: string,
  state: StateDef,
  raw: Json,
  ctx: Json,
  hooks: AslHooks,
  emit: (e: AslEvent) => void,
): Promise<Step> {
  const type = state.Type;
  const input = selectPath(state.InputPath as string | null | undefined, raw, ctx);
  const finish = (result: Json) => {
    let out = result;
    if (state.ResultSelector !== undefined) out = applyTemplate(state.ResultSelector, out, ctx);
    out = applyResultPath(state.ResultPath as string | null | undefined, raw, out);
    return selectPath(state.OutputPath as string | null | undefined, out, ctx);
  };
  switch (type) {
    case "Pass": {
      const result =
        state.Parameters !== undefined
          ? applyTemplate(state.Parameters, input, ctx)
          : (state.Result ?? input);
      return after(state, finish(result));
    }
    case "Succeed":
      return { end: true, output: selectPath(state.OutputPath as string | null | undefined, input, ctx) };
    case "Fail": {
      const error =
        typeof state.ErrorPath === "string"
          ? queryPath(state.ErrorPath, input, ctx)
          : (state.Error ?? "States.Fail");
      const cause =
        typeof state.CausePath === "string" ? queryPath(state.CausePath, input, ctx) : (state.Cause ?? "");
      if (typeof error !== "string" || typeof cause !== "string")
        throw runtimeError("Fail ErrorPath/CausePath must point to strings");
      return { end: true, failed: new StatesError(error, cause) };
    }
    case "Choice": {
      const rules = Array.isArray(state.Choices) ? (state.Choices as ChoiceRule[]) : [];
      const hit = rules.find((rule) => evaluateRule(rule, input, ctx));
      const next = hit?.Next ?? state.Default;
      if (typeof next !== "string")
        throw new StatesError("States.NoChoiceMatched", `no choice of ${name} matched`, false);
      return {
        end: false,
        next,
        output: selectPath(state.OutputPath as string | null | undefined, input, ctx),
      };
    }
    case "Wait": {
      await hooks.sleep(waitSeconds(state, input, ctx, hooks.now()), `Wait ${name}`);
      return after(state, selectPath(state.OutputPath as string | null | undefined, input, ctx));
    }
    case "Task":
      return runTask(name, state, raw, input, ctx, hooks, emit, finish);
    default:
      throw runtimeError(`state type ${String(type)} is not supported by the simulator's interpreter`);
  }
}

function waitSeconds(state: StateDef, input: Json, ctx: Json, now: Date): number {
  if (typeof state.Seconds === "number") return state.Seconds;
  if (typeof state.SecondsPath === "string") {
    const s = queryPath(state.SecondsPath, input, ctx);
    if (typeof s !== "number" || s < 0)
      throw runtimeError(`SecondsPath ${state.SecondsPath} is not a non-negative number`);
    return s;
  }
  const ts =
    typeof state.Timestamp === "string"
      ? state.Timestamp
      : typeof state.TimestampPath === "string"
        ? queryPath(state.TimestampPath, input, ctx)
        : undefined;
  if (typeof ts !== "string" || Number.isNaN(Date.parse(ts)))
    throw runtimeError("Wait needs Seconds(Path) or Timestamp(Path)");
  return Math.max(0, (Date.parse(ts) - now.getTime()) / 1000);
}

async function runTask(
  name: string,
  state: StateDef,
  raw: Json,
  input: Json,
  ctx: Json,
  hooks: AslHooks,
  emit: (e: AslEvent) => void,
  finish: (result: Json) => Json,
): Promise<Step> {
  const retriers = Array.isArray(state.Retry) ? (state.Retry as StateDef[]) : [];
  const attempts = retriers.map(() => 0);
  const callback = typeof state.Resource === "string" && state.Resource.endsWith(WAIT_FOR_TASK_TOKEN);
  const resource = callback ? "" : resourceId(state.Resource ?? null);
  for (let attempt = 0; ; attempt++) {
    let error: StatesError;
    try {
      if (callback) {
        const result = await waitForTaskToken(name, state, raw, input, ctx, hooks, attempt);
        return after(state, finish(result));
      }
      const params = state.Parameters !== undefined ? applyTemplate(state.Parameters, input, ctx) : input;
      const result = await hooks.invoke({ state: name, resource, input: params, attempt });
      return after(state, finish(result));
    } catch (err) {
      error = toStatesError(err);
    }
    emit({ type: "TaskFailed", state: name, error: error.name });
    const index = retriers.findIndex((r) => matches(r.ErrorEquals ?? null, error, "Task"));
    const retrier = retriers[index];
    if (retrier && (attempts[index] ?? 0) < num(retrier.MaxAttempts, 3)) {
      const used = attempts[index] ?? 0;
      attempts[index] = used + 1;
      const base = num(retrier.IntervalSeconds, 1) * num(retrier.BackoffRate, 2) ** used;
      const capped =
        typeof retrier.MaxDelaySeconds === "number" ? Math.min(base, retrier.MaxDelaySeconds) : base;
      const delay = retrier.JitterStrategy === "FULL" ? hooks.random() * capped : capped;
      emit({ type: "StateRetried", state: name, error: error.name, delaySeconds: delay });
      await hooks.sleep(delay, `Retry ${name}`);
      continue;
    }
    const catchers = Array.isArray(state.Catch) ? (state.Catch as StateDef[]) : [];
    const catcher = catchers.find((c) => matches(c.ErrorEquals ?? null, error, "Task"));
    if (!catcher || typeof catcher.Next !== "string") throw error;
    emit({ type: "StateCaught", state: name, error: error.name, next: catcher.Next });
    const caught = applyResultPath(catcher.ResultPath as string | null | undefined, raw, {
      Error: error.name,
      Cause: error.message,
    });
    return { end: false, next: catcher.Next, output: caught };
  }
}

/**
 * One attempt of a `lambda:invoke.waitForTaskToken` state: a fresh token in `$$.Task.Token`, the
 * function (`Parameters.FunctionName`) invoked with `Parameters.Payload` (its own answer is
 * ignored, as the service does), then the wait for the token. `TimeoutSeconds(Path)` counts from
 * the attempt's start; the path is read from the state's raw input, as the service reads it.
 */
async function waitForTaskToken(
  name: string,
  state: StateDef,
  raw: Json,
  input: Json,
  ctx: Json,
  hooks: AslHooks,
  attempt: number,
): Promise<Json> {
  if (!hooks.issueToken || !hooks.awaitToken)
    throw runtimeError(`${name}: this run has no task tokens for .waitForTaskToken`);
  const started = hooks.now().getTime();
  let timeout: number | undefined;
  if (typeof state.TimeoutSeconds === "number") timeout = state.TimeoutSeconds;
  if (typeof state.TimeoutSecondsPath === "string") {
    const t = queryPath(state.TimeoutSecondsPath, raw, ctx);
    if (typeof t !== "number" || !Number.isInteger(t) || t <= 0)
      throw runtimeError(`TimeoutSecondsPath ${state.TimeoutSecondsPath} is not a positive integer`);
    timeout = t;
  }
  const token = hooks.issueToken(name);
  const withToken: Json = {
    ...(ctx as { [k: string]: Json }),
    Task: { Token: token },
  };
  const params = applyTemplate(state.Parameters ?? {}, input, withToken);
  const fields = params !== null && typeof params === "object" && !Array.isArray(params) ? params : {};
  const resource = resourceId(fields.FunctionName ?? null);
  try {
    await hooks.invoke({ state: name, resource, input: fields.Payload ?? null, attempt });
  } catch (err) {
    hooks.closeToken?.(token);
    throw err;
  }
  const left = timeout === undefined ? undefined : timeout - (hooks.now().getTime() - started) / 1000;
  return hooks.awaitToken(token, left, name);
}
