import { describe, expect, it } from "vitest";
import { type InjectedFault, runRotation } from "../../harness/local/workflow-runner";
import { STAGE } from "../../src/core/model";
import { activeKeys, enroll, ledgerOf, secretLeaks, useWorld, withConsumers } from "./harness";

const world = useWorld({ maxAttempts: 8, baseSeconds: 1, capSeconds: 1 });

const TASKS = [
  "BeginRotation",
  "CreateNext",
  "PromoteCurrent",
  "CheckConsumers",
  "RevokePrevious",
  "CompleteRotation",
];

async function run(secretId: string, mode: "rotate" | "resume", inject: InjectedFault[] = []) {
  const result = await runRotation(
    { secretId, trigger: "manual", mode },
    { waitMs: 100, retryMs: 10, inject },
  );
  world.executions.push(result);
  return result;
}

/** The end state every recovery must reach: one active key, the old one revoked once, nothing left over. */
async function expectConverged(enrolled: Awaited<ReturnType<typeof enroll>>, firstKey: string | undefined) {
  const keys = world.stack.exchange.keys(enrolled.account);
  expect(activeKeys(world, enrolled)).toHaveLength(1);
  expect(keys.find((k) => k.keyId === firstKey)?.status).toBe("removed");
  // No orphan: every key but the current one is removed, and each removal is in the ledger.
  const current = (await enrolled.deps.store.getVersions(enrolled.secretId))?.current?.exchangeKeyId;
  const ledger = await ledgerOf(enrolled);
  for (const key of keys.filter((k) => k.keyId !== current)) {
    expect(key.status).toBe("removed");
    expect(ledger.find((e) => e.keyId === key.keyId)?.status).toBe("revoked");
  }
  expect(ledger.every((e) => e.status === "revoked")).toBe(true);
  const versions = await enrolled.deps.secrets.listVersions(enrolled.secretId);
  expect(versions.some((v) => v.stages.includes(STAGE.next))).toBe(false);
  expect(versions.find((v) => v.stages.includes(STAGE.current))?.versionId).toBe(
    (await enrolled.deps.store.getVersions(enrolled.secretId))?.current?.versionId,
  );
  expect(await enrolled.deps.lock.get(enrolled.secretId)).toBeUndefined();
}

describe("a step's work done but its answer lost (transient Lambda error, retried by the state)", () => {
  for (const state of TASKS) {
    it(`${state}: the retry is harmless — one rotation, never a third key`, async () => {
      const enrolled = await enroll(world, { minOverlapSeconds: 1 });
      await withConsumers(world, enrolled);
      const firstKey = (await enrolled.deps.store.getVersions(enrolled.secretId))?.current?.exchangeKeyId;

      const result = await run(enrolled.secretId, "rotate", [
        { state, when: "after", error: "Lambda.ServiceException" },
      ]);

      expect(result.status).toBe("SUCCEEDED");
      expect(result.history.some((e) => e.type === "StateRetried" && e.state === state)).toBe(true);
      expect(world.stack.exchange.keys(enrolled.account)).toHaveLength(2);
      await expectConverged(enrolled, firstKey);
    });
  }
});

describe("a step that crashes after its work (Lambda.Unknown, not retried), then an operator re-run", () => {
  for (const state of TASKS) {
    it(`${state}: converges with no orphan key and no lost ledger entry`, async () => {
      const enrolled = await enroll(world, { minOverlapSeconds: 1 });
      await withConsumers(world, enrolled);
      const firstKey = (await enrolled.deps.store.getVersions(enrolled.secretId))?.current?.exchangeKeyId;

      const crashed = await run(enrolled.secretId, "rotate", [
        { state, when: "after", error: "Lambda.Unknown" },
      ]);
      // What an operator would do next, from the state the crash left behind.
      let final = crashed;
      if (crashed.status === "FAILED") {
        const lock = await enrolled.deps.lock.get(enrolled.secretId);
        final = await run(enrolled.secretId, lock ? "resume" : "rotate");
      }

      expect(final.status).toBe("SUCCEEDED");
      expect(activeKeys(world, enrolled).length).toBeLessThanOrEqual(2);
      await expectConverged(enrolled, firstKey);
    });
  }

  it("leaks no secret value anywhere", async () => {
    expect(await secretLeaks(world, [])).toEqual([]);
  });
});
