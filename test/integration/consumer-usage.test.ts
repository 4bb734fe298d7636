/**
 * Usage reporting end to end (issue 20): a simulated trading instance built on the consumer SDK
 * counts each exchange call with its one-line hook; the counts ride on its SigV4-signed heartbeats
 * through the local function URL to the real handler, which stores them per key × hour in dynalite
 * with the instance's source address (a consumer host, 127.0.0.3) — and makes no request of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedInstance } from "../../harness/local/consumers";
import {
  defaultConsumers,
  type Enrolled,
  enrollLocalSecret,
  registerConsumers,
} from "../../harness/local/scenario";
import { type LocalStack, startLocalStack } from "../../harness/local/stack";
import { documentClient } from "../../src/adapters/dynamodb/client";
import { DynamoUsageStore } from "../../src/adapters/dynamodb/usage-store";

let stack: LocalStack;
let enrolled: Enrolled;

beforeAll(async () => {
  stack = await startLocalStack({ seed: 20 });
  enrolled = await enrollLocalSecret(stack, { account: "usage-main" });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

describe("a consumer's usage counts", () => {
  it("reach keyshift on its heartbeats, per key × hour, with the instance's source address", async () => {
    const [spec] = defaultConsumers(enrolled.secretId, 1);
    if (!spec) throw new Error("no consumer spec");
    await registerConsumers(enrolled, [{ ...spec, instances: 1 }]);
    const instance = new SimulatedInstance(stack, spec, "engine-usage-1", {
      debug() {},
      info() {},
      warn() {},
      error() {},
    });
    try {
      for (let i = 0; i < 5; i++) await instance.tick();
      await instance.consumer.heartbeatNow();
      const { tradesOk, tradesRejected, heartbeats } = instance.state;

      const store = new DynamoUsageStore(
        documentClient({ region: stack.region, endpoint: stack.endpoints.dynamodb }),
        stack.tables.consumers,
      );
      const hour = Math.floor(Date.now() / 3_600_000);
      const items = await store.readUsage(enrolled.secretId, hour - 1, hour + 1);
      const current = await enrolled.deps.store.getVersions(enrolled.secretId);

      expect(tradesOk + tradesRejected).toBe(5);
      // (One item, or two if the test straddles an hour boundary.)
      expect(items.reduce((n, i) => n + (i.requests.account ?? 0), 0)).toBe(5);
      for (const item of items) {
        expect(item).toMatchObject({
          fingerprint: current?.current?.fingerprint,
          keyId: current?.current?.exchangeKeyId,
          consumerIds: [spec.consumerId],
          sourceIps: [stack.callers.consumerHost],
        });
      }
      expect(instance.consumer.status().usage).toEqual({ reporting: true, pendingHours: 0, dropped: 0 });
      // One heartbeat per tick plus the last: the counts made no request of their own.
      expect(heartbeats).toBe(6);
      const row = await enrolled.deps.consumers.getInstance(
        enrolled.secretId,
        spec.consumerId,
        "engine-usage-1",
      );
      expect(row?.sourceIp).toBe(stack.callers.consumerHost);
    } finally {
      await instance.stop();
    }
  });
});
