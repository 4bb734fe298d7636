import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { loadHeartbeatConfig } from "../../src/commons/config";
import { buildHeartbeatDeps } from "../../src/commons/heartbeat-deps";
import { fingerprint } from "../../src/core/fingerprint";
import { registerConsumer } from "../../src/core/operator/operator";
import type { Clock } from "../../src/core/ports";
import { readinessOf } from "../../src/core/revocation/gate";
import { beginRotation } from "../../src/core/rotation/begin-rotation";
import { createNext } from "../../src/core/rotation/create-next";
import { promoteCurrent } from "../../src/core/rotation/promote-current";
import { type Enrolled, enrollLocalSecret } from "../local/scenario";
import type { LocalStack } from "../local/stack";
import { heartbeatEvent } from "./events";
import { round } from "./support";

const CONSUMERS = 10;
const CACHE_TTL_SECONDS = 300;
/** Virtual start: on a minute boundary, so a cron schedule can start a rotation exactly 60 s in. */
const EPOCH = Date.parse("2030-01-01T00:05:00.000Z");
const ROTATION_STARTS_AFTER_S = 60;
/** CreateNext + PromoteCurrent take this long after BeginRotation (exchange calls, label move). */
const PROMOTION_AFTER_START_S = 2;

class VirtualClock implements Clock {
  constructor(public ms: number) {}
  now(): Date {
    return new Date(this.ms);
  }
}

interface Instance {
  consumerId: string;
  callerArn: string;
  instanceId: string;
  fp: string;
  nextAt: number;
  confirmedAt?: number;
}

/**
 * confirmationSecondsAfterCacheTtl: a fleet of `instances` SDK-like instances (refresh at once on
 * `stale`, report at once, come back when told) heartbeating through the real handler and its own
 * composition (caches included) on the local stack, in simulated time; a real rotation (BeginRotation,
 * CreateNext, PromoteCurrent) starts 60 s in. Measured: promotion → every instance confirmed on the
 * new key (checked against the gate itself), minus the longest cache TTL (300 s). Two cases: a
 * manual rotation (the fleet idles at 300 s when it starts: the worst case), and a scheduled one
 * (the fleet was told to come back just after the start).
 */
export async function confirmationAfterPromotion(opts: { stack: LocalStack; instances?: number }) {
  const total = opts.instances ?? 1000;
  const unscheduled = await runCase(opts.stack, total, "bench-confirm", undefined);
  const at = new Date(EPOCH + ROTATION_STARTS_AFTER_S * 1000);
  const schedule = `cron(${at.getUTCMinutes()} ${at.getUTCHours()} * * ? *)`;
  const scheduled = await runCase(opts.stack, total, "bench-confirm-sched", schedule);
  return { unscheduled, scheduled, instances: total, longestCacheTtlSeconds: CACHE_TTL_SECONDS };
}

async function runCase(stack: LocalStack, total: number, account: string, schedule: string | undefined) {
  const clock = new VirtualClock(EPOCH - 300_000);
  const enrolled = await enrollLocalSecret(stack, {
    account,
    settings: {
      minOverlapSeconds: CACHE_TTL_SECONDS,
      deadlineSeconds: 7200,
      pollIntervalSeconds: 5,
      maxPollIntervalSeconds: 60,
      idleHeartbeatSeconds: 300,
      activeHeartbeatSeconds: 5,
      livenessGraceSeconds: 30,
      ...(schedule ? { schedule } : {}),
    },
  });
  const fleet = await registerFleet(enrolled, total);
  // The handler module reads its configuration at import: the stack has set it by now.
  const { heartbeatRoute } = await import("../../functions/heartbeat");
  const deps = buildHeartbeatDeps(loadHeartbeatConfig(), { clock });
  const sm = new SecretsManagerClient({ region: stack.region, endpoint: stack.endpoints.secretsManager });
  const refresh = async () => {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: enrolled.secretId }));
    return fingerprint(out.SecretString ?? "");
  };
  const initial = await refresh();
  // Before the measured window the fleet has been idling: each instance's last heartbeat at a
  // random point of the previous 300 s.
  for (const inst of fleet) {
    inst.fp = initial;
    inst.nextAt = EPOCH - Math.random() * 300_000;
  }
  let promotedAt: number | undefined;
  let rotationStarted = false;
  let beats = 0;
  const steps = { ...enrolled.deps, clock };
  const beat = async (inst: Instance) => {
    beats += 1;
    const res = await heartbeatRoute(
      heartbeatEvent(inst.callerArn, {
        secretId: enrolled.secretId,
        fingerprint: inst.fp,
        instanceId: inst.instanceId,
      }),
      deps,
    );
    if (res.statusCode !== 200) throw new Error(`heartbeat answered ${res.statusCode}: ${res.body}`);
    return JSON.parse(String(res.body)) as { status: string; nextHeartbeatSeconds: number };
  };
  const queue = [...fleet].sort((a, b) => a.nextAt - b.nextAt);
  while (queue.length > 0) {
    const inst = queue.shift() as Instance;
    const startAt = EPOCH + ROTATION_STARTS_AFTER_S * 1000;
    if (!rotationStarted && inst.nextAt >= startAt) {
      rotationStarted = true;
      clock.ms = startAt;
      await beginRotation(
        {
          secretId: enrolled.secretId,
          trigger: schedule ? "schedule" : "manual",
          mode: "rotate",
          executionName: account,
          actor: "bench",
        },
        steps,
      );
      clock.ms = startAt + PROMOTION_AFTER_START_S * 1000;
      await createNext({ secretId: enrolled.secretId, rotationId: account }, steps);
      await promoteCurrent({ secretId: enrolled.secretId, rotationId: account }, steps);
      promotedAt = clock.ms;
    }
    clock.ms = Math.max(clock.ms, inst.nextAt);
    let answer = await beat(inst);
    if (answer.status !== "current") {
      // The SDK: refresh now, report now — one round trip.
      inst.fp = await refresh();
      answer = await beat(inst);
    }
    if (promotedAt !== undefined && answer.status === "current" && inst.confirmedAt === undefined) {
      inst.confirmedAt = clock.ms;
    }
    if (fleet.every((i) => i.confirmedAt !== undefined)) break;
    inst.nextAt = clock.ms + Math.max(1, answer.nextHeartbeatSeconds) * 1000;
    insertSorted(queue, inst);
  }
  sm.destroy();
  if (promotedAt === undefined) throw new Error("the rotation never started");
  const confirmedAt = Math.max(...fleet.map((i) => i.confirmedAt ?? Number.POSITIVE_INFINITY));
  const versions = await enrolled.deps.store.getVersions(enrolled.secretId);
  const gate = await readinessOf(enrolled.deps, {
    secretId: enrolled.secretId,
    currentFingerprint: versions?.current?.fingerprint ?? "",
    promotedAt: new Date(promotedAt).toISOString(),
    settings: enrolled.settings,
    now: new Date(confirmedAt),
  });
  if (gate.laggingCount !== 0)
    throw new Error(`gate still sees lagging consumers: ${JSON.stringify(gate.lagging)}`);
  const seconds = (confirmedAt - promotedAt) / 1000;
  return {
    schedule: schedule ?? null,
    promotionToAllConfirmedSeconds: round(seconds, 1),
    secondsAfterCacheTtl: round(seconds - CACHE_TTL_SECONDS, 1),
    heartbeats: beats,
  };
}

async function registerFleet(enrolled: Enrolled, total: number): Promise<Instance[]> {
  const fleet: Instance[] = [];
  for (let c = 0; c < CONSUMERS; c++) {
    const consumerId = `confirm-${c}`;
    await registerConsumer(
      {
        secretId: enrolled.secretId,
        consumerId,
        principalArn: `arn:aws:iam::111122223333:role/${consumerId}`,
        cacheTtlSeconds: CACHE_TTL_SECONDS,
        heartbeatIntervalSeconds: 300,
        required: true,
      },
      "operator:bench",
      enrolled.deps,
    );
    for (let i = 0; i < total / CONSUMERS; i++) {
      fleet.push({
        consumerId,
        callerArn: `arn:aws:sts::111122223333:assumed-role/${consumerId}/i${i}`,
        instanceId: `${consumerId}-i${i}`,
        fp: "",
        nextAt: 0,
      });
    }
  }
  return fleet;
}

function insertSorted(queue: Instance[], inst: Instance): void {
  let lo = 0;
  let hi = queue.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((queue[mid] as Instance).nextAt <= inst.nextAt) lo = mid + 1;
    else hi = mid;
  }
  queue.splice(lo, 0, inst);
}
