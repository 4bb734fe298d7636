/**
 * Executions of the real rotation.asl.json through the stepping interpreter, with the real step
 * functions (`functions/*.ts` raw `xxxStep(event, deps)`) behind the logical ids the file names.
 * Each Task invocation may crash (before, mid-way between two port calls, or after its work).
 */
import { readFileSync } from "node:fs";
import type { Deps } from "../../src/core/deps";
import type { ManualDeps } from "../../src/core/manual/tasks";
import { DEFINITION_PATH } from "../local/definition";
import { type AslDefinition, runExecution } from "./asl-interpreter";
import { type CallContext, LAMBDA_CRASH_ERRORS, type TaskCrash } from "./faults";
import type { Json } from "./jsonpath";
import { recordEmergency } from "./truth";
import type { CommandKind, World } from "./world";

type StepFn = (event: unknown, deps: Deps & Pick<ManualDeps, "tasks" | "callbacks">) => Promise<unknown>;

const DUMMY_ENV: Record<string, string> = {
  AWS_REGION: "us-east-1",
  KEYSHIFT_TABLE_CONSUMERS: "sim-consumers",
  KEYSHIFT_TABLE_ROTATIONS: "sim-rotations",
  KEYSHIFT_TABLE_LEDGER: "sim-ledger",
  KEYSHIFT_TABLE_AUDIT: "sim-audit",
  KEYSHIFT_ALERT_TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:sim",
  KEYSHIFT_ADMIN_SECRET_PREFIX: "keyshift/admin/",
  KEYSHIFT_REVOCATION_MAX_ATTEMPTS: "4",
  KEYSHIFT_REVOCATION_BASE_SECONDS: "60",
  KEYSHIFT_REVOCATION_CAP_SECONDS: "1800",
  KEYSHIFT_EXCHANGE_TIMEOUT_MS: "5000",
  POWERTOOLS_LOG_LEVEL: "SILENT",
};

export interface Steps {
  byResource: Record<string, StepFn>;
  sweep: StepFn;
}

let loaded: Promise<Steps> | undefined;

/** Handler modules build AWS deps at import: give them dummy config first (no call is ever made). */
export function loadSteps(): Promise<Steps> {
  for (const [k, val] of Object.entries(DUMMY_ENV)) process.env[k] ??= val;
  loaded ??= (async () => ({
    byResource: {
      BeginRotationLambdaFunction: (await import("../../functions/begin-rotation")).beginRotationStep,
      CreateNextLambdaFunction: (await import("../../functions/create-next")).createNextStep,
      PromoteCurrentLambdaFunction: (await import("../../functions/promote-current")).promoteCurrentStep,
      WaitForConsumersLambdaFunction: (await import("../../functions/wait-for-consumers"))
        .waitForConsumersStep,
      RevokePreviousLambdaFunction: (await import("../../functions/revoke-previous")).revokePreviousStep,
      CompleteRotationLambdaFunction: (await import("../../functions/complete-rotation"))
        .completeRotationStep,
      AbortRotationLambdaFunction: (await import("../../functions/abort-rotation")).abortRotationStep,
      MarkStalledLambdaFunction: (await import("../../functions/mark-stalled")).markStalledStep,
      OpenManualTaskLambdaFunction: (await import("../../functions/open-manual-task")).openManualTaskStep,
    } as Record<string, StepFn>,
    sweep: (await import("../../functions/retry-revocations")).retryRevocationsStep as StepFn,
  }))();
  return loaded;
}

const definition = JSON.parse(readFileSync(DEFINITION_PATH, "utf8")) as AslDefinition;

export class LambdaCrash extends Error {
  constructor(name: string, where: string) {
    super(`injected ${name} at ${where}`);
    this.name = name;
  }
}

/** Runs one Lambda-like invocation under the seed's crash plan; a crash hides whatever happened. */
export async function invokeWithCrashes(
  world: World,
  actor: string,
  what: string,
  ctx: CallContext,
  body: (d: ReturnType<World["depsFor"]>) => Promise<unknown>,
): Promise<unknown> {
  let crash: TaskCrash | undefined;
  if (ctx.faultsOn && world.rng.chance(world.liveProfile().taskCrashRate)) {
    crash = world.rng.pick(["crash-before", "crash-mid", "crash-after"] as const);
    world.faults[crash] = (world.faults[crash] ?? 0) + 1;
    const error = new LambdaCrash(world.rng.pick(LAMBDA_CRASH_ERRORS), what);
    if (crash === "crash-before") {
      world.sched.log(actor, `crash before ${what} (${error.name})`);
      throw error;
    }
    if (crash === "crash-mid") {
      ctx.crashAtCall = world.rng.range(1, 12);
      ctx.crashError = error;
    } else {
      ctx.crashError = error;
    }
  }
  world.tasksInFlight += 1;
  try {
    const result = await body(world.depsFor(ctx));
    if (crash === "crash-after" || ctx.crashed) throw ctx.crashError ?? ctx.crashed;
    if (crash === "crash-mid" && ctx.crashError) {
      // The crash point lay past the last call: the Lambda died before answering.
      world.sched.log(actor, `crash after ${what} (${ctx.crashError.name})`);
      throw ctx.crashError;
    }
    return result;
  } catch (err) {
    throw ctx.crashed ?? err;
  } finally {
    world.tasksInFlight -= 1;
  }
}

export interface ExecutionRecord {
  name: string;
  secretId: string;
  rotationId?: string;
  status?: "SUCCEEDED" | "FAILED";
  error?: string;
  /** The operator command that started it: counted as succeeded once BeginRotation accepts it. */
  kind?: CommandKind;
}

export class Executions {
  readonly all: ExecutionRecord[] = [];
  private counter = 0;

  constructor(
    private readonly world: World,
    private readonly steps: Steps,
    private readonly onEnd: (rec: ExecutionRecord) => Promise<void>,
    private readonly onText: (where: string, text: string) => void,
  ) {}

  /** True while some running execution has not yet said which rotation it works for. */
  anyUnknown(): boolean {
    return this.all.some((e) => !e.status && !e.rotationId);
  }

  /** Rotations driven by a running execution, and the lock markers of operator commands still running. */
  liveRotations(): Set<string> {
    const live = new Set(
      this.all.filter((e) => !e.status && e.rotationId).map((e) => e.rotationId as string),
    );
    for (const marker of this.world.operatorLocks) live.add(marker);
    return live;
  }

  /** Names of the executions still running: a lock is alive while the execution driving it runs. */
  liveExecutions(): Set<string> {
    return new Set(this.all.filter((e) => !e.status).map((e) => e.name));
  }

  get running(): number {
    return this.all.filter((e) => !e.status).length;
  }

  start(
    secretId: string,
    mode: "rotate" | "resume",
    trigger: "schedule" | "manual",
    compromised = false,
    kind?: CommandKind,
  ): string {
    this.counter += 1;
    const name = `${mode === "resume" ? "resume" : "rot"}-${this.counter}`;
    // A new rotation's id is its execution's name; a resume learns the id it adopts from BeginRotation.
    const rec: ExecutionRecord =
      mode === "rotate" ? { name, secretId, rotationId: name } : { name, secretId };
    if (kind) rec.kind = kind;
    this.all.push(rec);
    if (mode === "rotate") this.world.rotationSecret.set(name, secretId);
    const input: Json =
      mode === "resume"
        ? { secretId, trigger, mode }
        : compromised
          ? { secretId, trigger, compromised: true, reason: "sim: key seen in a public paste" }
          : { secretId, trigger };
    const actor = `exec:${name}`;
    const world = this.world;
    const rng = world.rng.fork(actor);
    this.world.sched.spawn(actor, async () => {
      // Before any step runs: the world notes which key this emergency is about (read raw).
      if (compromised) await recordEmergency(world, secretId);
      const result = await runExecution(definition, input, contextFor(name, input, world), {
        invoke: async (call) => {
          await world.sched.point(actor, `task ${call.state}#${call.attempt}`);
          if (call.state === "RevokePrevious" && call.attempt === 0 && world.faultsOn && rng.chance(0.25)) {
            // Buggify: the exchange goes down just as a revocation starts, so it is handed to the
            // sweeper — the path where the gate must hold without the workflow watching.
            const minutes = rng.range(15, 40);
            world.exchangeDownUntil = world.raw.clock.now().getTime() + minutes * 60_000;
            world.sched.log(actor, `exchange outage for ${minutes} min`);
          }
          const fn = this.steps.byResource[call.resource];
          if (!fn) throw new Error(`no step function for ${call.resource}`);
          this.onText(`${name} ${call.state} input`, JSON.stringify(call.input));
          const ctx = world.context(
            actor,
            rec.rotationId ? { rotation: { secretId, rotationId: rec.rotationId, execution: name } } : {},
          );
          try {
            const out = JSON.parse(
              JSON.stringify(
                (await invokeWithCrashes(world, actor, call.state, ctx, (d) => fn(call.input, d))) ?? null,
              ),
            ) as Json;
            if (call.state === "BeginRotation" && out && typeof out === "object" && !Array.isArray(out)) {
              rec.rotationId = String(out.rotationId);
              // The deployment's KEYSHIFT_MANUAL_TASK_SECONDS, per seed (the handler read it at import).
              if ("manualTaskSeconds" in out) out.manualTaskSeconds = world.manualTaskSeconds;
              if (rec.kind) world.countCommand(rec.kind, true);
            }
            this.onText(`${name} ${call.state} output`, JSON.stringify(out));
            return out;
          } catch (err) {
            const e = err as Error;
            this.onText(`${name} ${call.state} error`, `${e.name}: ${e.message}`);
            world.sched.log(actor, `${call.state} threw ${e.name}`);
            throw err;
          }
        },
        sleep: (s, why) => world.sched.sleep(actor, s, why),
        issueToken: (state) => world.tokens.issue(name, state),
        awaitToken: async (token, seconds, state) => {
          world.sched.log(actor, `${state} waits on a task token (${seconds ?? "no"} s timeout)`);
          try {
            const answer = await world.tokens.await(actor, token, seconds);
            this.onText(`${name} ${state} answer`, JSON.stringify(answer));
            return answer;
          } catch (err) {
            world.sched.log(actor, `${state} token: ${(err as Error).name}`);
            throw err;
          }
        },
        closeToken: (token) => world.tokens.close(token, "stopped"),
        random: () => rng.next(),
        now: () => world.raw.clock.now(),
        onEvent: (e) => {
          if (e.type === "StateRetried") world.stateRetries[e.error] = (world.stateRetries[e.error] ?? 0) + 1;
          if (e.type === "StateCaught" && e.error === "EgressNotBoundError") world.egressRefusals += 1;
          if (e.type === "StateEntered") {
            if (e.state === "AdoptExecutionName" && !rec.rotationId) rec.rotationId = name;
            world.sched.log(actor, `enter ${e.state}`);
          }
        },
      });
      rec.status = result.status;
      rec.error = result.error;
      this.onText(`${name} result`, JSON.stringify(result));
      world.sched.log(actor, `${result.status}${result.error ? ` ${result.error}` : ""}`);
      await this.onEnd(rec);
    });
    return name;
  }
}

function contextFor(name: string, input: Json, world: World): { [k: string]: Json } {
  return {
    Execution: {
      Id: `arn:aws:states:us-east-1:000000000000:execution:keyshift-sim:${name}`,
      Name: name,
      StartTime: world.raw.clock.now().toISOString(),
      Input: input,
      RoleArn: "arn:aws:iam::000000000000:role/keyshift-sim",
    },
    StateMachine: {
      Id: "arn:aws:states:us-east-1:000000000000:stateMachine:keyshift-sim",
      Name: "keyshift-sim",
    },
  };
}
