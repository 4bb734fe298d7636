import { describe, expect, it } from "vitest";
import { defaultConsumers, registerConsumers } from "../../harness/local/scenario";
import { STAGE } from "../../src/core/model";
import { forceRevoke, rollback } from "../../src/core/operator/operator";
import {
  activeKeys,
  enroll,
  ledgerOf,
  rotate,
  secretLeaks,
  statesEntered,
  stopFleets,
  useWorld,
  withConsumers,
} from "./harness";

const world = useWorld();

describe("wait-for-consumers gating", () => {
  it("stalls on a consumer that never refreshes: no revoke, lock kept, alert sent", async () => {
    const enrolled = await enroll(world, { deadlineSeconds: 3, minOverlapSeconds: 1 });
    await withConsumers(world, enrolled, defaultConsumers(enrolled.secretId, 3, true));
    const previousKey = (await enrolled.deps.store.getVersions(enrolled.secretId))?.current?.exchangeKeyId;

    const result = await rotate(world, enrolled);

    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("RotationStalled");
    expect(statesEntered(result)).not.toContain("RevokePrevious");
    expect(activeKeys(world, enrolled).map((k) => k.keyId)).toContain(previousKey);
    expect(activeKeys(world, enrolled)).toHaveLength(2);
    expect(await ledgerOf(enrolled)).toEqual([]);
    const lock = await enrolled.deps.lock.get(enrolled.secretId);
    expect(lock?.stalled).toBe(true);
    expect(lock?.rotationId).toBe(result.executionName);
    expect((await enrolled.deps.store.getRotation(enrolled.secretId, result.executionName))?.phase).toBe(
      "stalled",
    );
    const alert = world.stack.sns.messages().find((m) => m.attributes.secretId === enrolled.secretId);
    expect(JSON.parse(alert?.message ?? "{}")).toMatchObject({ kind: "rotation-stalled" });
    expect(alert?.message).toContain("risk-service");

    // A new rotation would need a third key: it is refused while the stalled one holds the lock.
    const second = await rotate(world, enrolled);
    expect(second.error).toBe("RotationInProgressError");
    expect(activeKeys(world, enrolled)).toHaveLength(2);
  });

  it("counts a silent consumer (registered, no live instance) as lagging", async () => {
    const enrolled = await enroll(world, { deadlineSeconds: 2, minOverlapSeconds: 1 });
    const [live, silent] = defaultConsumers(enrolled.secretId, 2);
    if (!live || !silent) throw new Error("fixture");
    await withConsumers(world, enrolled, [live]);
    await registerConsumers(enrolled, [silent]);

    const result = await rotate(world, enrolled);

    expect(result.error).toBe("RotationStalled");
    const lastCheck = result.history
      .filter((e) => e.type === "StateExited" && e.state === "CheckConsumers")
      .at(-1);
    type Check = { check: { lagging: Array<{ consumerId: string; reason: string }> } };
    const check = ((lastCheck?.output ?? { check: { lagging: [] } }) as Check).check;
    // The silent consumer lags for want of a live instance. With a 2-second deadline the live one
    // may still be switching at the last check on a loaded machine (mixed fingerprints): that one
    // is timing, not what this test is about.
    expect(check.lagging).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ consumerId: silent.consumerId, reason: "no-live-instance" }),
      ]),
    );
    expect(
      check.lagging.filter((l) => l.consumerId !== silent.consumerId && l.consumerId !== live.consumerId),
    ).toEqual([]);
    expect(await ledgerOf(enrolled)).toEqual([]);
  });

  it("resumes a stalled rotation once the consumer catches up, then revokes", async () => {
    const enrolled = await enroll(world, { deadlineSeconds: 2, minOverlapSeconds: 1 });
    const [live, late] = defaultConsumers(enrolled.secretId, 2);
    if (!live || !late) throw new Error("fixture");
    await withConsumers(world, enrolled, [live]);
    await registerConsumers(enrolled, [late]);
    const stalled = await rotate(world, enrolled);
    expect(stalled.error).toBe("RotationStalled");

    const { SimulatedFleet } = await import("../../harness/local/consumers");
    const lateFleet = new SimulatedFleet(world.stack, [late]);
    await lateFleet.start();
    world.fleets.push(lateFleet);

    const resumed = await rotate(world, enrolled, { mode: "resume" });

    expect(resumed.status).toBe("SUCCEEDED");
    expect(statesEntered(resumed)).not.toContain("CreateNext");
    expect(activeKeys(world, enrolled)).toHaveLength(1);
    expect((await ledgerOf(enrolled)).map((e) => e.status)).toEqual(["revoked"]);
    expect(await enrolled.deps.lock.get(enrolled.secretId)).toBeUndefined();
    const audit = await enrolled.deps.audit.list(enrolled.secretId);
    expect(audit.map((a) => a.action)).toContain("rotation-resumed");
  });

  it("rolls a stalled rotation back, then resume waits for consumers to return and revokes the abandoned key", async () => {
    const enrolled = await enroll(world, { deadlineSeconds: 3, minOverlapSeconds: 1 });
    await withConsumers(world, enrolled, defaultConsumers(enrolled.secretId, 3, true));
    const original = (await enrolled.deps.store.getVersions(enrolled.secretId))?.current;
    const stalled = await rotate(world, enrolled);
    expect(stalled.error).toBe("RotationStalled");
    const abandoned = (await enrolled.deps.store.getVersions(enrolled.secretId))?.current;

    await rollback(
      { secretId: enrolled.secretId, actor: "operator:test", reason: "risk-service cannot refresh" },
      enrolled.deps,
    );
    const resumed = await rotate(world, enrolled, { mode: "resume" });

    expect(resumed.status).toBe("SUCCEEDED");
    const versions = await enrolled.deps.secrets.listVersions(enrolled.secretId);
    expect(versions.find((v) => v.stages.includes(STAGE.current))?.versionId).toBe(original?.versionId);
    const keys = world.stack.exchange.keys(enrolled.account);
    expect(keys.find((k) => k.keyId === abandoned?.exchangeKeyId)?.status).toBe("removed");
    expect(keys.find((k) => k.keyId === original?.exchangeKeyId)?.status).toBe("active");
    expect(activeKeys(world, enrolled)).toHaveLength(1);
    const audit = (await enrolled.deps.audit.list(enrolled.secretId)).map((a) => a.action);
    expect(audit).toEqual(
      expect.arrayContaining(["rotation-stalled", "rotation-rolled-back", "rotation-resumed", "key-revoked"]),
    );
  });

  it("force-revokes a stalled rotation on an operator's word, through the ledger, and frees the lock", async () => {
    const enrolled = await enroll(world, { deadlineSeconds: 2, minOverlapSeconds: 1 });
    await withConsumers(world, enrolled, defaultConsumers(enrolled.secretId, 2, true));
    const previous = (await enrolled.deps.store.getVersions(enrolled.secretId))?.current;
    await rotate(world, enrolled);
    // The stuck consumer is decommissioned before the operator acts: nobody holds the old key any more.
    await stopFleets(world);

    const out = await forceRevoke(
      { secretId: enrolled.secretId, actor: "operator:test", reason: "consumer retired" },
      enrolled.deps,
    );

    expect(out).toMatchObject({ keyId: previous?.exchangeKeyId, ledger: "revoked" });
    expect(activeKeys(world, enrolled)).toHaveLength(1);
    expect(await enrolled.deps.lock.get(enrolled.secretId)).toBeUndefined();
    const audit = await enrolled.deps.audit.list(enrolled.secretId);
    expect(audit.find((a) => a.action === "force-revoke-requested")?.actor).toBe("operator:test");
  });

  it("refuses resume when nothing is stalled", async () => {
    const enrolled = await enroll(world);
    const result = await rotate(world, enrolled, { mode: "resume" });
    expect(result.error).toBe("InvalidInputError");
    expect(result.cause).toContain("nothing to resume");
  });

  it("leaks no secret value anywhere", async () => {
    expect(await secretLeaks(world, [])).toEqual([]);
  });
});
