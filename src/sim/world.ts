/**
 * The simulated world: the unit tests' in-memory fakes (one per port), seeded with 1–2 enrolled
 * secrets and a few consumers, plus everything the checkers need to remember (which keys were ever
 * current, which rotation a key label belongs to, every secret value to scan for).
 */

import { FakeExchange } from "../../test/unit/support/fake-exchange";
import { FakeSecretPolicyStore } from "../../test/unit/support/fake-read-policy";
import { FakeSecretStore } from "../../test/unit/support/fake-secret-store";
import {
  FakeAlerts,
  FakeAuditLog,
  FakeClock,
  FakeConsumerRegistry,
  FakeRevocationLedger,
  FakeRotationStore,
} from "../../test/unit/support/fake-tables";
import type { ExchangeKey } from "../core/ports";
import type { Deps } from "../core/use-cases/deps";
import { enrollSecret, registerConsumer } from "../core/use-cases/operator";
import type { ReadPolicyDeps } from "../core/use-cases/read-policy";
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
import { Rng } from "./rng";
import { Scheduler, Trace } from "./scheduler";
import { Truth } from "./truth";

export interface ConsumerSpec {
  secretId: string;
  consumerId: string;
  callerArn: string;
  heartbeatIntervalSeconds: number;
  instances: number;
  /** The gate waits only for required consumers: I6 speaks for them alone. */
  required: boolean;
}

export interface Violation {
  invariant: string;
  /** Short, stable text used to group the same bug across seeds. */
  signature: string;
  message: string;
}

export interface Raw {
  clock: FakeClock;
  store: FakeRotationStore;
  secrets: FakeSecretStore;
  exchange: FakeExchange;
  consumers: FakeConsumerRegistry;
  ledger: FakeRevocationLedger;
  audit: FakeAuditLog;
  alerts: FakeAlerts;
  /** Resource policies: a Secrets Manager call like any other (wrapped as the `secrets` port). */
  policies: FakeSecretPolicyStore;
}

/** CreateNext's role in the simulated account: the read policies keep it a reader. */
const SIM_KEYSHIFT_READERS = ["arn:aws:iam::123456789012:role/keyshift-sim-createNext"];

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
  operatorCommands = 0;
  /** Virtual ms until which the exchange answers 503 to everyone (0: up). */
  exchangeDownUntil = 0;
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
    const store = new FakeRotationStore();
    this.raw = {
      clock,
      store,
      secrets: new FakeSecretStore(),
      exchange: new FakeExchange(() => `sk_${keyRng.hex(48)}`),
      consumers: new FakeConsumerRegistry(),
      ledger: new FakeRevocationLedger(),
      audit: new FakeAuditLog(clock),
      alerts: new FakeAlerts(),
      policies: new FakeSecretPolicyStore(),
    };
    this.profile = drawProfile(this.rng.fork("profile"));
    this.sched = new Scheduler(this.rng.fork("schedule"), clock, this.trace);
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
      before: (...args) => this.hooks.before(...args),
      after: (...args) => this.hooks.after(...args),
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
        };
  }

  /** Ports as one invocation sees them: every call scheduled and exposed to faults. */
  depsFor(ctx: CallContext): Deps & ReadPolicyDeps {
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
      keyshiftReaders: SIM_KEYSHIFT_READERS,
      clock: r.clock,
      revocation: { baseSeconds: 60, capSeconds: 1800, maxAttempts: 4, random: () => jitter.next() },
    };
  }

  context(actor: string, extra: Partial<CallContext> = {}): CallContext {
    return { actor, calls: 0, faultsOn: this.faultsOn, ...extra };
  }

  violate(v: Violation): void {
    if (this.ignored.has(v.signature)) return;
    this.violations.push(v);
    this.sched.log("CHECK", `VIOLATION ${v.invariant}: ${v.message}`);
  }

  /** Enrolls 1–2 secrets (the second on the same exchange account) and registers consumers. */
  async populate(): Promise<void> {
    const setup = this.rng.fork("setup");
    const r = this.raw;
    const deps = { ...r, lock: r.store, clock: r.clock, keyshiftReaders: SIM_KEYSHIFT_READERS };
    const twoSecrets = setup.chance(0.3);
    const account = "acct-1";
    r.exchange.addAccount(account, twoSecrets ? setup.pick([4, 5]) : setup.pick([2, 2, 3]));
    // Half the seeds run on an exchange with two-stage revocation where disabled keys count
    // against the limit (Deribit's rules), with a grace the quiescence can outwait.
    const twoStage = setup.chance(0.5);
    if (twoStage)
      r.exchange.capabilitiesValue = { exchange: "fake-two-stage", disable: true, limitCounts: "all" };
    const removeAfterSeconds = twoStage ? setup.pick([0, 600, 3600]) : undefined;
    for (let s = 1; s <= (twoSecrets ? 2 : 1); s++) {
      const secretId = `keyshift/sim/s${s}`;
      const permissions = ["read", "trade"];
      const key = r.exchange.seedKey(account, { label: "initial", permissions });
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
          callerArn: `arn:aws:sts::123456789012:assumed-role/${consumerId}/session`,
          heartbeatIntervalSeconds: setup.pick([30, 60, 120]),
          instances: setup.range(1, 3),
          required: setup.chance(0.85),
        };
        await registerConsumer(
          {
            secretId,
            consumerId,
            principalArn: `arn:aws:iam::123456789012:role/${consumerId}`,
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
  }

  accountKeys(account: string): ExchangeKey[] {
    return this.raw.exchange.snapshot(account).keys;
  }
}
