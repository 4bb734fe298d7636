import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { verifyAuditTrail } from "../../src/core/audit/chain";
import { registerConsumer } from "../../src/core/operator/operator";
import type { LocalCredentials } from "../local/local-iam";
import type { Enrolled } from "../local/scenario";
import { signRequest } from "../local/sigv4";
import type { LocalStack } from "../local/stack";
import { round } from "./support";

const CONSUMERS = 10;

interface Instance {
  consumerId: string;
  instanceId: string;
  credentials: LocalCredentials;
}

/**
 * After a promotion every instance reports the new fingerprint within seconds, and each change is
 * audited. This drives `instances` signed heartbeats through the local front door (all handlers
 * concurrent in this process), spread over `windowMs`, while a rotation step appends to the
 * secret's own audit chain every 50 ms, and counts what failed: heartbeats answered 5xx (their
 * change not recorded: the consumer must retry), rotation-step appends that gave up, changes
 * audited, and whether every chain still verifies.
 */
export async function fleetSwitch(opts: {
  stack: LocalStack;
  enrolled: Enrolled;
  instances?: number;
  windowMs?: number;
  concurrency?: number;
  changesAudited: (secretId: string, to: string) => Promise<number>;
  chainsVerify: (secretId: string) => Promise<boolean>;
}) {
  const { stack, enrolled } = opts;
  const total = opts.instances ?? 1000;
  const windowMs = opts.windowMs ?? 5000;
  const secretId = enrolled.secretId;
  const fleet: Instance[] = [];
  for (let c = 0; c < CONSUMERS; c++) {
    const consumerId = `switch-${c}`;
    const roleArn = `arn:aws:iam::111122223333:role/${consumerId}`;
    await registerConsumer(
      {
        secretId,
        consumerId,
        principalArn: roleArn,
        cacheTtlSeconds: 1,
        heartbeatIntervalSeconds: 60,
        required: true,
      },
      "operator:bench",
      enrolled.deps,
    );
    for (let i = 0; i < total / CONSUMERS; i++) {
      const instanceId = `${consumerId}-i${i}`;
      fleet.push({ consumerId, instanceId, credentials: stack.iam.assumeRole(roleArn, instanceId) });
    }
  }
  const recorded = await enrolled.deps.store.getVersions(secretId);
  const before = recorded?.current?.fingerprint ?? "";
  const statuses: Record<string, number> = {};
  const beat = async (inst: Instance, fingerprint: string) => {
    const url = new URL("/heartbeats", stack.endpoints.heartbeatApi);
    const body = JSON.stringify({ secretId, fingerprint, instanceId: inst.instanceId });
    const headers = await signRequest(
      { method: "POST", url, headers: { "content-type": "application/json" }, body },
      inst.credentials,
      stack.region,
    );
    const res = await fetch(url, { method: "POST", headers, body });
    await res.arrayBuffer();
    return res.status;
  };

  // The fleet comes up gently (4 at a time): the switch is what is measured.
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < fleet.length) {
        const inst = fleet[next++] as Instance;
        const status = await beat(inst, before);
        if (status !== 200) throw new Error(`fleet start: heartbeat answered ${status}`);
      }
    }),
  );

  // The promotion, as PromoteCurrent records it: the heartbeat answers `stale` to the old key.
  const promoted = `fp1_${randomBytes(8).toString("hex")}`;
  await enrolled.deps.store.putVersions({
    secretId,
    previous: recorded?.current,
    current: { versionId: "v-switch", fingerprint: promoted, exchangeKeyId: "k-switch" },
    promotedAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  });

  let switching = true;
  const rotationStep = { appends: 0, failures: 0 };
  const stepLoop = (async () => {
    while (switching) {
      try {
        await enrolled.deps.audit.append({
          secretId,
          actor: "rotation:bench",
          action: "bench-rotation-step",
        });
        rotationStep.appends += 1;
      } catch {
        rotationStep.failures += 1;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  // Arrivals spread over the window; at most `concurrency` handlers run at once (Lambda's
  // concurrency), the rest wait their turn as the front door would queue or throttle them.
  const concurrency = opts.concurrency ?? 50;
  let running = 0;
  const waiting: (() => void)[] = [];
  const start = performance.now();
  await Promise.all(
    fleet.map(async (inst) => {
      await new Promise((r) => setTimeout(r, Math.random() * windowMs));
      if (running >= concurrency) await new Promise<void>((r) => waiting.push(r));
      running += 1;
      const status = await beat(inst, promoted).then(String, () => "network-error");
      running -= 1;
      waiting.shift()?.();
      statuses[status] = (statuses[status] ?? 0) + 1;
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  switching = false;
  await stepLoop;
  const audited = await opts.changesAudited(secretId, promoted);
  const main = verifyAuditTrail(
    await enrolled.deps.audit.list(secretId),
    await enrolled.deps.audit.head(secretId),
  );
  return {
    instances: total,
    windowSeconds: windowMs / 1000,
    concurrency,
    seconds: round(seconds, 1),
    statuses,
    heartbeatsFailed: total - (statuses["200"] ?? 0),
    changesAudited: audited,
    /** Changes not in the trail after the switch: each one a heartbeat the consumer must retry. */
    changesUnrecorded: total - audited,
    rotationStepAppends: rotationStep.appends,
    rotationStepFailures: rotationStep.failures,
    secretChainVerifies: main.ok,
    allChainsVerify: main.ok && (await opts.chainsVerify(secretId)),
  };
}
