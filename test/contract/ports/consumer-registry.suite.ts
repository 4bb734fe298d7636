/**
 * The `ConsumerRegistry` port: registrations and the by-principal index, instance rows and the
 * steady-state heartbeat's conditional touch, principal claims (one consumer per principal within a
 * secret, issue 14 break 17) and deregistration. Idle instances expire by DynamoDB TTL, which the
 * local stack does not implement and nothing relies on (liveness is `expectedBy`): not in the contract.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ConsumerInstance, ConsumerRegistration } from "../../../src/core/model";
import { registerConsumer } from "../../../src/core/operator/operator";
import type { ConsumerRegistry } from "../../../src/core/ports";
import { makeDeps, seedSecret } from "../../unit/fakes";
import { iso, type PortTarget } from "./support";

export function consumerRegistryContract(target: PortTarget<ConsumerRegistry>): void {
  describe(`ConsumerRegistry (${target.name})`, () => {
    let consumers: ConsumerRegistry;
    beforeEach(() => {
      consumers = target.make();
    });
    const ROLE = "arn:aws:iam::123456789012:role/engine";
    const registration = (
      secretId: string,
      consumerId: string,
      principalArn = ROLE,
    ): ConsumerRegistration => ({
      secretId,
      consumerId,
      principalArn,
      cacheTtlSeconds: 300,
      heartbeatIntervalSeconds: 60,
      required: true,
      registeredAt: iso(0),
    });
    const instance = (
      secretId: string,
      consumerId: string,
      instanceId: string,
      fp = "fp1_a",
    ): ConsumerInstance => ({
      secretId,
      consumerId,
      instanceId,
      fingerprint: fp,
      firstSeenAt: iso(0),
      lastSeenAt: iso(0),
      expectedBy: iso(60),
    });

    describe("registrations", () => {
      it("lists a secret's registrations, and finds them by principal (per secret and across secrets)", async () => {
        const secretId = target.id("reg");
        const otherSecret = target.id("reg-other");
        const role = `${ROLE}-${target.id("p").replace(/[^A-Za-z0-9-]/g, "-")}`;
        await consumers.register(registration(secretId, "engine-b", role));
        await consumers.register(registration(secretId, "engine-a", role));
        await consumers.register(registration(otherSecret, "engine-a", role));
        await consumers.register(registration(secretId, "gateway", `${role}-gw`));
        await consumers.register({ ...registration(secretId, "engine-b", role), required: false });

        const listed = await consumers.listConsumers(secretId);
        const found = await target.eventually(async () => {
          const byPrincipal = await consumers.findByPrincipal(role, secretId);
          expect(byPrincipal.map((c) => c.consumerId)).toEqual(["engine-a", "engine-b"]);
          return byPrincipal;
        });
        const everywhere = await target.eventually(async () => {
          const all = await consumers.listByPrincipal(role);
          expect(all).toHaveLength(3);
          return all;
        });

        expect(listed.map((c) => c.consumerId).sort()).toEqual(["engine-a", "engine-b", "gateway"]);
        expect(listed.find((c) => c.consumerId === "engine-b")).toEqual({
          ...registration(secretId, "engine-b", role),
          required: false,
        });
        expect(found[0]).toEqual(registration(secretId, "engine-a", role));
        expect(
          everywhere.map((c) => `${c.secretId === secretId ? "this" : "other"}/${c.consumerId}`).sort(),
        ).toEqual(["other/engine-a", "this/engine-a", "this/engine-b"]);
        expect(await consumers.listConsumers(target.id("none"))).toEqual([]);
      });
    });

    describe("instances", () => {
      it("reads back an instance as written (no storage fields), lists a secret's, and overwrites on put", async () => {
        const secretId = target.id("inst");
        const first = instance(secretId, "engine", "i-1");
        await consumers.putInstance(first);
        await consumers.putInstance(instance(secretId, "engine", "i-2", "fp1_b"));
        const changed = { ...first, fingerprint: "fp1_c", lastSeenAt: iso(30), auditSeq: 2, auditHash: "h2" };
        await consumers.putInstance(changed);

        expect(await consumers.getInstance(secretId, "engine", "i-1")).toEqual(changed);
        expect(await consumers.getInstance(secretId, "engine", "i-9")).toBeUndefined();
        const listed = await consumers.listInstances(secretId);
        expect(listed.map((i) => i.instanceId).sort()).toEqual(["i-1", "i-2"]);
        expect(listed.find((i) => i.instanceId === "i-1")).toEqual(changed);
        // Registrations and claims are not instances.
        await consumers.register(registration(secretId, "engine"));
        await consumers.claimPrincipal(secretId, ROLE, "engine");
        expect(await consumers.listInstances(secretId)).toHaveLength(2);
      });

      it("a touch moves only lastSeenAt and expectedBy, only on the same fingerprint; new or changed: false, nothing written", async () => {
        const secretId = target.id("touch");
        const row = { ...instance(secretId, "engine", "i-1"), auditSeq: 1, auditHash: "h1" };
        await consumers.putInstance(row);
        const touch = { secretId, consumerId: "engine", instanceId: "i-1", fingerprint: "fp1_a" };

        const same = await consumers.touchInstance({ ...touch, lastSeenAt: iso(60), expectedBy: iso(120) });
        const changed = await consumers.touchInstance({
          ...touch,
          fingerprint: "fp1_b",
          lastSeenAt: iso(90),
          expectedBy: iso(150),
        });
        const unknown = await consumers.touchInstance({
          ...touch,
          instanceId: "i-new",
          lastSeenAt: iso(90),
          expectedBy: iso(150),
        });

        expect({ same, changed, unknown }).toEqual({ same: true, changed: false, unknown: false });
        expect(await consumers.getInstance(secretId, "engine", "i-1")).toEqual({
          ...row,
          lastSeenAt: iso(60),
          expectedBy: iso(120),
        });
        expect(await consumers.getInstance(secretId, "engine", "i-new")).toBeUndefined();
      });

      it("a touch with the front door's source IP records it on the row; one without keeps the last", async () => {
        const secretId = target.id("touch-ip");
        const row = instance(secretId, "engine", "i-1");
        await consumers.putInstance({ ...row, sourceIp: "10.0.0.1" });
        const touch = { secretId, consumerId: "engine", instanceId: "i-1", fingerprint: row.fingerprint };

        await consumers.touchInstance({
          ...touch,
          lastSeenAt: iso(60),
          expectedBy: iso(120),
          sourceIp: "10.0.0.2",
        });
        expect((await consumers.getInstance(secretId, "engine", "i-1"))?.sourceIp).toBe("10.0.0.2");
        await consumers.touchInstance({ ...touch, lastSeenAt: iso(70), expectedBy: iso(130) });
        expect(await consumers.getInstance(secretId, "engine", "i-1")).toMatchObject({
          sourceIp: "10.0.0.2",
          lastSeenAt: iso(70),
        });
      });

      it("deregister removes the registration, only that consumer's instances, and its claims; a re-run is harmless", async () => {
        const secretId = target.id("dereg");
        await consumers.register(registration(secretId, "engine"));
        await consumers.register(registration(secretId, "engine-2", `${ROLE}-2`));
        await consumers.claimPrincipal(secretId, ROLE, "engine");
        await consumers.claimPrincipal(secretId, `${ROLE}-2`, "engine-2");
        await consumers.putInstance(instance(secretId, "engine", "i-1"));
        await consumers.putInstance(instance(secretId, "engine", "i-2"));
        // An id that shares the prefix `engine#` (ids were not always checked) is another consumer.
        await consumers.putInstance(instance(secretId, "engine#x", "i-1"));
        await consumers.putInstance(instance(secretId, "engine-2", "i-1"));

        const removed = await consumers.deregister(secretId, "engine");
        const again = await consumers.deregister(secretId, "engine");

        expect(removed).toEqual({ instancesRemoved: 2 });
        expect(again).toEqual({ instancesRemoved: 0 });
        expect((await consumers.listConsumers(secretId)).map((c) => c.consumerId)).toEqual(["engine-2"]);
        expect(
          (await consumers.listInstances(secretId)).map((i) => `${i.consumerId}/${i.instanceId}`).sort(),
        ).toEqual(["engine#x/i-1", "engine-2/i-1"]);
        expect(await consumers.listPrincipalClaims(secretId)).toEqual([
          { secretId, principalArn: `${ROLE}-2`, consumerId: "engine-2" },
        ]);
      });
    });

    describe("principal claims (issue 14, break 17)", () => {
      it("claims a free principal, re-claims it for the same id, and names the holder to any other id", async () => {
        const secretId = target.id("claim");

        expect(await consumers.claimPrincipal(secretId, ROLE, "engine")).toBe("engine");
        expect(await consumers.claimPrincipal(secretId, ROLE, "engine")).toBe("engine");
        expect(await consumers.claimPrincipal(secretId, ROLE, "engine-2")).toBe("engine");
        expect(await consumers.listPrincipalClaims(secretId)).toEqual([
          { secretId, principalArn: ROLE, consumerId: "engine" },
        ]);
        // Claims stay off the by-principal index: they are not registrations.
        expect(await consumers.findByPrincipal(ROLE, secretId)).toEqual([]);
      });

      it("releases only for the holder; deregister releases the consumer's claims", async () => {
        const secretId = target.id("release");
        await consumers.claimPrincipal(secretId, ROLE, "engine");

        await consumers.releasePrincipal(secretId, ROLE, "engine-2");
        const kept = await consumers.listPrincipalClaims(secretId);
        await consumers.deregister(secretId, "engine");

        expect(kept).toHaveLength(1);
        expect(await consumers.listPrincipalClaims(secretId)).toEqual([]);
        expect(await consumers.claimPrincipal(secretId, ROLE, "engine-2")).toBe("engine-2");
      });

      it("break 17: of 5 concurrent `consumers register` of one role under different ids, exactly one is stored", async () => {
        const deps = { ...makeDeps(), consumers };
        const secretId = target.id("register-race");
        await seedSecret(deps as never, { secretId });

        const outcomes = await Promise.allSettled(
          [1, 2, 3, 4, 5].map((n) =>
            registerConsumer(
              {
                secretId,
                consumerId: `engine-${n}`,
                principalArn: ROLE,
                cacheTtlSeconds: 300,
                heartbeatIntervalSeconds: 60,
                required: true,
              },
              "operator:test",
              deps,
            ),
          ),
        );

        expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
        expect(await consumers.listConsumers(secretId)).toHaveLength(1);
        expect(await consumers.findByPrincipal(ROLE, secretId)).toHaveLength(1);
      });
    });
  });
}
