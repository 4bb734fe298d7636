/**
 * The simulated world: the in-memory adapters (harness/memory: one per port, proven equal to the
 * production adapters by the contract suites), seeded with 1–2 enrolled secrets and a few
 * consumers, plus everything the checkers need to remember (which keys were ever current, which
 * rotation a key label belongs to, every secret value to scan for).
 */

import type { Deps } from "../../src/core/deps";
import type { ManualDeps } from "../../src/core/manual/tasks";
import type { ExchangeActivity } from "../../src/core/misuse/model";
import { enrollSecret, registerConsumer } from "../../src/core/operator/operator";
import type { ExchangeKey, UsageStore } from "../../src/core/ports";
import type { ReadPolicyDeps } from "../../src/core/read-policy/sync";
import {
  FakeClock,
  InMemoryAlerts,
  InMemoryAuditLog,
  InMemoryConsumerRegistry,
  InMemoryExchange,
  InMemoryManualTasks,
  InMemoryRevocationLedger,
  InMemoryRotationStore,
  InMemorySecretPolicyStore,
  InMemorySecretStore,
  InMemoryUsageStore,
} from "../memory";
import type { AttackerUse, StolenKey } from "./attacker";
import { LaggingLedgerIndex, LaggingSecrets } from "./consistency";
import {
  type CallContext,
  drawProfile,
  type FaultKind,
  type FaultProfile,
  type PortEnv,
  type PortName,
  wrapPort,
} from "./faults";
import type { MisuseRunRecord } from "./misuse-hourly";
import { Rng } from "./rng";
import { Scheduler, Trace } from "./scheduler";
import { SimTaskCallbacks, SimTaskTokens } from "./task-tokens";
import { ManualRecord, Truth } from "./truth";

export interface ConsumerSpec {
  secretId: string;
  consumerId: string;
  /** The principal the instances heartbeat as (may lag a re-registration: a misconfigured fleet). */
  callerArn: string;
  heartbeatIntervalSeconds: number;
  instances: number;
  /**
   * Registered AND required, as the registry says right now (kept in step by `syncSpecs` after
   * every registry write): the gate waits only for required consumers, I6 speaks for them alone.
   */
  required: boolean;
  /** In the registry right now; a removed consumer's instances stop (but see `forgotten`). */
  registered: boolean;
  /** The principal the registry holds for it. */
  principalArn: string;
  cacheTtlSeconds: number;
  /** An instance a decommission forgot: it keeps running unregistered (its heartbeats are refused). */
  forgotten?: string;
}

/** Keys of `SeedResult.operatorCommandsByKind`. */
export type CommandKind =
  | "resume"
  | "rollback"
  | "forceRevoke"
  | "retry"
  | "restore"
  | "register"
  | "remove"
  | "emergency"
  | "reenroll"
  | "syncPolicy"
  | "auditVerify";

/** The IAM role a consumer registers and the STS session its instances call as. */
export function roleArn(name: string): string {
  return `arn:aws:iam::123456789012:role/${name}`;
}
export function sessionArn(principalArn: string): string {
  return `arn:aws:sts::123456789012:assumed-role/${principalArn.slice(principalArn.lastIndexOf("/") + 1)}/session`;
}

export interface Violation {
  invariant: string;
  /** Short, stable text used to group the same bug across seeds. */
  signature: string;
  message: string;
}

export interface Raw {
  clock: FakeClock;
  store: InMemoryRotationStore;
  secrets: InMemorySecretStore;
  exchange: InMemoryExchange;
  consumers: InMemoryConsumerRegistry;
  ledger: InMemoryRevocationLedger;
  audit: InMemoryAuditLog;
  alerts: InMemoryAlerts;
  /** Resource policies: a Secrets Manager call like any other (wrapped as the `secrets` port). */
  policies: InMemorySecretPolicyStore;
  /** The consumers' usage reports (issue 20): the consumers table, wrapped as the `consumers` port. */
  usage: InMemoryUsageStore;
  /** Manual tasks (issue 17): what a person is asked to do at a manual account's web UI. */
  tasks: InMemoryManualTasks;
}

/** The manual exchange account of the seeds that have one (keys made and deleted by a person). */
export const SIM_MANUAL_ACCOUNT = "acct-manual";

/** CreateNext's role in the simulated account: the read policies keep it a reader. */
const SIM_KEYSHIFT_READERS = ["arn:aws:iam::123456789012:role/keyshift-sim-createNext"];

/** keyshift's fixed egress in the seeds that deploy one; a binding "with egress" covers it by CIDR. */
export const SIM_EGRESS_IP = "10.0.0.7";
export const SIM_BINDING_WITH_EGRESS = ["10.0.0.0/24", "192.168.7.7"] as const;
/** A near miss: the block next to the egress (10.0.0.8–15), so an off-by-one CIDR rule lets it in. */
export const SIM_BINDING_WITHOUT_EGRESS = ["10.0.0.8/29", "192.168.7.0/24"] as const;
/** Where a Lambda without a fixed egress happens to call from. */
const SIM_LAMBDA_ADDRESS = "34.201.9.9";

/** A trading request the exchange accepted: which key, when, and the world's sequence number then. */
export interface AcceptedTrade {
  account: string;
  keyId: string;
  at: number;
  seq: number;
}

export class World {
  readonly rng: Rng;
  readonly raw: Raw;
  readonly trace = new Trace(Number(process.env.SIM_TAIL ?? 40));
  readonly sched: Scheduler;
  readonly profile: FaultProfile;
  faultsOn = true;
  readonly faults: Partial<Record<FaultKind, number>> = {};
  readonly violations: Violation[] = [];
  readonly ignored = new Set<string>();
  readonly secretIds: string[] = [];
  readonly accountOf = new Map<string, string>();
  /** The cache TTL the secret's consumers are registered with (the overlap covers it). */
  readonly cacheTtlOf = new Map<string, number>();
  readonly consumers: ConsumerSpec[] = [];
  /**
   * How the seed's keys are bound to IPs (drawn in `populate`): unbound; bound with keyshift's
   * egress on the binding; bound without it ("lacking"); or bound while keyshift has no fixed egress
   * and calls from an address no binding names. The in-memory exchange enforces bindings against
   * its `callerAddress`, the truth the I10 oracle judges by.
   */
  binding: "unbound" | "bound" | "lacking" | "no-egress" = "unbound";
  /** Task retries the state machine made, by error name. */
  readonly stateRetries: Record<string, number> = {};
  /** CreateNext refusals for a binding that lacks the egress (`EgressNotBoundError`). */
  egressRefusals = 0;
  /** keyshift's configured egress (`Deps.egressIps`), when the seed deploys one. */
  egressIps: string[] | undefined;
  /**
   * What the exchange saw, as the world knows it (issue 20): every request an instance made, per
   * secret × key × hour — the exchange side the misuse oracle hands the detector.
   */
  readonly exchangeSeen = new Map<string, ExchangeActivity>();

  /** The world's own record of one request with `keyId` (never asks the code under test). */
  sawRequest(secretId: string, account: string, keyId: string, atMs: number): void {
    const hour = Math.floor(atMs / 3_600_000);
    const key = `${secretId}|${keyId}|${hour}`;
    const row = this.exchangeSeen.get(key) ?? {
      hour,
      account,
      secretId,
      keyId,
      endpointClass: "spot",
      count: 0,
    };
    row.count += 1;
    this.exchangeSeen.set(key, row);
  }

  /**
   * The attacker (issue 20, `attacker.ts`): the keys it copied, and every trading request it signed
   * that the exchange accepted — the world's own record, never read from the code under test.
   */
  attacker = false;
  readonly stolen: StolenKey[] = [];
  readonly attackerUses: AttackerUse[] = [];
  /**
   * Entry id → when the world saw it move from `restoring`/`restored` into a retired status (the
   * key back in service until then): the retired-use oracle's own record, from the snapshots.
   */
  readonly reRetiredAt = new Map<string, number>();
  /** The same move's lower bound: the last snapshot that still showed the key back in service. */
  readonly reRetiredAfter = new Map<string, number>();
  /** Every trading request the exchange accepted (instances' and the attacker's), in order. */
  readonly acceptedTrades: AcceptedTrade[] = [];
  /** Each hourly misuse run: what the world saw before, during and after it (`misuse-hourly.ts`). */
  readonly misuseRuns: MisuseRunRecord[] = [];

  /**
   * A trading request signed by `key` (an instance's or the attacker's), from a host inside any IP
   * binding — bindings are keyshift's egress question, not the traders'. True when the exchange
   * accepted it (and so recorded the key's last use); false when the key no longer authenticates.
   */
  trade(account: string, key: { keyId: string; secret: string }, at: Date): boolean {
    const exchange = this.raw.exchange;
    const caller = exchange.callerAddress;
    exchange.callerAddress = undefined;
    try {
      exchange.useKey(account, key, at);
      this.acceptedTrades.push({ account, keyId: key.keyId, at: at.getTime(), seq: this.truth.tick() });
      return true;
    } catch {
      return false;
    } finally {
      exchange.callerAddress = caller;
    }
  }

  /** Every secret the world knows (exchange key secrets, the admin secret): I7 scans for them. */
  readonly knownSecrets: string[] = [];
  /** Keys that ever carried AWSCURRENT: a never-promoted key is exempt from the gate (not the labels). */
  readonly everCurrent = new Set<string>();
  /** Keys a removeKey answered "not found" for without removing (the lie), to explain an orphan. */
  readonly liedAbout = new Set<string>();
  /** rotationId → secretId, so a key found by its label can be tied to its secret. */
  readonly rotationSecret = new Map<string, string>();
  /** The world's own record the oracles judge by (instances, break-glass, exchange effects). */
  readonly truth = new Truth();
  /**
   * Manual key management (issue 17), drawn from its own stream so the seeds without a manual account
   * replay exactly as before: whether the world has one, how long a waiting state waits
   * (`manualTaskSeconds`), the tokens of `.waitForTaskToken` states.
   */
  readonly manualRng: Rng;
  hasManual = false;
  manualTaskSeconds = 3600;
  readonly tokens: SimTaskTokens;
  readonly manual = new ManualRecord();
  operatorCommands = 0;
  /** Operator commands issued, by kind (refused and failed ones included), and those that succeeded. */
  readonly commandsByKind: Partial<Record<CommandKind, number>> = {};
  readonly commandsOkByKind: Partial<Record<CommandKind, number>> = {};
  /** `audit verify` outcomes (a break with nothing tampered is an I8 violation). */
  readonly auditVerify = { ok: 0, broken: 0, failed: 0 };
  /** Instance rows deleted as DynamoDB TTL would (rows whose `expectedBy` is past by this much). */
  readonly instanceTtlSeconds: number;
  instanceRowsExpired = 0;
  /** How far the incident scenario got: emergency started, parked, rolled back, resumed. */
  readonly incident = { started: 0, parked: 0, rolledBack: 0, resumed: 0 };
  /** How far the stuck-consumer incident got (see stuck-incident.ts). */
  readonly stuckIncidents = { started: 0, disabled: 0, restored: 0 };
  /** Lock markers held by operator commands still running (I4: such a lock is alive, not leaked). */
  readonly operatorLocks = new Set<string>();
  /**
   * Secrets for which a registry command (register, remove, re-enroll, sync) failed: its operator
   * was told so and re-runs a sync before the end — even if another command succeeded since, whose
   * own sync may have finished before the failed one wrote (the read policy must equal the registry
   * then).
   */
  readonly syncOwed = new Set<string>();
  /** Operator commands still running (a slow call may outlive the chaos): quiescence waits for them. */
  commandsInFlight = 0;
  /** Quiescence: the chaos fleet is replaced by one fresh instance per registered consumer. */
  quiescing = false;
  /** Virtual ms until which the exchange answers 503 to everyone (0: up). */
  exchangeDownUntil = 0;
  /** Virtual ms until which DynamoDB throttles everyone (0: up). */
  dynamoDownUntil = 0;
  tasksInFlight = 0;
  readonly lagSecrets: LaggingSecrets;
  readonly lagLedger: LaggingLedgerIndex;
  readonly env: PortEnv;
  hooks: {
    before: PortEnv["before"];
    after: PortEnv["after"];
  } = { before: async () => undefined, after: async () => undefined };

  constructor(readonly seed: number) {
    this.rng = new Rng(seed);
    const clock = new FakeClock();
    const keyRng = this.rng.fork("keys");
    const store = new InMemoryRotationStore();
    const secrets = new InMemorySecretStore();
    this.raw = {
      clock,
      store,
      secrets,
      exchange: new InMemoryExchange(() => `sk_${keyRng.hex(48)}`),
      consumers: new InMemoryConsumerRegistry(),
      ledger: new InMemoryRevocationLedger(),
      audit: new InMemoryAuditLog(clock),
      alerts: new InMemoryAlerts(),
      // Bound to the secrets, as Secrets Manager is: a policy call on a missing secret is refused.
      policies: new InMemorySecretPolicyStore(secrets),
      usage: new InMemoryUsageStore(),
      tasks: new InMemoryManualTasks(),
    };
    this.profile = drawProfile(this.rng.fork("profile"));
    this.sched = new Scheduler(this.rng.fork("schedule"), clock, this.trace);
    // Not a fork of `rng` (a fork draws from its parent): seeds without a manual account stay as they were.
    this.manualRng = new Rng((seed * 0x9e3779b1) ^ 0x6d616e75);
    this.tokens = new SimTaskTokens(this.manualRng.fork("tokens"), this.sched, () => clock.now().getTime());
    const faultRng = this.rng.fork("faults");
    const lagRng = this.rng.fork("lag");
    this.lagSecrets = new LaggingSecrets(
      this.raw.secrets,
      clock,
      lagRng,
      () => this.liveProfile(),
      (w) => this.sched.log("lag", w),
    );
    this.lagLedger = new LaggingLedgerIndex(this.raw.ledger, clock, lagRng, () => this.liveProfile());
    this.knownSecrets.push(`adm_${keyRng.hex(40)}`);
    this.instanceTtlSeconds = this.rng.fork("ttl").pick([300, 900, 3600]);
    this.env = {
      rng: faultRng,
      profile: () => this.liveProfile(),
      point: (a, w) => this.sched.point(a, w),
      sleep: (a, s, w) => this.sched.sleep(a, s, w),
      log: (a, w) => this.sched.log(a, w),
      countFault: (k) => {
        this.faults[k] = (this.faults[k] ?? 0) + 1;
      },
      exchangeDown: () => this.raw.clock.now().getTime() < this.exchangeDownUntil,
      dynamoDown: () => this.raw.clock.now().getTime() < this.dynamoDownUntil,
      before: (...args) => this.hooks.before(...args),
      after: async (...args) => {
        const [port, method, callArgs, , ctx] = args;
        if (port === "lock" && method === "acquire" && ctx.operatorLocks) {
          ctx.operatorLocks.add(String(callArgs[1]));
          this.operatorLocks.add(String(callArgs[1]));
        }
        // The specs follow the registry at the very write, so no checker sees a stale `required`.
        if (port === "consumers" && (method === "register" || method === "deregister"))
          await this.syncSpecs();
        await this.hooks.after(...args);
      },
      view: (port, method) => {
        if (port === "secrets" && method === "listVersions") return this.lagSecrets.listVersions;
        if (port === "secrets" && method === "getValue") return this.lagSecrets.getValue;
        if (port === "ledger" && method === "listDue") return this.lagLedger.listDue;
        return undefined;
      },
    };
  }

  /** At quiescence the world is calm: no faults, no lag. */
  liveProfile(): FaultProfile {
    return this.faultsOn
      ? this.profile
      : {
          portRate: 0,
          taskCrashRate: 0,
          secretsLagSeconds: 0,
          secretsLagChance: 0,
          ledgerLagSeconds: 0,
          lieRate: 0,
          auditAfterEffectRate: 0,
        };
  }

  /** Ports as one invocation sees them: every call scheduled and exposed to faults. */
  depsFor(
    ctx: CallContext,
  ): Deps & ReadPolicyDeps & { usage: UsageStore } & Pick<ManualDeps, "tasks" | "callbacks"> {
    const wrap = <T extends object>(port: PortName, target: T) => wrapPort(port, target, this.env, ctx);
    const r = this.raw;
    const jitter = this.rng.fork(`jitter:${ctx.actor}`);
    return {
      secrets: wrap("secrets", r.secrets),
      store: wrap("store", r.store),
      lock: wrap("lock", r.store),
      consumers: wrap("consumers", r.consumers),
      ledger: wrap("ledger", r.ledger),
      exchange: wrap("exchange", r.exchange),
      audit: wrap("audit", r.audit),
      alerts: wrap("alerts", r.alerts),
      policies: wrap("secrets", r.policies),
      // Usage items live in the consumers table: the same port, the same faults.
      usage: wrap("consumers", r.usage),
      tasks: wrap("tasks", r.tasks),
      callbacks: wrap("callbacks", new SimTaskCallbacks(this.tokens, ctx.actor)),
      keyshiftReaders: SIM_KEYSHIFT_READERS,
      clock: r.clock,
      revocation: { baseSeconds: 60, capSeconds: 1800, maxAttempts: 4, random: () => jitter.next() },
      ...(this.egressIps ? { egressIps: this.egressIps } : {}),
    };
  }

  context(actor: string, extra: Partial<CallContext> = {}): CallContext {
    return { actor, calls: 0, faultsOn: this.faultsOn, ...extra };
  }

  private serial = 0;
  /** Names for things the operator adds (consumers, principals, instances): per world, so replays match. */
  nextSerial(): number {
    this.serial += 1;
    return this.serial;
  }

  countCommand(kind: CommandKind, ok = false): void {
    const into = ok ? this.commandsOkByKind : this.commandsByKind;
    into[kind] = (into[kind] ?? 0) + 1;
  }

  /** Whether an instance of `spec` must stop (removed consumer, or the fleet redeployed at quiescence). */
  instanceStopped(spec: ConsumerSpec, instanceId: string): boolean {
    if (this.quiescing && !instanceId.startsWith("q")) return true;
    return !spec.registered && spec.forgotten !== instanceId;
  }

  /**
   * Brings `consumers` in step with the registry (raw, no scheduling point): registration changes,
   * removals, and consumers registered by an operator command (added with no instance yet).
   */
  async syncSpecs(): Promise<void> {
    for (const secretId of this.secretIds) {
      const registered = await this.raw.consumers.listConsumers(secretId);
      for (const reg of registered) {
        if (this.consumers.some((c) => c.secretId === secretId && c.consumerId === reg.consumerId)) continue;
        this.consumers.push({
          secretId,
          consumerId: reg.consumerId,
          callerArn: sessionArn(reg.principalArn),
          heartbeatIntervalSeconds: reg.heartbeatIntervalSeconds,
          instances: 0,
          required: reg.required,
          registered: true,
          principalArn: reg.principalArn,
          cacheTtlSeconds: reg.cacheTtlSeconds,
        });
      }
      for (const spec of this.consumers.filter((c) => c.secretId === secretId)) {
        const reg = registered.find((r) => r.consumerId === spec.consumerId);
        spec.registered = Boolean(reg);
        spec.required = Boolean(reg?.required);
        if (!reg) continue;
        spec.principalArn = reg.principalArn;
        spec.cacheTtlSeconds = reg.cacheTtlSeconds;
        spec.heartbeatIntervalSeconds = reg.heartbeatIntervalSeconds;
      }
    }
  }

  /** The seed's IP-binding world (its own fork: drawing it moves no other draw of a seed). */
  private drawBinding(): string[] | undefined {
    this.binding = this.rng
      .fork("binding")
      .weighted({ unbound: 5, bound: 3, lacking: 1, "no-egress": 1 } as const);
    if (this.binding === "unbound") return undefined;
    this.raw.exchange.callerAddress = this.binding === "no-egress" ? SIM_LAMBDA_ADDRESS : SIM_EGRESS_IP;
    if (this.binding !== "no-egress") this.egressIps = [SIM_EGRESS_IP];
    return this.binding === "lacking" ? [...SIM_BINDING_WITHOUT_EGRESS] : [...SIM_BINDING_WITH_EGRESS];
  }

  violate(v: Violation): void {
    if (this.ignored.has(v.signature)) return;
    this.violations.push(v);
    this.sched.log("CHECK", `VIOLATION ${v.invariant}: ${v.message}`);
  }

  /** Enrolls 1–2 secrets (the second on the same exchange account), some worlds a manual one, and registers consumers. */
  async populate(): Promise<void> {
    const setup = this.rng.fork("setup");
    const r = this.raw;
    const twoSecrets = setup.chance(0.3);
    const account = "acct-1";
    r.exchange.addAccount(account, twoSecrets ? setup.pick([4, 5]) : setup.pick([2, 2, 3]));
    // Half the seeds run on an exchange with two-stage revocation where disabled keys count
    // against the limit (Deribit's rules), with a grace the quiescence can outwait.
    const twoStage = setup.chance(0.5);
    if (twoStage)
      r.exchange.capabilitiesValue = { exchange: "fake-two-stage", disable: true, limitCounts: "all" };
    const removeAfterSeconds = twoStage ? setup.pick([0, 600, 3600]) : undefined;
    const ipAllowlist = this.drawBinding();
    for (let s = 1; s <= (twoSecrets ? 2 : 1); s++)
      await this.enrollOne(s, `keyshift/sim/s${s}`, account, setup, { ipAllowlist, removeAfterSeconds });
    // Some worlds also hold a secret on a manual account (its own stream: the others draw as before).
    if (this.manualRng.chance(0.5)) {
      this.hasManual = true;
      this.manualTaskSeconds = this.manualRng.pick([900, 1800, 3600, 7200]);
      r.exchange.addManualAccount(SIM_MANUAL_ACCOUNT, this.manualRng.pick([3, 5]));
      await this.enrollOne(9, "keyshift/sim/m1", SIM_MANUAL_ACCOUNT, this.manualRng.fork("setup"), {});
    }
  }

  /** One enrolled secret on `account` with its consumers (`c<s><n>`), drawn from `setup`. */
  private async enrollOne(
    s: number,
    secretId: string,
    account: string,
    setup: Rng,
    opts: { ipAllowlist?: string[] | undefined; removeAfterSeconds?: number | undefined },
  ): Promise<void> {
    const r = this.raw;
    const deps = { ...r, lock: r.store, clock: r.clock, keyshiftReaders: SIM_KEYSHIFT_READERS };
    const { ipAllowlist, removeAfterSeconds } = opts;
    const permissions = ["read", "trade"];
    const key = r.exchange.seedKey(account, {
      label: "initial",
      permissions,
      ...(ipAllowlist ? { ipAllowlist } : {}),
    });
    this.knownSecrets.push(key.secret);
    r.secrets.create(
      secretId,
      JSON.stringify({ account, keyId: key.keyId, secret: key.secret, permissions }),
    );
    // Server-driven heartbeats: the overlap covers the idle interval and the cache TTL (enrollment
    // refuses less), the grace is what a heartbeat may be late by.
    const idleHeartbeatSeconds = setup.pick([30, 60, 120, 300]);
    const cacheTtlSeconds = setup.pick([30, 120, 300]);
    await enrollSecret(
      {
        secretId,
        exchangeAccount: account,
        minOverlapSeconds: Math.max(idleHeartbeatSeconds, cacheTtlSeconds) + setup.pick([0, 60, 300]),
        deadlineSeconds: setup.pick([900, 3600, 7200]),
        pollIntervalSeconds: 30,
        maxPollIntervalSeconds: setup.pick([120, 300]),
        livenessMultiplier: 3,
        ...(removeAfterSeconds !== undefined ? { removeAfterSeconds } : {}),
        idleHeartbeatSeconds,
        activeHeartbeatSeconds: setup.pick([5, 10, 30]),
        livenessGraceSeconds: setup.pick([10, 30]),
      },
      "operator:sim",
      deps,
    );
    this.cacheTtlOf.set(secretId, cacheTtlSeconds);
    this.secretIds.push(secretId);
    this.accountOf.set(secretId, account);
    const count = setup.range(2, 3);
    for (let c = 1; c <= count; c++) {
      const consumerId = `c${s}${c}`;
      const spec: ConsumerSpec = {
        secretId,
        consumerId,
        callerArn: sessionArn(roleArn(consumerId)),
        heartbeatIntervalSeconds: setup.pick([30, 60, 120]),
        instances: setup.range(1, 3),
        required: setup.chance(0.85),
        registered: true,
        principalArn: roleArn(consumerId),
        cacheTtlSeconds: this.cacheTtlOf.get(secretId) ?? 300,
      };
      await registerConsumer(
        {
          secretId,
          consumerId,
          principalArn: spec.principalArn,
          cacheTtlSeconds: this.cacheTtlOf.get(secretId) ?? 300,
          heartbeatIntervalSeconds: spec.heartbeatIntervalSeconds,
          required: spec.required,
        },
        "operator:sim",
        deps,
      );
      this.consumers.push(spec);
    }
  }

  accountKeys(account: string): ExchangeKey[] {
    return this.raw.exchange.snapshot(account).keys;
  }
}
