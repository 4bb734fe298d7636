import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { loadConfig } from "../../src/commons/config";
import { type AppDeps, buildDeps } from "../../src/commons/deps";
import type { SecretSettings } from "../../src/core/model";
import { enrollSecret, registerConsumer } from "../../src/core/operator/operator";
import type { SimulatedConsumerSpec } from "./consumers";
import { type LocalExchangeName, type LocalIpBinding, UNBOUND } from "./exchanges";
import { ADMIN_SECRET_PREFIX, type LocalStack } from "./stack";

export const CONSUMER_ACCOUNT = "111122223333";

export interface Enrolled {
  secretId: string;
  account: string;
  deps: AppDeps;
  settings: SecretSettings;
}

/**
 * What an operator does once per exchange key, before enrolling: the account's admin credential and
 * the first key (made by hand on the exchange) go into Secrets Manager.
 */
export async function provisionLocalSecret(
  stack: LocalStack,
  opts: {
    account?: string;
    secretId?: string;
    exchange?: LocalExchangeName;
    /** The scope the secret declares for its key, when it is not what the exchange shows (tests). */
    declaredPermissions?: string[];
    /** How the admin key and the first trading key are bound to addresses (default unbound). */
    ipBinding?: LocalIpBinding;
  } = {},
): Promise<{ secretId: string; account: string }> {
  const account = opts.account ?? "acme-main";
  const secretId = opts.secretId ?? `keyshift/exchange/${account}/trading`;
  const exchange = stack.exchanges[opts.exchange ?? "keyshift-sim"];
  const binding = opts.ipBinding ?? UNBOUND;
  const admin = exchange.provisionAccount(account, binding.admin);
  const first = exchange.seedTradingKey(account, binding.trading);
  const sm = new SecretsManagerClient({ region: stack.region, endpoint: stack.endpoints.secretsManager });
  await sm.send(
    new CreateSecretCommand({
      Name: `${ADMIN_SECRET_PREFIX}${account}`,
      SecretString: JSON.stringify(admin),
    }),
  );
  await sm.send(
    new CreateSecretCommand({
      Name: secretId,
      SecretString: JSON.stringify({
        account,
        keyId: first.keyId,
        secret: first.secret,
        ...(first.passphrase !== undefined ? { passphrase: first.passphrase } : {}),
        permissions: opts.declaredPermissions ?? first.permissions,
        ...(binding.trading.length > 0 ? { ipAllowlist: binding.trading } : {}),
      }),
    }),
  );
  sm.destroy();
  return { secretId, account };
}

/** Provision, then enroll with settings that suit compressed local runs. */
export async function enrollLocalSecret(
  stack: LocalStack,
  opts: {
    account?: string;
    secretId?: string;
    exchange?: LocalExchangeName;
    declaredPermissions?: string[];
    ipBinding?: LocalIpBinding;
    settings?: Partial<SecretSettings>;
  } = {},
): Promise<Enrolled> {
  const { secretId, account } = await provisionLocalSecret(stack, opts);
  const deps = buildDeps(loadConfig());
  const settings = await enrollSecret(
    {
      secretId,
      exchangeAccount: account,
      minOverlapSeconds: 2,
      deadlineSeconds: 15,
      pollIntervalSeconds: 1,
      maxPollIntervalSeconds: 2,
      livenessMultiplier: 3,
      // Compressed like the rest: the overlap must cover the idle interval (enrollment checks).
      idleHeartbeatSeconds: 1,
      activeHeartbeatSeconds: 1,
      livenessGraceSeconds: 2,
      ...opts.settings,
    },
    "operator:local",
    deps,
  );
  return { secretId, account, deps, settings };
}

/** Default local fleet: consumers with different cache TTLs and heartbeat intervals. */
export function defaultConsumers(
  secretId: string,
  count = 3,
  laggingConsumer = false,
): SimulatedConsumerSpec[] {
  const shapes = [
    { consumerId: "trading-engine", cacheTtlMs: 3000, heartbeatMs: 400, instances: 2 },
    { consumerId: "market-data-gateway", cacheTtlMs: 1500, heartbeatMs: 250, instances: 2 },
    { consumerId: "risk-service", cacheTtlMs: 5000, heartbeatMs: 600, instances: 1 },
    { consumerId: "settlement", cacheTtlMs: 2000, heartbeatMs: 500, instances: 1 },
  ];
  return Array.from({ length: count }, (_, i) => {
    const shape = shapes[i % shapes.length] ?? shapes[0];
    const consumerId =
      i < shapes.length ? (shape?.consumerId ?? "consumer") : `${shape?.consumerId}-${i + 1}`;
    return {
      ...(shape as (typeof shapes)[number]),
      consumerId,
      secretId,
      roleArn: `arn:aws:iam::${CONSUMER_ACCOUNT}:role/trading/${consumerId}`,
      stuck: laggingConsumer && i === count - 1,
    };
  });
}

export async function registerConsumers(enrolled: Enrolled, specs: SimulatedConsumerSpec[]): Promise<void> {
  for (const spec of specs) {
    await registerConsumer(
      {
        secretId: enrolled.secretId,
        consumerId: spec.consumerId,
        principalArn: spec.roleArn,
        cacheTtlSeconds: Math.ceil(spec.cacheTtlMs / 1000),
        heartbeatIntervalSeconds: Math.max(1, Math.ceil(spec.heartbeatMs / 1000)),
        required: true,
      },
      "operator:local",
      enrolled.deps,
    );
  }
}
