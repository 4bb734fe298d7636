/**
 * The `UsageStore` port (issue 20): what consumers report is added per secret × key × hour —
 * counters grow, consumers and source IPs join sets, the key id is set once — and a window of hours
 * reads back in order, the secret's own items only; and the acks of findings.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { MisuseAck } from "../../../src/core/misuse/report";
import type { UsageRecord } from "../../../src/core/misuse/usage";
import type { MisuseAckStore, UsageStore } from "../../../src/core/ports";
import type { PortTarget } from "./support";

const H = 534_000; // an epoch hour in 2030
const FP = "fp1_00000000000000aa";
const FP2 = "fp1_00000000000000bb";

export function usageStoreContract(target: PortTarget<UsageStore>): void {
  describe(`UsageStore (${target.name})`, () => {
    let store: UsageStore;
    beforeEach(() => {
      store = target.make();
    });
    const record = (secretId: string, over: Partial<UsageRecord> = {}): UsageRecord => ({
      secretId,
      hour: H,
      fingerprint: FP,
      consumerId: "engine",
      requests: { spot: 3 },
      authFailures: {},
      expiresAt: (H + 1512) * 3600,
      ...over,
    });

    it("adds every report of an hour into one item: counters sum, sets join, the key id stays the first", async () => {
      const secretId = target.id("s");
      await store.addUsage(record(secretId, { keyId: "k1", sourceIp: "10.0.0.1" }));
      await store.addUsage(
        record(secretId, {
          consumerId: "gateway",
          keyId: "k-other",
          sourceIp: "10.0.0.2",
          requests: { spot: 4, derivatives: 2 },
          authFailures: { "ip-not-allowed": 1 },
        }),
      );
      await store.addUsage(record(secretId, { sourceIp: "10.0.0.1", authFailures: { "ip-not-allowed": 2 } }));

      expect(await store.readUsage(secretId, H, H + 1)).toEqual([
        {
          secretId,
          hour: H,
          fingerprint: FP,
          keyId: "k1",
          requests: { spot: 10, derivatives: 2 },
          authFailures: { "ip-not-allowed": 3 },
          consumerIds: ["engine", "gateway"],
          sourceIps: ["10.0.0.1", "10.0.0.2"],
        },
      ]);
    });

    it("reads [from, to) in hour then fingerprint order, and only the secret's own items", async () => {
      const secretId = target.id("s");
      await store.addUsage(record(secretId, { hour: H + 2 }));
      await store.addUsage(record(secretId, { hour: H, fingerprint: FP2 }));
      await store.addUsage(record(secretId, { hour: H }));
      await store.addUsage(record(secretId, { hour: H - 1 }));
      await store.addUsage(record(`${secretId}-other`, { hour: H }));

      const read = await store.readUsage(secretId, H, H + 2);
      expect(read.map((u) => [u.hour, u.fingerprint])).toEqual([
        [H, FP],
        [H, FP2],
      ]);
      expect(await store.readUsage(secretId, H + 2, H + 2)).toEqual([]);
      expect(read[0]).toMatchObject({ sourceIps: [], authFailures: {} });
      expect(read[0]).not.toHaveProperty("keyId");
    });
  });
}

/** The `MisuseAckStore` port: one ack per secret × finding, a later one replacing it, the secret's own only. */
export function misuseAckStoreContract(target: PortTarget<MisuseAckStore>): void {
  describe(`MisuseAckStore (${target.name})`, () => {
    it("keeps one ack per finding (the latest), lists the secret's own by finding id", async () => {
      const acks = target.make();
      const secretId = target.id("s");
      const ack = (findingId: string, reason: string): MisuseAck => ({
        secretId,
        findingId,
        kind: "new-ip",
        keyId: "k1",
        hour: "2030-01-01T10:00:00.000Z",
        reason,
        actor: "operator:arn:aws:sts::123456789012:assumed-role/ops/alice",
        at: "2030-01-01T12:00:00.000Z",
        until: "2030-01-08T12:00:00.000Z",
      });
      await acks.putAck(ack("mf_bbbb", "failover host"));
      await acks.putAck(ack("mf_aaaa", "first"));
      await acks.putAck(ack("mf_aaaa", "second"));
      await acks.putAck({ ...ack("mf_cccc", "other secret"), secretId: `${secretId}-other` });

      expect(await acks.listAcks(secretId)).toEqual([
        ack("mf_aaaa", "second"),
        ack("mf_bbbb", "failover host"),
      ]);
    });
  });
}
