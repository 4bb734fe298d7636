/**
 * The heartbeat path at fleet scale, on the local stack (dynalite), through the real handler with
 * its own composition: what one heartbeat costs in DynamoDB calls (a regression here is a bill),
 * what a rejected caller costs, and a fleet switching keys at once while a rotation step appends to
 * the secret's chain — every change recorded, no rotation step failing, every chain verifying.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { heartbeatRoute as Route } from "../../functions/heartbeat";
import { heartbeatEvent } from "../../harness/bench/events";
import { type Enrolled, enrollLocalSecret } from "../../harness/local/scenario";
import { type LocalStack, startLocalStack } from "../../harness/local/stack";
import { documentClient } from "../../src/adapters/dynamodb/client";
import { SECRET_STATE_TTL_MS } from "../../src/adapters/heartbeat-cache";
import { loadHeartbeatConfig } from "../../src/commons/config";
import { buildHeartbeatDeps } from "../../src/commons/heartbeat-deps";
import { instanceAuditStream, verifyAuditTrail } from "../../src/core/audit/chain";
import { registerConsumer } from "../../src/core/operator/operator";
import { FakeClock } from "../unit/fakes";

// Before any import builds the logger: the rejection flood below would print a line per knock.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL ??= "ERROR";
});

let stack: LocalStack;
let heartbeatRoute: typeof Route;

beforeAll(async () => {
  stack = await startLocalStack({ seed: 23 });
  ({ heartbeatRoute } = await import("../../functions/heartbeat"));
});
afterAll(async () => {
  await stack?.close();
});

/** A document client that records the name of every command it sends. */
function countingClient(): { db: DynamoDBDocumentClient; calls: string[] } {
  const db = documentClient({ region: stack.region, endpoint: stack.endpoints.dynamodb });
  const calls: string[] = [];
  const send = db.send.bind(db) as (command: unknown, ...rest: unknown[]) => Promise<unknown>;
  db.send = ((command: { constructor: { name: string } }, ...rest: unknown[]) => {
    calls.push(command.constructor.name.replace(/Command$/, ""));
    return send(command, ...rest);
  }) as DynamoDBDocumentClient["send"];
  return { db, calls };
}

async function enrollWithConsumers(account: string, consumers: number): Promise<Enrolled> {
  const enrolled = await enrollLocalSecret(stack, { account });
  for (let c = 0; c < consumers; c++) {
    await registerConsumer(
      {
        secretId: enrolled.secretId,
        consumerId: `svc-${c}`,
        principalArn: `arn:aws:iam::111122223333:role/svc-${account}-${c}`,
        cacheTtlSeconds: 1,
        heartbeatIntervalSeconds: 1,
        required: true,
      },
      "operator:test",
      enrolled.deps,
    );
  }
  return enrolled;
}

const caller = (account: string, c: number, session = "s") =>
  `arn:aws:sts::111122223333:assumed-role/svc-${account}-${c}/${session}`;

describe("what one heartbeat costs in DynamoDB calls", () => {
  it("steady state: one UpdateItem, no read; a cache refill: one BatchGetItem; a change: the audit append", async () => {
    const enrolled = await enrollWithConsumers("calls", 1);
    const fp = (await enrolled.deps.store.getVersions(enrolled.secretId))?.current?.fingerprint ?? "";
    const { db, calls } = countingClient();
    const clock = new FakeClock(new Date().toISOString());
    const deps = buildHeartbeatDeps(loadHeartbeatConfig(), { clock, db });
    const beat = async (fingerprint = fp) => {
      calls.length = 0;
      const res = await heartbeatRoute(
        heartbeatEvent(caller("calls", 0), { secretId: enrolled.secretId, fingerprint, instanceId: "i-1" }),
        deps,
      );
      expect(res.statusCode).toBe(200);
      return [...calls].sort();
    };

    const first = await beat();
    const steady = await beat();
    const again = await beat();
    clock.advance(SECRET_STATE_TTL_MS / 1000);
    const refill = await beat();

    // First sight: registrations, state, the failed conditional touch, then the consistent state
    // read, the row, the instance stream's append (head query + head + entry + commit) and the row;
    // a new stream also looks itself up in the secret's stream register (Query: was it deleted
    // whole?) and is put into it (Put, append-only like the entries: the heartbeat's role has no
    // UpdateItem on the audit table) — once per instance, never on the steady path.
    expect(first).toEqual(
      [
        "BatchGet",
        "BatchGet",
        "Get",
        "Put",
        "Put",
        "Put",
        "Put",
        "Put",
        "Query",
        "Query",
        "Query",
        "Update",
      ].sort(),
    );
    expect(steady).toEqual(["Update"]);
    expect(again).toEqual(["Update"]);
    expect(refill).toEqual(["BatchGet", "Update"]);
    db.destroy();
  });

  it("a rejected caller costs at most one index read a second, and never a write", async () => {
    const enrolled = await enrollWithConsumers("reject", 1);
    const { db, calls } = countingClient();
    const clock = new FakeClock(new Date().toISOString());
    const deps = buildHeartbeatDeps(loadHeartbeatConfig(), { clock, db });
    const intruder = "arn:aws:sts::111122223333:assumed-role/intruder/x";
    const statuses: number[] = [];

    for (let i = 0; i < 50; i++) {
      const res = await heartbeatRoute(
        heartbeatEvent(intruder, {
          secretId: enrolled.secretId,
          fingerprint: "fp1_0000000000000000",
          instanceId: `x-${i}`,
        }),
        deps,
      );
      statuses.push(res.statusCode ?? 0);
      clock.advance(0.1);
    }

    expect(new Set(statuses)).toEqual(new Set([403]));
    // 50 knocks over 5 s: the index read, re-read once a second; one audit append (the limiter).
    const writes = calls.filter((c) => c !== "Query");
    // (+1: the stream register's lookup, when this append starts the rejections stream)
    expect(calls.filter((c) => c === "Query").length).toBeLessThanOrEqual(1 + 6 + 1 + 1);
    // One append: head, entry, commit — and the register's put when it starts the stream.
    expect(writes.filter((c) => c === "Put").length).toBeLessThanOrEqual(4);
    expect(writes.filter((c) => c !== "Put")).toEqual([]);
    db.destroy();
  });
});

describe("a fleet switching keys at once", () => {
  it("records every change, fails no heartbeat and no rotation step, and every chain verifies", async () => {
    const CONSUMERS = 5;
    const PER_CONSUMER = 60;
    const enrolled = await enrollWithConsumers("switch", CONSUMERS);
    const recorded = await enrolled.deps.store.getVersions(enrolled.secretId);
    const before = recorded?.current?.fingerprint ?? "";
    const fleet = Array.from({ length: CONSUMERS * PER_CONSUMER }, (_, i) => ({
      c: i % CONSUMERS,
      instanceId: `i-${i}`,
    }));
    const beat = (inst: { c: number; instanceId: string }, fingerprint: string) =>
      heartbeatRoute(
        heartbeatEvent(caller("switch", inst.c, inst.instanceId), {
          secretId: enrolled.secretId,
          fingerprint,
          instanceId: inst.instanceId,
        }),
      );
    for (const inst of fleet) expect((await beat(inst, before)).statusCode).toBe(200);

    // The promotion as PromoteCurrent records it; then everyone reports the new key at once, 50 in
    // flight, while a rotation step keeps appending to the secret's own chain.
    const promoted = "fp1_00000000000000aa";
    await enrolled.deps.store.putVersions({
      secretId: enrolled.secretId,
      previous: recorded?.current,
      current: { versionId: "v-2", fingerprint: promoted, exchangeKeyId: "k-2" },
      promotedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    });
    let switching = true;
    const step = { ok: 0, failed: 0 };
    const rotationStep = (async () => {
      while (switching) {
        await enrolled.deps.audit
          .append({ secretId: enrolled.secretId, actor: "rotation:test", action: "test-rotation-step" })
          .then(
            () => step.ok++,
            () => step.failed++,
          );
      }
    })();
    const statuses: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < fleet.length) {
          const inst = fleet[next++] as (typeof fleet)[number];
          statuses.push((await beat(inst, promoted)).statusCode ?? 0);
        }
      }),
    );
    switching = false;
    await rotationStep;

    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(step).toMatchObject({ failed: 0 });
    expect(step.ok).toBeGreaterThan(0);
    const audit = enrolled.deps.audit;
    const main = verifyAuditTrail(await audit.list(enrolled.secretId), await audit.head(enrolled.secretId));
    expect(main).toMatchObject({ ok: true });
    for (const inst of fleet) {
      const stream = instanceAuditStream(enrolled.secretId, `svc-${inst.c}`, inst.instanceId);
      const entries = await audit.list(stream);
      expect(entries.map((e) => e.details?.to)).toEqual([before, promoted]);
      expect(verifyAuditTrail(entries, await audit.head(stream))).toEqual({ ok: true, entries: 2 });
    }
  }, 120_000);
});
