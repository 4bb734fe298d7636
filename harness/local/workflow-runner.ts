import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";
import { ExecutionError, StateMachine } from "aws-local-stepfunctions";
import { asFunction } from "./aws-calls";
import { LOCAL_ACCOUNT, LOCAL_REGION, loadLocalDefinition } from "./definition";
import { lambdaContext } from "./lambda-context";

type JSONValue = null | boolean | number | string | JSONValue[] | { [k: string]: JSONValue };
type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** The real handlers, keyed by the logical ids the ASL file references. */
async function loadStepHandlers(): Promise<Record<string, LambdaHandler>> {
  const modules = {
    BeginRotationLambdaFunction: import("../../functions/begin-rotation"),
    CreateNextLambdaFunction: import("../../functions/create-next"),
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
    taskResourceLocalHandlers[state] = async (event) => {
      fire("before");
      const fn = logicalId.replace(/LambdaFunction$/, "");
      const result = (await asFunction(fn, () => handler(event, lambdaContext(logicalId)))) as JSONValue;
      fire("after");
      return result;
    };
    retryIntervalOverrides[state] = opts.retryMs ?? 20;
  }
  const machine = new StateMachine(definition as never, {
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
