import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { signedFetch } from "../adapters/exchange/http-exchange";
import { fingerprint } from "../core/fingerprint";
import { signRequest } from "./sigv4";
import type { LocalStack } from "./stack";

export interface SimulatedConsumerSpec {
  consumerId: string;
  roleArn: string;
  secretId: string;
  instances: number;
  /** How long an instance keeps the secret cached before reading Secrets Manager again. */
  cacheTtlMs: number;
  heartbeatMs: number;
  /** Never refreshes its cache, even when told `stale` (the `--lagging-consumer` case). */
  stuck?: boolean;
}

export interface InstanceState {
  consumerId: string;
  instanceId: string;
  fingerprint?: string;
  lastStatus?: string;
  heartbeats: number;
  tradesOk: number;
  tradesRejected: number;
}

/**
 * A simulated trading service instance, as a real one would run: it reads its exchange key from
 * Secrets Manager (AWSCURRENT) and caches it for a TTL, computes the fingerprint with the exported
 * helper, heartbeats to the HTTP API signed with its own role's temporary credentials, refreshes at
 * once when told `stale`, and uses the key against the exchange like trading traffic.
 */
export class SimulatedInstance {
  readonly state: InstanceState;
  private cached?: { value: string; at: number };
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly sm: SecretsManagerClient;
  private readonly credentials;

  constructor(
    private readonly stack: LocalStack,
    private readonly spec: SimulatedConsumerSpec,
    instanceId: string,
  ) {
    this.state = { consumerId: spec.consumerId, instanceId, heartbeats: 0, tradesOk: 0, tradesRejected: 0 };
    this.credentials = stack.iam.assumeRole(spec.roleArn, instanceId);
    // It reads the key as itself: the secret's read policy lets registered consumers' roles through.
    this.sm = new SecretsManagerClient({
      region: stack.region,
      endpoint: stack.endpoints.secretsManager,
      credentials: this.credentials,
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.spec.heartbeatMs);
  }

  /** One heartbeat cycle; ticks never overlap. */
  tick(): Promise<void> {
    this.running ??= this.cycle().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    this.sm.destroy();
  }

  private async secretValue(forceRefresh: boolean): Promise<string> {
    const expired = !this.cached || Date.now() - this.cached.at > this.spec.cacheTtlMs;
    if (!this.cached || ((expired || forceRefresh) && !this.spec.stuck)) {
      const out = await this.sm.send(new GetSecretValueCommand({ SecretId: this.spec.secretId }));
      this.cached = { value: out.SecretString ?? "", at: Date.now() };
    }
    return this.cached.value;
  }

  private async cycle(): Promise<void> {
    try {
      let value = await this.secretValue(false);
      let status = await this.heartbeat(value);
      if (status === "stale" && !this.spec.stuck) {
        value = await this.secretValue(true);
        status = await this.heartbeat(value);
      }
      await this.trade(value);
    } catch {
      // A failed cycle is retried on the next tick, like a real service would.
    }
  }

  private async heartbeat(value: string): Promise<string | undefined> {
    const fp = fingerprint(value);
    this.state.fingerprint = fp;
    const url = new URL("/heartbeats", this.stack.endpoints.heartbeatApi);
    const body = JSON.stringify({
      secretId: this.spec.secretId,
      fingerprint: fp,
      instanceId: this.state.instanceId,
    });
    const headers = await signRequest(
      { method: "POST", url, headers: { "content-type": "application/json" }, body },
      this.credentials,
      this.stack.region,
    );
    const res = await fetch(url, { method: "POST", headers, body });
    const answer = (await res.json()) as { status?: string };
    this.state.heartbeats += 1;
    this.state.lastStatus = res.ok ? answer.status : `http-${res.status}`;
    return answer.status;
  }

  private async trade(value: string): Promise<void> {
    const key = JSON.parse(value) as { keyId: string; secret: string };
    const res = await signedFetch(
      { endpoint: this.stack.endpoints.exchange, keyId: key.keyId, secret: key.secret },
      "GET",
      "/v1/account",
    );
    await res.body?.cancel();
    if (res.ok) this.state.tradesOk += 1;
    else this.state.tradesRejected += 1;
  }
}

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
    return this.instances.map((i) => ({ ...i.state }));
  }
}
