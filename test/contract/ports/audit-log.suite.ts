/**
 * The `AuditLog` port (I8): one hash chain per stream, anchored by a head advanced by conditional
 * writes before each entry (`AuditHead`, src/core/audit/chain.ts), and the secret's stream register.
 * Racing appends never share a seq; an append that died after its head is finished by the next one;
 * a chain whose head was removed, or a registered stream deleted whole, refuses to be extended.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { instanceAuditStream, verifyAuditTrail } from "../../../src/core/audit/chain";
import { AuditChainBrokenError } from "../../../src/core/errors";
import type { AuditEvent } from "../../../src/core/model";
import type { AuditLog, Clock } from "../../../src/core/ports";
import { iso, type PortTarget, refusal, T0 } from "./support";

export interface AuditTarget extends Omit<PortTarget<AuditLog>, "make"> {
  make(clock: Clock): AuditLog;
  /** An append of `event` that dies after writing the head, before its entry (the protocol's step 1 only). */
  crashAfterHead(event: AuditEvent): Promise<void>;
  /** Deletes entries of `stream` behind the log's back, as a raw DeleteItem would. */
  removeEntries(stream: string, ...seqs: number[]): Promise<void>;
  /** Deletes the head of `stream` behind the log's back. */
  removeHead(stream: string): Promise<void>;
}

export function auditLogContract(target: AuditTarget): void {
  describe(`AuditLog (${target.name})`, () => {
    let now = T0;
    let audit: AuditLog;
    beforeEach(() => {
      now = T0;
      audit = target.make({ now: () => now });
    });
    const event = (secretId: string, action: string, stream?: string): AuditEvent => ({
      secretId,
      ...(stream ? { stream } : {}),
      actor: "operator:test",
      action,
      details: { rotationId: "rot-1", attempts: 2, ok: true, gone: null, keys: ["k1", "k2"] },
    });
    const verified = async (stream: string) =>
      verifyAuditTrail(await audit.list(stream), await audit.head(stream));

    it("chains a stream's entries from seq 1, each linked to the one before, its head committed on the last", async () => {
      const secretId = target.id("chain");
      const first = await audit.append(event(secretId, "rotation-started"));
      now = new Date(T0.getTime() + 5000);
      const second = await audit.append(event(secretId, "next-created"));

      const listed = await audit.list(secretId);
      const head = await audit.head(secretId);

      expect(first).toMatchObject({ seq: 1, at: iso(0), action: "rotation-started" });
      expect(second).toMatchObject({ seq: 2, at: iso(5), prevHash: first.hash });
      expect(listed).toEqual([first, second]);
      expect(listed[0]).not.toHaveProperty("stream");
      expect(head).toEqual({ seq: 2, hash: second.hash, entry: second, committed: true });
      expect(await verified(secretId)).toMatchObject({ ok: true, entries: 2 });
      expect(await audit.head(target.id("never"))).toBeUndefined();
      expect(await audit.list(target.id("never"))).toEqual([]);
    });

    it("keeps each stream its own chain, and registers every stream started for the secret", async () => {
      const secretId = target.id("streams");
      const instance = instanceAuditStream(secretId, "engine", "i-1");
      await audit.append(event(secretId, "rotation-started"));
      const inInstance = await audit.append(event(secretId, "fingerprint-changed", instance));
      await audit.append(event(secretId, "next-created"));
      await audit.append(event(secretId, "fingerprint-changed", instance));

      expect(inInstance).toMatchObject({ seq: 1, stream: instance });
      expect((await audit.list(instance)).map((e) => [e.seq, e.stream])).toEqual([
        [1, instance],
        [2, instance],
      ]);
      expect((await audit.list(secretId)).map((e) => e.action)).toEqual(["rotation-started", "next-created"]);
      expect(await audit.streams(secretId)).toEqual([secretId, instance].sort());
      expect(await audit.streams(target.id("no-streams"))).toEqual([]);
    });

    it("racing appends to one stream each get their own seq, and the chain verifies", async () => {
      const secretId = target.id("race");

      const entries = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((n) => audit.append(event(secretId, `step-${n}`))),
      );

      expect(entries.map((e) => e.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
      expect((await audit.list(secretId)).map((e) => e.action).sort()).toEqual(
        entries.map((e) => e.action).sort(),
      );
      expect(await verified(secretId)).toMatchObject({ ok: true, entries: 6 });
    });

    it("an append that died after its head is finished by the next append, which then follows it", async () => {
      const secretId = target.id("crash");
      await audit.append(event(secretId, "rotation-started"));
      await target.crashAfterHead(event(secretId, "next-created"));
      const pending = await audit.head(secretId);
      const stored = await audit.list(secretId);

      const next = await audit.append(event(secretId, "promoted"));

      expect(pending).toMatchObject({ seq: 2, committed: false });
      expect(stored.map((e) => e.seq)).toEqual([1]);
      expect(verifyAuditTrail(stored, pending)).toMatchObject({ ok: true, pending: 2 });
      expect(next).toMatchObject({ seq: 3, prevHash: pending?.hash });
      expect((await audit.list(secretId)).map((e) => e.action)).toEqual([
        "rotation-started",
        "next-created",
        "promoted",
      ]);
      expect(await verified(secretId)).toMatchObject({ ok: true, entries: 3 });
    });

    it("a first append that died after its head still registers its stream once finished", async () => {
      const secretId = target.id("crash-first");
      const instance = instanceAuditStream(secretId, "engine", "i-1");
      await target.crashAfterHead(event(secretId, "fingerprint-changed", instance));

      await audit.append(event(secretId, "fingerprint-changed", instance));

      expect((await audit.list(instance)).map((e) => e.seq)).toEqual([1, 2]);
      expect(await audit.streams(secretId)).toContain(instance);
    });

    it("a truncated chain does not verify; with its head removed too, appending refuses and writes nothing", async () => {
      const secretId = target.id("tamper");
      for (const action of ["a", "b", "c"]) await audit.append(event(secretId, action));
      await target.removeEntries(secretId, 3);
      const truncated = await verified(secretId);
      await target.removeHead(secretId);

      const refused = await refusal(audit.append(event(secretId, "d")));

      expect(truncated.ok).toBe(false);
      expect(refused).toBeInstanceOf(AuditChainBrokenError);
      expect(refused.name).toBe("AuditChainBrokenError");
      expect((await audit.list(secretId)).map((e) => e.seq)).toEqual([1, 2]);
      expect(await audit.head(secretId)).toBeUndefined();
    });

    it("a registered stream deleted whole, head included, is not restarted at genesis", async () => {
      const secretId = target.id("deleted");
      const instance = instanceAuditStream(secretId, "engine", "i-1");
      await audit.append(event(secretId, "fingerprint-changed", instance));
      await audit.append(event(secretId, "fingerprint-changed", instance));
      await target.removeEntries(instance, 1, 2);
      await target.removeHead(instance);

      const refused = await refusal(audit.append(event(secretId, "fingerprint-changed", instance)));

      expect(refused).toBeInstanceOf(AuditChainBrokenError);
      expect(await audit.list(instance)).toEqual([]);
      expect(await audit.head(instance)).toBeUndefined();
      expect(await audit.streams(secretId)).toEqual([instance]);
    });
  });
}
