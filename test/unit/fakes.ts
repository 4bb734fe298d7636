/**
 * The in-memory adapters of every port (harness/memory), wired like the composition root, plus
 * arrange helpers so unit tests read arrange / act / assert. The adapters pass the same contract
 * suites as the production ones (test/contract/ports/); see also `support/`.
 */

import {
  FakeClock,
  InMemoryAlerts,
  InMemoryAuditLog,
  InMemoryConsumerRegistry,
  InMemoryExchange,
  InMemoryReaderAlertLog,
  InMemoryReadHistory,
  InMemoryRevocationLedger,
  InMemoryRotationStore,
  InMemorySecretPolicyStore,
  InMemorySecretStore,
  TEST_KEYSHIFT_READER,
} from "../../harness/memory";
import type { Deps } from "../../src/core/deps";
import { fingerprint } from "../../src/core/fingerprint";
import type { SecretSettings } from "../../src/core/model";
import { enrollSecret, registerConsumer } from "../../src/core/operator/operator";
import type { ReadPolicyDeps } from "../../src/core/read-policy/sync";

export {
  type ExchangeCall,
  FakeClock,
  InMemoryAlerts,
  InMemoryAuditLog,
  InMemoryConsumerRegistry,
  InMemoryExchange,
  InMemoryReaderAlertLog,
  InMemoryRevocationLedger,
  InMemoryRotationStore,
  InMemorySecretPolicyStore,
  InMemorySecretStore,
  type StageMoveCall,
  TEST_KEYSHIFT_READER,
} from "../../harness/memory";
export { awsError, type ErrorClass, Faults } from "../../harness/memory/faults";

export interface FakeDeps extends Deps, ReadPolicyDeps {
  secrets: InMemorySecretStore;
  policies: InMemorySecretPolicyStore;
  readerAlerts: InMemoryReaderAlertLog;
  readHistory: InMemoryReadHistory;
  store: InMemoryRotationStore;
  lock: InMemoryRotationStore;
  consumers: InMemoryConsumerRegistry;
  ledger: InMemoryRevocationLedger;
  exchange: InMemoryExchange;
  audit: InMemoryAuditLog;
  alerts: InMemoryAlerts;
  clock: FakeClock;
}

/** Sweeper policy for tests: deterministic jitter (random = 0.5 → 3/4 of the ceiling). */
export const TEST_REVOCATION = { baseSeconds: 60, capSeconds: 3600, maxAttempts: 5, random: () => 0.5 };

export function makeDeps(
  overrides: { revocation?: Partial<Deps["revocation"]>; start?: string } = {},
): FakeDeps {
  const clock = new FakeClock(overrides.start);
  const store = new InMemoryRotationStore();
  const secrets = new InMemorySecretStore();
  return {
    secrets,
    store,
    lock: store,
    consumers: new InMemoryConsumerRegistry(),
    policies: new InMemorySecretPolicyStore(secrets),
    keyshiftReaders: [TEST_KEYSHIFT_READER],
    readerAlerts: new InMemoryReaderAlertLog(),
    readHistory: new InMemoryReadHistory(),
    ledger: new InMemoryRevocationLedger(),
    exchange: new InMemoryExchange(),
    audit: new InMemoryAuditLog(clock),
    alerts: new InMemoryAlerts(),
    clock,
    revocation: { ...TEST_REVOCATION, ...overrides.revocation },
  };
}

/** Enrollment settings the tests start from: 5 min overlap, 1 day deadline, 30 s → 15 min polls. */
export const DEFAULT_SETTINGS: Omit<SecretSettings, "secretId" | "exchangeAccount" | "enrolledAt"> = {
  minOverlapSeconds: 300,
  deadlineSeconds: 86_400,
  pollIntervalSeconds: 30,
  maxPollIntervalSeconds: 900,
  livenessMultiplier: 3,
};

/**
 * The shortest overlap enrollment accepts (it must cover the idle heartbeat interval): one second,
 * with one-second heartbeats. A gate decision needs the fake clock one second past promotion.
 */
export const TINY_OVERLAP: Partial<SecretSettings> = {
  minOverlapSeconds: 1,
  idleHeartbeatSeconds: 1,
  activeHeartbeatSeconds: 1,
};

export interface SeededSecret {
  secretId: string;
  account: string;
  settings: SecretSettings;
  versionId: string;
  keyId: string;
  /** The stored value (JSON with the key secret): tests only, never to be seen in outputs. */
  value: string;
  keySecret: string;
  fingerprint: string;
  permissions: string[];
}

/**
 * Enrolls a secret with a first exchange key: the account (2 active keys unless told), the key,
 * the secret's AWSCURRENT version, and `enrollSecret` itself (settings + recorded fingerprint).
 */
export async function seedSecret(
  deps: FakeDeps,
  opts: {
    secretId?: string;
    account?: string;
    maxActiveKeys?: number;
    settings?: Partial<SecretSettings>;
  } = {},
): Promise<SeededSecret> {
  const secretId = opts.secretId ?? "keyshift/binance/main";
  const account = opts.account ?? "acct-main";
  const permissions = ["read", "trade"];
  deps.exchange.addAccount(account, opts.maxActiveKeys ?? 2);
  const key = deps.exchange.seedKey(account, { label: "initial", permissions });
  const value = JSON.stringify({ account, keyId: key.keyId, secret: key.secret, permissions });
  const versionId = deps.secrets.create(secretId, value);
  const settings = await enrollSecret(
    { ...DEFAULT_SETTINGS, ...opts.settings, secretId, exchangeAccount: account },
    "operator:test",
    deps,
  );
  return {
    secretId,
    account,
    settings,
    versionId,
    keyId: key.keyId,
    value,
    keySecret: key.secret,
    fingerprint: fingerprint(value),
    permissions,
  };
}

export interface SeededConsumer {
  consumerId: string;
  /** What API Gateway reports for the consumer's Lambda/ECS task: an assumed-role session. */
  callerArn: string;
}

/** Registers a consumer whose role is `arn:aws:iam::123456789012:role/<path><consumerId>`. */
export async function addConsumer(
  deps: FakeDeps,
  secretId: string,
  consumerId: string,
  opts: { required?: boolean; heartbeatIntervalSeconds?: number; path?: string } = {},
): Promise<SeededConsumer> {
  await registerConsumer(
    {
      secretId,
      consumerId,
      principalArn: `arn:aws:iam::123456789012:role/${opts.path ?? ""}${consumerId}`,
      cacheTtlSeconds: 300,
      heartbeatIntervalSeconds: opts.heartbeatIntervalSeconds ?? 60,
      required: opts.required ?? true,
    },
    "operator:test",
    deps,
  );
  return { consumerId, callerArn: `arn:aws:sts::123456789012:assumed-role/${consumerId}/session-1` };
}

/** Deribit's rules: keys can be disabled and enabled, and disabled keys count against the limit. */
export const TWO_STAGE = { exchange: "fake-deribit", disable: true, limitCounts: "all" } as const;
