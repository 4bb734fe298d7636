/**
 * The fault plan (drawn from the seed) and the generic port wrapper. Every method of every port
 * object goes through `wrapPort`, whatever its name: the wrapper is a Proxy, so ports that gain or
 * rename methods keep working. Each call is (a) a scheduling point and (b) a fault-injection point.
 */
import { ExchangeKeyNotFoundError, ExchangeRetryableError, TotpWindowError } from "../../src/core/errors";
import type { Rng } from "./rng";

export type PortName =
  | "secrets"
  | "store"
  | "lock"
  | "consumers"
  | "ledger"
  | "exchange"
  | "audit"
  | "alerts"
  | "tasks"
  | "callbacks";
export type PortFault =
  | "fail-before"
  | "fail-after"
  | "slow"
  | "lie-not-found"
  | "outage"
  | "audit-after-effect"
  | "storm"
  /** The exchange refuses a stolen key's disable/remove for a while (attacker.ts). */
  | "refuse-revocation";
export type TaskCrash = "crash-before" | "crash-mid" | "crash-after";
export type FaultKind = PortFault | TaskCrash;

/** Per-seed intensities: some seeds are calm, some are storms. */
export interface FaultProfile {
  portRate: number;
  taskCrashRate: number;
  /** Secrets Manager read-after-write lag window and how often a read lands in it. */
  secretsLagSeconds: number;
  secretsLagChance: number;
  /** The ledger GSI's lag behind the table. */
  ledgerLagSeconds: number;
  /** Exchange answering "not found" for a key it did not remove (a proxy's 404). */
  lieRate: number;
  /**
   * An audit append right after an exchange effect (disable, remove, enable) of the same invocation
   * fails this often: the record of an effect that already happened is the one that must not be lost.
   */
  auditAfterEffectRate: number;
}

export function drawProfile(rng: Rng): FaultProfile {
  return {
    portRate: rng.pick([0, 0.01, 0.03, 0.06]),
    taskCrashRate: rng.pick([0, 0.03, 0.08]),
    secretsLagSeconds: rng.pick([0, 2, 10]),
    secretsLagChance: rng.pick([0, 0.3]),
    ledgerLagSeconds: rng.pick([0, 30, 120]),
    lieRate: rng.pick([0, 0, 0.1]),
    auditAfterEffectRate: rng.pick([0, 0.2, 0.5]),
  };
}

function named(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

/** A realistic error for a failed call to `port` (messages carry names only, never arguments). */
export function portError(rng: Rng, port: PortName, method: string): Error {
  const where = `injected on ${port}.${method}`;
  switch (port) {
    case "secrets":
      return named(rng.pick(["ThrottlingException", "InternalServiceError"]), `Secrets Manager: ${where}`);
    case "exchange": {
      // `spent-2fa-window`: Deribit's one-code-per-window rule, handed to the state machine's Retry.
      const status = rng.pick([503, 429, undefined, "spent-2fa-window"] as const);
      if (status === "spent-2fa-window")
        return new TotpWindowError(`exchange: this 2FA window's code was already sent: ${where}`);
      return new ExchangeRetryableError(`exchange ${status ?? "timeout"}: ${where}`, status);
    }
    case "alerts":
      return named(rng.pick(["ThrottledException", "InternalErrorException"]), `SNS: ${where}`);
    case "callbacks":
      return named(rng.pick(["ThrottlingException", "ServiceUnavailable"]), `Step Functions: ${where}`);
    default:
      return named(
        rng.pick(["ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"]),
        `DynamoDB: ${where}`,
      );
  }
}

export const LAMBDA_CRASH_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.Unknown",
  "States.Timeout",
  "Lambda.ClientExecutionTimeoutException",
] as const;

/** One invocation of a Lambda (or one operator command): who calls, and how it may die. */
export interface CallContext {
  actor: string;
  calls: number;
  /** Die before this many port calls have run (task-level crash mid-way). */
  crashAtCall?: number;
  crashError?: Error;
  crashed?: Error;
  /** Rotation whose lock this invocation's writes need (set for workflow steps after BeginRotation). */
  rotation?: { secretId: string; rotationId: string; execution: string };
  faultsOn: boolean;
  /** Locks an operator command took (restore's marker): alive while the command runs. */
  operatorLocks?: Set<string>;
  /** The exchange write this invocation made last, until its next audit append. */
  exchangeEffect?: string;
}

export interface PortEnv {
  rng: Rng;
  profile: () => FaultProfile;
  point(actor: string, what: string): Promise<void>;
  sleep(actor: string, seconds: number, what: string): Promise<void>;
  log(actor: string, what: string): void;
  countFault(kind: FaultKind): void;
  /** Runs right before the real call (invariants that must hold at the call, e.g. I1/I5). */
  before(port: PortName, method: string, args: unknown[], ctx: CallContext): Promise<void>;
  after(port: PortName, method: string, args: unknown[], result: unknown, ctx: CallContext): Promise<void>;
  /** True while the exchange is down for everyone (an outage window the chaos actor opens). */
  exchangeDown(): boolean;
  /** True while DynamoDB throttles everyone (a storm: it parks a waiting rotation). */
  dynamoDown(): boolean;
  /** A lagging view that answers instead of the port for some reads (eventual consistency). */
  view(port: PortName, method: string): ((...args: unknown[]) => Promise<unknown>) | undefined;
}

const DYNAMO_PORTS = new Set<PortName>(["store", "lock", "consumers", "ledger", "audit", "tasks"]);

const READ = /^(get|list|find|describe|verify|query|scan)/;
const EFFECTS = new Set(["disableKey", "removeKey", "enableKey"]);

export function isRead(method: string): boolean {
  return READ.test(method);
}

export function wrapPort<T extends object>(port: PortName, target: T, env: PortEnv, ctx: CallContext): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== "function" || typeof prop !== "string") return value;
      return async (...args: unknown[]) => {
        await env.point(ctx.actor, `${port}.${prop}`);
        if (ctx.crashed) throw ctx.crashed;
        if (ctx.crashAtCall !== undefined && ctx.calls >= ctx.crashAtCall && ctx.crashError) {
          ctx.crashed = ctx.crashError;
          env.log(ctx.actor, `crash mid-way (${ctx.crashError.name}) before ${port}.${prop}`);
          throw ctx.crashed;
        }
        ctx.calls += 1;
        const profile = env.profile();
        let fault: PortFault | undefined;
        // Buggify: the exchange calls that change a key fail (or lose their answer) far more often
        // than the rest, so every seed with faults walks the failure paths of revocation and restore.
        const rate =
          port === "exchange" && EFFECTS.has(prop) ? Math.max(profile.portRate, 0.1) : profile.portRate;
        if (ctx.faultsOn && env.rng.chance(rate)) {
          fault = env.rng.weighted({ "fail-before": 4, "fail-after": 3, slow: 2 });
        }
        if (port === "audit" && prop === "append" && ctx.exchangeEffect) {
          if (ctx.faultsOn && env.rng.chance(profile.auditAfterEffectRate)) fault = "audit-after-effect";
          ctx.exchangeEffect = undefined;
        }
        if (ctx.faultsOn && port === "exchange" && env.exchangeDown()) fault = "outage";
        if (ctx.faultsOn && DYNAMO_PORTS.has(port) && env.dynamoDown()) fault = "storm";
        if (ctx.faultsOn && port === "exchange" && prop === "removeKey" && env.rng.chance(profile.lieRate)) {
          fault = "lie-not-found";
        }
        if (fault) {
          env.countFault(fault);
          env.log(ctx.actor, `fault ${fault} on ${port}.${prop}`);
        }
        if (fault === "fail-before" || fault === "audit-after-effect" || fault === "storm")
          throw portError(env.rng, port, prop);
        if (fault === "outage") throw new ExchangeRetryableError(`exchange ${prop}: HTTP 503 (outage)`, 503);
        if (fault === "slow") await env.sleep(ctx.actor, env.rng.range(1, 20), `slow ${port}.${prop}`);
        await env.before(port, prop, args, ctx);
        if (fault === "lie-not-found") {
          return env.rng.chance(0.5) ? "not-found" : Promise.reject(new ExchangeKeyNotFoundError("HTTP 404"));
        }
        const impl = env.view(port, prop) ?? ((...a: unknown[]) => Reflect.apply(value, obj, a));
        const result = await impl(...args);
        if (port === "exchange" && !isRead(prop)) ctx.exchangeEffect = prop;
        await env.after(port, prop, args, result, ctx);
        if (fault === "fail-after") throw portError(env.rng, port, prop);
        return result;
      };
    },
  });
}
