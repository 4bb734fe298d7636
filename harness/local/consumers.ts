import { type GetSecretValueCommandOutput, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  type Consumer,
  type ConsumerLogger,
  createConsumer,
  type SecretsManagerLike,
} from "../../packages/consumer/src";
import { fetchFrom } from "./exchange/caller-address";
import {
  type LocalExchange,
  type LocalExchangeName,
  type TradingCredential,
  tradingCredential,
} from "./exchanges";
import type { LocalStack } from "./stack";

export interface SimulatedConsumerSpec {
  consumerId: string;
  roleArn: string;
  secretId: string;
  instances: number;
  /** How long an instance keeps the secret cached before reading Secrets Manager again. */
  cacheTtlMs: number;
  /** How often it trades, and the longest it waits between heartbeats (the server may ask for sooner). */
  heartbeatMs: number;
  /** Never refreshes its cache, even when told `stale` (the `--lagging-consumer` case). */
  stuck?: boolean;
  /** The exchange it trades on, in that exchange's protocol (default keyshift's test protocol). */
  exchange?: LocalExchangeName;
}

export interface InstanceState {
  consumerId: string;
  instanceId: string;
  /** The fingerprint of the key the instance holds. */
  fingerprint?: string;
  lastStatus?: string;
  heartbeats: number;
  tradesOk: number;
  tradesRejected: number;
}

/**
 * A simulated trading service instance, written the way a real one joins keyshift: a consumer from
 * the SDK (`packages/consumer`, what services install as `@keyshift/consumer`) holds the key and heartbeats
 * with the instance's own role credentials; the instance only trades with whatever key the consumer
 * hands it. What is simulated here is the trading traffic and, for `stuck`, a broken refresh path.
 */
export class SimulatedInstance {
  readonly consumer: Consumer;
  private readonly spec: SimulatedConsumerSpec;
  private readonly instanceId: string;
  private readonly exchange: LocalExchange;
  private readonly stack: LocalStack;
  private readonly trades = { ok: 0, rejected: 0 };
  private readonly sm?: SecretsManagerClient;
  private timer?: NodeJS.Timeout;
  private trading?: Promise<void>;

  constructor(stack: LocalStack, spec: SimulatedConsumerSpec, instanceId: string, logger = jsonLogger) {
    this.spec = spec;
    this.stack = stack;
    this.instanceId = instanceId;
    this.exchange = stack.exchanges[spec.exchange ?? "keyshift-sim"];
    const credentials = stack.iam.assumeRole(spec.roleArn, instanceId);
    if (spec.stuck) {
      this.sm = new SecretsManagerClient({
        region: stack.region,
        endpoint: stack.endpoints.secretsManager,
        credentials,
      });
    }
    this.consumer = createConsumer({
      secretId: spec.secretId,
      endpoint: new URL("/heartbeats", stack.endpoints.heartbeatApi).href,
      region: stack.region,
      credentials,
      instanceId,
      // A trading service runs on a consumer host, not behind keyshift's egress.
      fetchImpl: fetchFrom(stack.callers.consumerHost),
      cacheTtlSeconds: spec.cacheTtlMs / 1000,
      maxHeartbeatIntervalSeconds: spec.heartbeatMs / 1000,
      ...(this.sm
        ? { secretsManagerClient: firstReadForever(this.sm) }
        : { secretsManagerEndpoint: stack.endpoints.secretsManager }),
      logger,
    });
  }

  get state(): InstanceState {
    const s = this.consumer.status();
    const failing = s.consecutiveErrors > 0 && s.lastError?.httpStatus !== undefined;
    return {
      consumerId: this.spec.consumerId,
      instanceId: this.instanceId,
      fingerprint: s.fingerprint,
      lastStatus: failing ? `http-${s.lastError?.httpStatus}` : s.lastHeartbeat?.status,
      heartbeats: s.heartbeats,
      tradesOk: this.trades.ok,
      tradesRejected: this.trades.rejected,
    };
  }

  /** Trades on its own interval; the consumer heartbeats on the server's. */
  start(): void {
    this.timer = setInterval(() => void this.trade(), this.spec.heartbeatMs);
  }

  /** One heartbeat (loading the key first if needed), then one trade. */
  async tick(): Promise<void> {
    await this.consumer.heartbeatNow();
    await this.trade();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.trading;
    await this.consumer.stop();
    this.sm?.destroy();
  }

  /** A trade with the key the consumer holds; trades never overlap. */
  private trade(): Promise<void> {
    this.trading ??= this.placeOrder().finally(() => {
      this.trading = undefined;
    });
    return this.trading;
  }

  private async placeOrder(): Promise<void> {
    try {
      const key = JSON.parse(await this.consumer.getSecret()) as TradingCredential;
      const from = this.stack.callers.consumerHost;
      const ok = await this.exchange.trade(tradingCredential(key), from);
      // The one-line hook a real service adds (issue 20): the exchange answered, so it counts. The
      // trade is the simulators' account read; a refusal's reason is not told apart here.
      this.consumer.recordUsage("account");
      if (ok) this.trades.ok += 1;
      else {
        this.trades.rejected += 1;
        this.consumer.recordAuthFailure("other");
      }
    } catch {
      // A failed trade is retried on the next one, like a real service would.
    }
  }
}

/** A Secrets Manager whose answer never changes after the first read: a service that cannot refresh. */
function firstReadForever(client: SecretsManagerClient): SecretsManagerLike {
  let first: Promise<GetSecretValueCommandOutput> | undefined;
  return {
    send: (command) => {
      first ??= client.send(command).catch((err: unknown) => {
        first = undefined;
        throw err;
      });
      return first;
    },
  };
}

/**
 * The SDK's log lines as JSON on stdout, shaped like the handlers' (`"service":"keyshift"`), so the
 * secret scan of `npm start` and the workflow tests covers what consumers log too.
 */
const jsonLogger: ConsumerLogger = (() => {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    process.stdout.write(
      `${JSON.stringify({ level, service: "keyshift", component: "consumer", message, ...fields })}\n`,
    );
  };
  return { debug: () => undefined, info: write("INFO"), warn: write("WARN"), error: write("ERROR") };
})();

export class SimulatedFleet {
  readonly instances: SimulatedInstance[];

  constructor(stack: LocalStack, specs: SimulatedConsumerSpec[]) {
    this.instances = specs.flatMap((spec) =>
      Array.from(
        { length: spec.instances },
        (_, i) => new SimulatedInstance(stack, spec, `${spec.consumerId}-${i + 1}`),
      ),
    );
  }

  /** First heartbeat from every instance, then each on its own interval. */
  async start(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.tick()));
    for (const i of this.instances) i.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.stop()));
  }

  states(): InstanceState[] {
    return this.instances.map((i) => i.state);
  }
}
