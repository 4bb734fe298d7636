import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";
import { ExecutionError, StateMachine } from "aws-local-stepfunctions";
import { asFunction } from "./aws-calls";
import { LOCAL_ACCOUNT, LOCAL_REGION, loadLocalDefinition } from "./definition";
import { lambdaContext } from "./lambda-context";
import { localTaskTokens } from "./task-tokens";

type JSONValue = null | boolean | number | string | JSONValue[] | { [k: string]: JSONValue };
type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** The real handlers, keyed by the logical ids the ASL file references. */
async function loadStepHandlers(): Promise<Record<string, LambdaHandler>> {
  const modules = {
    BeginRotationLambdaFunction: import("../../functions/begin-rotation"),
    CreateNextLambdaFunction: import("../../functions/create-next"),
    OpenManualTaskLambdaFunction: import("../../functions/open-manual-task"),
    PromoteCurrentLambdaFunction: import("../../functions/promote-current"),
    WaitForConsumersLambdaFunction: import("../../functions/wait-for-consumers"),
    RevokePreviousLambdaFunction: import("../../functions/revoke-previous"),
    CompleteRotationLambdaFunction: import("../../functions/complete-rotation"),
    AbortRotationLambdaFunction: import("../../functions/abort-rotation"),
    MarkStalledLambdaFunction: import("../../functions/mark-stalled"),
  };
  const out: Record<string, LambdaHandler> = {};
  for (const [id, mod] of Object.entries(modules)) out[id] = (await mod).handler as unknown as LambdaHandler;
  return out;
}

/** The callback pattern's Lambda integration: invoke, then wait until the task token is answered. */
const WAIT_FOR_TASK_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken";
const TOKEN_PLACEHOLDER = "keyshift-local-task-token";

/**
 * What Step Functions does for a `lambda:invoke.waitForTaskToken` state, which aws-local-stepfunctions
 * lacks: a fresh token for this entry of the state (in the Payload where the definition put
 * `$$.Task.Token`), the function invoked with the Payload (its own result is ignored; its error fails
 * the state), then the state's result is the output of SendTaskSuccess (the local API answers through
 * `localTaskTokens`); SendTaskFailure fails it with that error. The state's TimeoutSecondsPath is the
 * engine's; the token closes at the same time (`timeoutSeconds` in the Payload).
 */
async function waitForTaskToken(
  event: JSONValue,
  invoke: (payload: JSONValue) => Promise<JSONValue>,
): Promise<JSONValue> {
  const params = event as { Payload?: Record<string, JSONValue> };
  const payload = params.Payload ?? {};
  const timeout = typeof payload.timeoutSeconds === "number" ? payload.timeoutSeconds : undefined;
  const { token, answer } = localTaskTokens.issue(timeout);
  const withToken = Object.fromEntries(
    Object.entries(payload).map(([k, v]) => [k, v === TOKEN_PLACEHOLDER ? token : v]),
  );
  try {
    await invoke(withToken);
  } catch (err) {
    localTaskTokens.stop(token);
    throw err;
  }
  return (await answer) as JSONValue;
}

/**
 * aws-local-stepfunctions 3.0.0 evaluates a Task's `TimeoutSecondsPath` against the state's input
 * AFTER `Parameters` (TaskStateAction.getTimeoutMs gets the effective input), where Step Functions
 * evaluates it against the state's input. For the waiting states the same value is in the Payload
 * (`timeoutSeconds.$` names the same path): point the library there, so it times out when AWS would.
 */
export function asLibraryReadsTimeouts(definition: Record<string, unknown>): Record<string, unknown> {
  const states = (definition as { States: Record<string, Record<string, unknown>> }).States;
  const patched: Record<string, Record<string, unknown>> = {};
  for (const [name, state] of Object.entries(states)) {
    const payload = (state.Parameters as { Payload?: Record<string, unknown> } | undefined)?.Payload;
    const key =
      payload &&
      Object.entries(payload).find(([k, v]) => k.endsWith(".$") && v === state.TimeoutSecondsPath)?.[0];
    patched[name] =
      state.Resource === WAIT_FOR_TASK_TOKEN && key
        ? { ...state, TimeoutSecondsPath: `$.Payload.${key.slice(0, -2)}` }
        : state;
  }
  return { ...definition, States: patched };
}

export interface ExecutionEvent {
  type: string;
  state?: string;
  timestamp: number;
  input?: unknown;
  output?: unknown;
  error?: string;
  cause?: unknown;
}

export interface ExecutionResult {
  executionName: string;
  status: "SUCCEEDED" | "FAILED";
  output?: unknown;
  error?: string;
  cause?: string;
  /** The execution history (state entered/exited, retries, catches) as the local engine logged it. */
  history: ExecutionEvent[];
}

/**
 * A failure injected around a Task's real handler. `after` runs the handler (its work is done) and
 * then fails, as when a Lambda dies before returning: the case idempotent steps must survive.
 */
export interface InjectedFault {
  state: string;
  when: "before" | "after";
  /** Error name the state machine sees, e.g. `Lambda.ServiceException` (retried) or `Lambda.Unknown`. */
  error: string;
  times?: number;
}

export interface RunOptions {
  executionName?: string;
  /** Real milliseconds one consumer-wait takes locally (the ASL asks for seconds). */
  waitMs?: number;
  /** Real milliseconds between a Task's retries. */
  retryMs?: number;
  /** Called for every history event as it happens (progress output). */
  onEvent?: (event: ExecutionEvent) => void;
  inject?: InjectedFault[];
}

class InjectedError extends Error {
  constructor(name: string, state: string) {
    super(`injected ${name} at ${state}`);
    this.name = name;
  }
}

/**
 * Runs one execution of `statemachines/rotation.asl.json` in aws-local-stepfunctions with the real
 * handlers. Waits and retry intervals are compressed; everything else is the definition as deployed.
 */
export async function runRotation(input: JSONValue, opts: RunOptions = {}): Promise<ExecutionResult> {
  const { definition, taskFunctions } = loadLocalDefinition();
  const handlers = await loadStepHandlers();
  const executionName = opts.executionName ?? randomUUID();
  const taskResourceLocalHandlers: Record<string, (input: JSONValue) => Promise<JSONValue>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [state, logicalId] of Object.entries(taskFunctions)) {
    const handler = handlers[logicalId];
    if (!handler) throw new Error(`state ${state} invokes ${logicalId}, which has no local handler`);
    const faults = (opts.inject ?? [])
      .filter((f) => f.state === state)
      .map((f) => ({ ...f, left: f.times ?? 1 }));
    const fire = (when: "before" | "after") => {
      const fault = faults.find((f) => f.when === when && f.left > 0);
      if (fault) {
        fault.left -= 1;
        throw new InjectedError(fault.error, state);
      }
    };
    const fn = logicalId.replace(/LambdaFunction$/, "");
    const invoke = async (event: JSONValue) => {
      fire("before");
      const result = (await asFunction(fn, () => handler(event, lambdaContext(logicalId)))) as JSONValue;
      fire("after");
      return result;
    };
    const states = (definition as { States: Record<string, { Resource?: unknown }> }).States;
    taskResourceLocalHandlers[state] =
      states[state]?.Resource === WAIT_FOR_TASK_TOKEN ? (event) => waitForTaskToken(event, invoke) : invoke;
    retryIntervalOverrides[state] = opts.retryMs ?? 20;
  }
  const machine = new StateMachine(asLibraryReadsTimeouts(definition) as never, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const stateMachineArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:keyshift-local-rotation`;
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers,
      waitTimeOverrides: { WaitForConsumers: opts.waitMs ?? 100 },
      retryIntervalOverrides,
    },
    context: {
      Execution: {
        Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:keyshift-local-rotation:${executionName}`,
        Name: executionName,
        StartTime: new Date().toISOString(),
        Input: input as never,
        RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/keyshift-local-states`,
      },
      StateMachine: { Id: stateMachineArn, Name: "keyshift-local-rotation" },
      // Replaced per state entry by a fresh token (waitForTaskToken below): the engine has none.
      Task: { Token: TOKEN_PLACEHOLDER },
    } as never,
  });
  const history: ExecutionEvent[] = [];
  const collecting = (async () => {
    for await (const raw of execution.eventLogs) {
      const e = raw as unknown as Record<string, unknown>;
      const state = e.state as { name?: string; input?: unknown; output?: unknown } | undefined;
      const event: ExecutionEvent = {
        type: String(e.type),
        state: state?.name,
        timestamp: Number(e.timestamp),
        input: e.type === "ExecutionStarted" ? e.input : state?.input,
        output: e.type === "ExecutionSucceeded" ? e.output : state?.output,
        error: typeof e.Error === "string" ? e.Error : undefined,
        cause: e.Cause,
      };
      history.push(event);
      opts.onEvent?.(event);
    }
  })();
  try {
    const output = await execution.result;
    await collecting;
    return { executionName, status: "SUCCEEDED", output, history };
  } catch (err) {
    await collecting.catch(() => undefined);
    const failed = [...history].reverse().find((h) => h.type === "ExecutionFailed");
    if (!(err instanceof ExecutionError) && !failed) throw err;
    return {
      executionName,
      status: "FAILED",
      error: failed?.error ?? (err as Error).name,
      cause:
        typeof failed?.cause === "string"
          ? failed.cause
          : JSON.stringify(failed?.cause ?? (err as Error).message),
      history,
    };
  }
}
