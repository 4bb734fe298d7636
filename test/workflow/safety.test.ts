/**
 * The safety breaks that live in the workflow's paths (the real ASL on the local stack), each named
 * after its break in the safety review. The core-level regressions are in test/unit.
 */
import { describe, expect, it } from "vitest";
import { type InjectedFault, runRotation } from "../../harness/local/workflow-runner";
import { activeKeys, enroll, ledgerOf, statesEntered, useWorld, withConsumers } from "./harness";

const world = useWorld({ maxAttempts: 8, baseSeconds: 1, capSeconds: 1 });

async function run(secretId: string, mode: "rotate" | "resume", inject: InjectedFault[] = []) {
  const result = await runRotation(
    { secretId, trigger: "manual", mode },
    { waitMs: 100, retryMs: 10, inject },
  );
  world.executions.push(result);
  return result;
}

describe("safety breaks on the workflow's paths", () => {
  it("break 1: RevokePrevious failing with anything but a recorded revocation failure parks the rotation; nothing is handed to the sweeper", async () => {
    const enrolled = await enroll(world, { minOverlapSeconds: 1 });
    await withConsumers(world, enrolled);
    const firstKey = (await enrolled.deps.store.getVersions(enrolled.secretId))?.current?.exchangeKeyId;

    // A Lambda that dies before doing anything (a timeout reading the gate): not retried by the state.
    const parked = await run(enrolled.secretId, "rotate", [
      { state: "RevokePrevious", when: "before", error: "Lambda.Unknown" },
    ]);

    expect(parked.status).toBe("FAILED");
    expect(statesEntered(parked)).toContain("ParkRotation");
    expect(statesEntered(parked)).not.toContain("HandOverToSweeper");
    expect(await enrolled.deps.lock.get(enrolled.secretId)).toMatchObject({ stalled: true });
    expect(await ledgerOf(enrolled)).toEqual([]);
    expect(activeKeys(world, enrolled).map((k) => k.keyId)).toContain(firstKey);

    const resumed = await run(enrolled.secretId, "resume");

    expect(resumed.status).toBe("SUCCEEDED");
    expect(activeKeys(world, enrolled)).toHaveLength(1);
    expect((await ledgerOf(enrolled))[0]).toMatchObject({ keyId: firstKey, status: "revoked" });
  });

  it("break 13: an abort that cannot finish stalls the rotation with an alert; resume finishes it once the exchange is back", async () => {
    const enrolled = await enroll(world, { minOverlapSeconds: 1 });
    await withConsumers(world, enrolled);
    // The exchange keeps failing: key creation, then the abort's listing, every retry.
    world.stack.exchange.setFault("createKey", { failNext: 100, kind: "5xx" });
    world.stack.exchange.setFault("listKeys", { failNext: 100, kind: "5xx" });

    const failed = await run(enrolled.secretId, "rotate");

    world.stack.exchange.clearFaults();
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toBe("AbortFailed");
    expect(statesEntered(failed)).toContain("StallAfterFailedAbort");
    expect(await enrolled.deps.lock.get(enrolled.secretId)).toMatchObject({ stalled: true });
    const alerts = world.stack.sns.messages().filter((m) => m.attributes.secretId === enrolled.secretId);
    expect(alerts.map((m) => m.attributes.kind)).toContain("rotation-stalled");

    const resumed = await run(enrolled.secretId, "resume");

    expect(resumed.status).toBe("SUCCEEDED");
    expect(activeKeys(world, enrolled)).toHaveLength(1);
    expect(await enrolled.deps.lock.get(enrolled.secretId)).toBeUndefined();
  });

  it("break 7: a resume that crashes inside BeginRotation is stalled again, so the next resume proceeds at once", async () => {
    const enrolled = await enroll(world, { minOverlapSeconds: 1 });
    await withConsumers(world, enrolled);
    const parked = await run(enrolled.secretId, "rotate", [
      { state: "RevokePrevious", when: "before", error: "Lambda.Unknown" },
    ]);
    expect(parked.status).toBe("FAILED");

    const crashed = await run(enrolled.secretId, "resume", [
      { state: "BeginRotation", when: "after", error: "Lambda.Unknown" },
    ]);

    expect(crashed.status).toBe("FAILED");
    expect(statesEntered(crashed)).toContain("AbortRotation");
    expect(await enrolled.deps.lock.get(enrolled.secretId)).toMatchObject({ stalled: true });
    const resumed = await run(enrolled.secretId, "resume");
    expect(resumed.status).toBe("SUCCEEDED");
    expect(activeKeys(world, enrolled)).toHaveLength(1);
  });
});
