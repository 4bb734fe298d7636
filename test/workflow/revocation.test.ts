import { describe, expect, it } from "vitest";
import { STAGE } from "../../src/core/model";
import {
  activeKeys,
  enroll,
  ledgerOf,
  rotate,
  secretLeaks,
  sleep,
  statesEntered,
  stopFleets,
  useWorld,
  withConsumers,
} from "./harness";

// The RevokePrevious state makes up to 5 attempts; the sweeper may make 3 more before an operator is needed.
const world = useWorld({ maxAttempts: 8, baseSeconds: 1, capSeconds: 1 });

/** The real sweeper handler; imported after the stack has set the environment it reads at cold start. */
const retryRevocationsStep = async (event: unknown) =>
  (await import("../../functions/retry-revocations")).retryRevocationsStep(event);

const retriesOf = (result: Awaited<ReturnType<typeof rotate>>, state: string) =>
  result.history.filter((e) => e.type === "StateRetried" && e.state === state).length;

describe("revocation through the ledger", () => {
  it("retries a revocation that fails twice, then records it revoked", async () => {
    const enrolled = await enroll(world, { minOverlapSeconds: 1 });
    await withConsumers(world, enrolled);
    world.stack.exchange.setFault("removeKey", { failNext: 2, kind: "5xx" });

    const result = await rotate(world, enrolled);

    world.stack.exchange.clearFaults();
    expect(result.status).toBe("SUCCEEDED");
    expect(retriesOf(result, "RevokePrevious")).toBe(2);
    const [entry] = await ledgerOf(enrolled);
    expect(entry).toMatchObject({ status: "revoked", attempts: 3, needsOperator: false });
    expect(activeKeys(world, enrolled)).toHaveLength(1);
  });

  it("hands a revocation that keeps failing to the sweeper, which revokes it later", async () => {
    const enrolled = await enroll(world, { minOverlapSeconds: 1 });
    await withConsumers(world, enrolled);
    world.stack.exchange.setFault("removeKey", { failNext: 5, kind: "5xx" });

    const result = await rotate(world, enrolled);

    expect(result.status).toBe("SUCCEEDED");
    expect(statesEntered(result)).toContain("HandOverToSweeper");
    expect((result.output as { result: { outcome: string } }).result.outcome).toBe("revocation-deferred");
    const [failed] = await ledgerOf(enrolled);
    expect(failed).toMatchObject({ status: "failed", attempts: 5, needsOperator: false });
    expect(failed?.lastError).toContain("503");
    expect(failed?.nextAttemptAt).toBeDefined();
    expect(await enrolled.deps.lock.get(enrolled.secretId)).toBeUndefined();
    expect(
      world.stack.sns
        .messages()
        .some((m) => m.message.includes("revocation-failed") && m.attributes.secretId === enrolled.secretId),
    ).toBe(true);
    expect(activeKeys(world, enrolled)).toHaveLength(2);

    await sleep(1200);
    const sweep = await retryRevocationsStep({});

    expect(sweep.revoked).toBeGreaterThanOrEqual(1);
    expect((await ledgerOf(enrolled))[0]).toMatchObject({ status: "revoked", attempts: 6 });
    expect(activeKeys(world, enrolled)).toHaveLength(1);
  });

  it("flags an entry for an operator at the attempt threshold, keeps it listed, and blocks a third key", async () => {
    const enrolled = await enroll(world, { minOverlapSeconds: 1 });
    await withConsumers(world, enrolled);
    world.stack.exchange.setFault("removeKey", { errorRate: 1, kind: "5xx" });
    await rotate(world, enrolled);

    for (let i = 0; i < 3; i++) {
      await sleep(1100);
      await retryRevocationsStep({});
    }
    world.stack.exchange.clearFaults();

    const [entry] = await ledgerOf(enrolled);
    expect(entry).toMatchObject({ status: "failed", attempts: 8, needsOperator: true });
    expect(entry?.nextAttemptAt).toBeUndefined();
    expect(
      world.stack.sns
        .messages()
        .some(
          (m) =>
            m.message.includes("revocation-needs-operator") && m.attributes.secretId === enrolled.secretId,
        ),
    ).toBe(true);
    // Flagged entries are not retried by the sweeper any more.
    await sleep(1100);
    await retryRevocationsStep({});
    expect((await ledgerOf(enrolled))[0]?.attempts).toBe(8);

    const next = await rotate(world, enrolled);
    expect(next.status).toBe("FAILED");
    expect(next.error).toBe("ExchangeKeyLimitError");
    expect(next.cause).toContain(entry?.keyId);
    expect(next.cause).toContain("ledger failed, 8 attempt(s), needs operator");
    expect(activeKeys(world, enrolled)).toHaveLength(2);
  });

  it("settles a removal whose answer was lost by listing the keys: revoked on the first attempt, no operator paged", async () => {
    const enrolled = await enroll(world, { minOverlapSeconds: 1 });
    await withConsumers(world, enrolled);
    world.stack.exchange.setFault("removeKey", { failNext: 1, kind: "5xx-after-effect" });

    const result = await rotate(world, enrolled);

    world.stack.exchange.clearFaults();
    expect(result.status).toBe("SUCCEEDED");
    expect(retriesOf(result, "RevokePrevious")).toBe(0);
    expect((await ledgerOf(enrolled))[0]).toMatchObject({ status: "revoked", attempts: 1 });
    const audit = await enrolled.deps.audit.list(enrolled.secretId);
    expect(audit.find((a) => a.action === "key-revoked")?.details?.outcome).toBe("confirmed-after-error");
    const alerts = world.stack.sns.messages().filter((m) => m.attributes.secretId === enrolled.secretId);
    expect(alerts.map((m) => m.attributes.kind)).not.toContain("revocation-needs-operator");
  });
});

describe("failures before promotion", () => {
  it("aborts cleanly when the new key does not authenticate: key revoked, AWSPENDING removed, lock released", async () => {
    // Consumers' trading calls hit the same endpoint as key verification: keep the fault for it alone.
    await stopFleets(world);
    const enrolled = await enroll(world);
    const before = activeKeys(world, enrolled).map((k) => k.keyId);
    world.stack.exchange.setFault("account", { failNext: 1, kind: "4xx" });

    const result = await rotate(world, enrolled);

    world.stack.exchange.clearFaults();
    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("KeyVerificationFailedError");
    expect(statesEntered(result)).toEqual(
      expect.arrayContaining(["CreateNext", "AbortRotation", "RotationAborted"]),
    );
    expect(statesEntered(result)).not.toContain("PromoteCurrent");
    expect(activeKeys(world, enrolled).map((k) => k.keyId)).toEqual(before);
    const versions = await enrolled.deps.secrets.listVersions(enrolled.secretId);
    expect(versions.some((v) => v.stages.includes(STAGE.next))).toBe(false);
    expect(await enrolled.deps.lock.get(enrolled.secretId)).toBeUndefined();
    expect((await ledgerOf(enrolled)).map((e) => e.status)).toEqual(["revoked"]);
    expect((await enrolled.deps.store.getRotation(enrolled.secretId, result.executionName))?.phase).toBe(
      "aborted",
    );

    const again = await rotate(world, enrolled);
    expect(again.status).toBe("SUCCEEDED");
    expect(activeKeys(world, enrolled)).toHaveLength(1);
  });

  it("survives a key creation whose response was lost: the orphan is removed, never a third key", async () => {
    const enrolled = await enroll(world, { minOverlapSeconds: 1 });
    await withConsumers(world, enrolled);
    world.stack.exchange.setFault("createKey", { failNext: 1, kind: "5xx-after-effect" });

    const result = await rotate(world, enrolled);

    world.stack.exchange.clearFaults();
    expect(result.status).toBe("SUCCEEDED");
    expect(retriesOf(result, "CreateNext")).toBe(1);
    const keys = world.stack.exchange.keys(enrolled.account);
    expect(keys).toHaveLength(3);
    expect(keys.filter((k) => k.status === "active")).toHaveLength(1);
    const audit = await enrolled.deps.audit.list(enrolled.secretId);
    expect(audit.map((a) => a.action)).toContain("orphan-key-found");
  });

  it("refuses to create a key when the exchange is at its limit, naming the unrevoked key", async () => {
    const enrolled = await enroll(world);
    const extra = world.stack.exchange.seedKey(enrolled.account, { label: "manual", permissions: ["read"] });

    const result = await rotate(world, enrolled);

    expect(result.error).toBe("ExchangeKeyLimitError");
    expect(result.cause).toContain(extra.keyId);
    expect(result.cause).toContain("not in the ledger");
    expect(activeKeys(world, enrolled)).toHaveLength(2);
    expect(await enrolled.deps.lock.get(enrolled.secretId)).toBeUndefined();
  });

  it("leaks no secret value anywhere", async () => {
    expect(await secretLeaks(world, [])).toEqual([]);
  });
});
