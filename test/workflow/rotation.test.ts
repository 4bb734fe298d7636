import { describe, expect, it } from "vitest";
import { runRotation } from "../../harness/local/workflow-runner";
import { verifyAuditChain } from "../../src/core/audit/chain";
import { STAGE } from "../../src/core/model";
import {
  activeKeys,
  enroll,
  ledgerOf,
  rotate,
  secretLeaks,
  statesEntered,
  useWorld,
  withConsumers,
} from "./harness";

const world = useWorld();

describe("rotation workflow, happy path (real ASL, real handlers, local stack)", () => {
  it("creates, promotes, waits for every consumer, revokes the previous key and releases the lock", async () => {
    const enrolled = await enroll(world);
    const fleet = await withConsumers(world, enrolled);
    const before = await enrolled.deps.store.getVersions(enrolled.secretId);

    const result = await rotate(world, enrolled);

    expect(result.status).toBe("SUCCEEDED");
    expect(statesEntered(result)).toEqual(
      expect.arrayContaining([
        "BeginRotation",
        "CreateNext",
        "PromoteCurrent",
        "CheckConsumers",
        "RevokePrevious",
        "CompleteRotation",
      ]),
    );
    const versions = await enrolled.deps.secrets.listVersions(enrolled.secretId);
    const current = versions.find((v) => v.stages.includes(STAGE.current));
    const previous = versions.find((v) => v.stages.includes(STAGE.previous));
    expect(versions.some((v) => v.stages.includes(STAGE.next))).toBe(false);
    expect(previous?.versionId).toBe(before?.current?.versionId);
    expect(current?.versionId).not.toBe(before?.current?.versionId);

    const keys = world.stack.exchange.keys(enrolled.account);
    expect(keys.find((k) => k.keyId === before?.current?.exchangeKeyId)?.status).toBe("removed");
    expect(activeKeys(world, enrolled)).toHaveLength(1);

    const recorded = await enrolled.deps.store.getVersions(enrolled.secretId);
    expect(fleet.states().every((s) => s.fingerprint === recorded?.current?.fingerprint)).toBe(true);
    const ledger = await ledgerOf(enrolled);
    expect(ledger.map((e) => [e.keyId, e.status])).toEqual([[before?.current?.exchangeKeyId, "revoked"]]);
    expect(await enrolled.deps.lock.get(enrolled.secretId)).toBeUndefined();

    const audit = await enrolled.deps.audit.list(enrolled.secretId);
    expect(verifyAuditChain(audit).ok).toBe(true);
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining([
        "rotation-started",
        "next-created",
        "current-promoted",
        "key-revoked",
        "rotation-completed",
      ]),
    );
  });

  it("honours minOverlapSeconds: revocation never happens sooner after promotion", async () => {
    const enrolled = await enroll(world, { minOverlapSeconds: 3 });
    await withConsumers(world, enrolled);

    const result = await rotate(world, enrolled);

    expect(result.status).toBe("SUCCEEDED");
    // The overlap counts from the promotion the core recorded (the label move), not from when the
    // PromoteCurrent state happened to exit on a loaded machine.
    const promotedAt = Date.parse(
      (await enrolled.deps.store.getVersions(enrolled.secretId))?.promotedAt ?? "",
    );
    const revoking = result.history.find((e) => e.type === "StateEntered" && e.state === "RevokePrevious");
    expect(revoking).toBeTruthy();
    expect((revoking?.timestamp ?? 0) - promotedAt).toBeGreaterThanOrEqual(3000);
  });

  it("rejects bad execution input at the first state, naming the field, and touches nothing", async () => {
    const enrolled = await enroll(world);
    const result = await rotate(world, enrolled, { trigger: "sometimes", extra: 1 });

    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("InvalidInputError");
    expect(result.cause).toContain("trigger");
    expect(result.cause).toContain("extra");
    expect(statesEntered(result)).toEqual(["ReadInput", "WrapInput", "BeginRotation", "RotationRejected"]);
    expect(await enrolled.deps.lock.get(enrolled.secretId)).toBeUndefined();
    expect(activeKeys(world, enrolled)).toHaveLength(1);
  });

  it("break 14: a null input fails at the first state and touches nothing", async () => {
    // aws-local-stepfunctions cannot evaluate any path into a null input (even `$` with IsNull),
    // so locally this ends as States.Runtime; on AWS the ReadInput Choice names it InvalidInputError.
    const enrolled = await enroll(world);

    const result = await runRotation(null as never, { waitMs: 150, retryMs: 20 });

    expect(result.status).toBe("FAILED");
    expect(["InvalidInputError", "States.Runtime"]).toContain(result.error);
    expect(await enrolled.deps.lock.get(enrolled.secretId)).toBeUndefined();
  });

  it.each([
    ["an array", []],
    ["a string", "x"],
    ["a number", 42],
  ])(
    "break 14: rejects %s as execution input with InvalidInputError, not a runtime error",
    async (_what, input) => {
      const enrolled = await enroll(world);

      const result = await runRotation(input as never, { waitMs: 150, retryMs: 20 });

      expect(result.status).toBe("FAILED");
      expect(result.error).toBe("InvalidInputError");
      expect(statesEntered(result).at(-1)).toMatch(/^(RotationRejected|NullInputRejected)$/);
      expect(statesEntered(result)).not.toContain("AbortRotation");
      expect(await enrolled.deps.lock.get(enrolled.secretId)).toBeUndefined();
    },
  );

  it("refuses a secret that is not enrolled", async () => {
    const result = await rotate(world, { secretId: "keyshift/exchange/nobody/none" } as never);
    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("SecretNotEnrolledError");
  });

  it("lets only one of two concurrent rotations proceed; the other fails fast and changes nothing", async () => {
    const enrolled = await enroll(world);
    await withConsumers(world, enrolled);

    const [a, b] = await Promise.all([
      rotate(world, enrolled, {}, "rotation-a"),
      rotate(world, enrolled, {}, "rotation-b"),
    ]);

    const outcomes = [a, b].map((r) => r.status).sort();
    expect(outcomes).toEqual(["FAILED", "SUCCEEDED"]);
    const loser = a.status === "FAILED" ? a : b;
    expect(loser.error).toBe("RotationInProgressError");
    expect(statesEntered(loser)).toEqual(["ReadInput", "WrapInput", "BeginRotation", "RotationRejected"]);
    expect(await enrolled.deps.store.getRotation(enrolled.secretId, loser.executionName)).toBeUndefined();
    expect(activeKeys(world, enrolled)).toHaveLength(1);
    expect((await ledgerOf(enrolled)).filter((e) => e.status === "revoked")).toHaveLength(1);
  });

  it("never lets a secret value reach logs, execution history, audit entries or alerts", async () => {
    expect(world.logs.lines.length).toBeGreaterThan(10);
    const leaks = await secretLeaks(world, []);
    expect(leaks).toEqual([]);
  });
});
