import { beforeEach, describe, expect, it } from "vitest";
import { leaseSecondsFor } from "../../src/core/deps";
import { InvalidInputError, RotationInProgressError } from "../../src/core/errors";
import { abortRotation } from "../../src/core/rotation/abort-rotation";
import { beginRotation } from "../../src/core/rotation/begin-rotation";
import { checkConsumers } from "../../src/core/rotation/check-consumers";
import { createNext } from "../../src/core/rotation/create-next";
import { markStalled } from "../../src/core/rotation/mark-stalled";
import { promoteCurrent } from "../../src/core/rotation/promote-current";
import { type FakeDeps, makeDeps, type SeededSecret, seedSecret } from "./fakes";
import { resumeRotation, rotateToPromoted, startRotation } from "./support/flow";

describe("per-secret rotation lock", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps);
  });

  async function snapshot(rotationId: string) {
    return {
      lock: JSON.stringify(await deps.lock.get(seeded.secretId)),
      rotation: JSON.stringify(await deps.store.getRotation(seeded.secretId, rotationId)),
      versions: JSON.stringify(await deps.store.getVersions(seeded.secretId)),
      secret: deps.secrets.dump(seeded.secretId),
      audit: deps.audit.actions(seeded.secretId).length,
      exchangeCalls: deps.exchange.calls.length,
    };
  }

  it("records the lease and the new rotation on begin", async () => {
    const begun = await startRotation(deps, seeded.secretId, "r1");

    expect(begun).toMatchObject({ rotationId: "r1", route: "create", mode: "rotate" });
    expect(await deps.lock.get(seeded.secretId)).toEqual({
      secretId: seeded.secretId,
      rotationId: "r1",
      acquiredAt: deps.clock.now().toISOString(),
      leaseExpiresAt: new Date(
        deps.clock.now().getTime() + leaseSecondsFor(seeded.settings) * 1000,
      ).toISOString(),
      stalled: false,
      execution: "r1",
    });
    expect((await deps.store.getRotation(seeded.secretId, "r1"))?.phase).toBe("started");
  });

  it("fails a second rotation fast with RotationInProgressError and leaves the first byte-for-byte unchanged", async () => {
    await startRotation(deps, seeded.secretId, "r1");
    await createNext({ secretId: seeded.secretId, rotationId: "r1" }, deps);
    const before = await snapshot("r1");
    deps.clock.advance(60);

    await expect(startRotation(deps, seeded.secretId, "r2")).rejects.toBeInstanceOf(RotationInProgressError);
    await expect(createNext({ secretId: seeded.secretId, rotationId: "r2" }, deps)).rejects.toBeInstanceOf(
      RotationInProgressError,
    );
    await expect(
      promoteCurrent({ secretId: seeded.secretId, rotationId: "r2" }, deps),
    ).rejects.toBeInstanceOf(RotationInProgressError);

    expect(await snapshot("r1")).toEqual(before);
    expect(await deps.store.getRotation(seeded.secretId, "r2")).toBeUndefined();
  });

  it("names the holder in the error", async () => {
    await startRotation(deps, seeded.secretId, "r1");

    await expect(startRotation(deps, seeded.secretId, "r2")).rejects.toThrow(/r1.*r2 changed nothing/);
  });

  it("lets the same rotation re-enter (a retried step)", async () => {
    await startRotation(deps, seeded.secretId, "r1");
    deps.clock.advance(30);

    const again = await startRotation(deps, seeded.secretId, "r1");

    expect(again.rotationId).toBe("r1");
    expect((await deps.lock.get(seeded.secretId))?.rotationId).toBe("r1");
    expect(deps.audit.actions(seeded.secretId).filter((a) => a === "rotation-started")).toHaveLength(1);
  });

  it("break 5: never takes over a promoted rotation whose execution died: it is stalled, alerted, and stays resumable", async () => {
    await rotateToPromoted(deps, seeded.secretId, "r1");
    deps.clock.advance(leaseSecondsFor(seeded.settings) + 1);

    await expect(startRotation(deps, seeded.secretId, "r2")).rejects.toThrow(/stalled for an operator/);

    expect(await deps.lock.get(seeded.secretId)).toMatchObject({ rotationId: "r1", stalled: true });
    expect(await deps.store.getRotation(seeded.secretId, "r2")).toBeUndefined();
    expect((await deps.store.getRotation(seeded.secretId, "r1"))?.phase).toBe("promoted");
    expect(deps.alerts.kinds()).toContain("rotation-execution-lost");
    expect(deps.audit.actions(seeded.secretId)).toContain("rotation-execution-lost");
    const resumed = await resumeRotation(deps, seeded.secretId, "x1");
    expect(resumed).toMatchObject({ rotationId: "r1", route: "wait" });
  });

  it("a finder that dies right after stalling a lost execution's lock still leaves the stall audited", async () => {
    await rotateToPromoted(deps, seeded.secretId, "r1");
    deps.clock.advance(leaseSecondsFor(seeded.settings) + 1);
    // The stall lands, then the finder dies (its answer lost): nothing after it runs.
    const realStall = deps.lock.markStalled.bind(deps.lock);
    deps.lock.markStalled = async (...args) => {
      await realStall(...args);
      throw new Error("Lambda died after the stall");
    };

    await expect(startRotation(deps, seeded.secretId, "r2")).rejects.toThrow(/Lambda died/);

    expect(await deps.lock.get(seeded.secretId)).toMatchObject({ rotationId: "r1", stalled: true });
    expect(deps.audit.actions(seeded.secretId)).toContain("rotation-execution-lost");
  });

  it("a stall that loses to a renewal audits that the execution was alive after all", async () => {
    await rotateToPromoted(deps, seeded.secretId, "r1");
    deps.clock.advance(leaseSecondsFor(seeded.settings) + 1);
    const realStall = deps.lock.markStalled.bind(deps.lock);
    deps.lock.markStalled = async (...args) => {
      // The holder renews between the finder's read and its conditional stall.
      await deps.lock.renew(seeded.secretId, "r1", "r1", deps.clock.now(), 3600);
      return realStall(...args);
    };

    await expect(startRotation(deps, seeded.secretId, "r2")).rejects.toBeInstanceOf(RotationInProgressError);

    expect(await deps.lock.get(seeded.secretId)).toMatchObject({ rotationId: "r1", stalled: false });
    expect(deps.audit.actions(seeded.secretId).slice(-2)).toEqual([
      "rotation-execution-lost",
      "rotation-execution-alive",
    ]);
  });

  it("break 5: a waiting execution renews its lease at every check, so it never looks dead", async () => {
    await rotateToPromoted(deps, seeded.secretId, "r1");
    const lease = leaseSecondsFor(seeded.settings);
    for (let i = 0; i < 3; i++) {
      deps.clock.advance(lease - 10);
      await checkConsumers(
        { secretId: seeded.secretId, rotationId: "r1", execution: "r1", iteration: i },
        deps,
      );
    }

    await expect(startRotation(deps, seeded.secretId, "r2")).rejects.toThrow(/lease until/);
    expect(await deps.lock.get(seeded.secretId)).toMatchObject({ rotationId: "r1", stalled: false });
  });

  it("fences out the execution a resume replaced", async () => {
    await rotateToPromoted(deps, seeded.secretId, "r1");
    await markStalled({ secretId: seeded.secretId, rotationId: "r1", lagging: [], laggingCount: 0 }, deps);
    await resumeRotation(deps, seeded.secretId, "x2");

    await expect(
      checkConsumers({ secretId: seeded.secretId, rotationId: "r1", execution: "r1", iteration: 0 }, deps),
    ).rejects.toBeInstanceOf(RotationInProgressError);
    await expect(
      checkConsumers({ secretId: seeded.secretId, rotationId: "r1", execution: "x2", iteration: 0 }, deps),
    ).resolves.toMatchObject({ ready: false });
  });

  it("a resume fences the replaced execution out of the rotation record before it takes the lock", async () => {
    await rotateToPromoted(deps, seeded.secretId, "r1");
    deps.clock.advance(leaseSecondsFor(seeded.settings) + 1);
    const stale = await deps.store.getRotation(seeded.secretId, "r1");
    let lateWrite: Promise<void> | undefined;
    const resume = deps.lock.resume.bind(deps.lock);
    deps.lock.resume = async (...args) => {
      // The replaced execution, still mid-step, writes just before the resume takes the lock.
      lateWrite = deps.store.putRotation({ ...(stale as NonNullable<typeof stale>), phase: "aborted" }, "r1");
      await lateWrite.catch(() => undefined);
      return resume(...args);
    };

    await resumeRotation(deps, seeded.secretId, "x1");

    await expect(lateWrite).rejects.toBeInstanceOf(RotationInProgressError);
    expect((await deps.store.getRotation(seeded.secretId, "r1"))?.phase).not.toBe("aborted");
    expect((await deps.lock.get(seeded.secretId))?.execution).toBe("x1");
  });

  it("break 8: of two concurrent resumes exactly one proceeds", async () => {
    await rotateToPromoted(deps, seeded.secretId, "r1");
    await markStalled({ secretId: seeded.secretId, rotationId: "r1", lagging: [], laggingCount: 0 }, deps);

    const results = await Promise.allSettled([
      resumeRotation(deps, seeded.secretId, "x1"),
      resumeRotation(deps, seeded.secretId, "x2"),
    ]);

    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected");
    expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(RotationInProgressError);
    expect(deps.audit.actions(seeded.secretId).filter((a) => a === "rotation-resumed")).toHaveLength(1);
  });

  it("break 7: a resume whose BeginRotation crashed after adopting the lock is stalled again by the catch path", async () => {
    await rotateToPromoted(deps, seeded.secretId, "r1");
    await markStalled({ secretId: seeded.secretId, rotationId: "r1", lagging: [], laggingCount: 0 }, deps);
    await resumeRotation(deps, seeded.secretId, "x1");
    // BeginRotation died after its work; the ASL's catch aborts under the execution's own name.

    const out = await abortRotation(
      { secretId: seeded.secretId, rotationId: "x1", execution: "x1", error: "Lambda.Unknown" },
      deps,
    );

    expect(out.outcome).toBe("stalled");
    expect(await deps.lock.get(seeded.secretId)).toMatchObject({ rotationId: "r1", stalled: true });
    await expect(resumeRotation(deps, seeded.secretId, "x2")).resolves.toMatchObject({ rotationId: "r1" });
  });

  it("refuses a new rotation one second before the lease runs out, without stalling the holder", async () => {
    await startRotation(deps, seeded.secretId, "r1");
    deps.clock.advance(leaseSecondsFor(seeded.settings) - 1);

    await expect(startRotation(deps, seeded.secretId, "r2")).rejects.toBeInstanceOf(RotationInProgressError);
    expect(await deps.lock.get(seeded.secretId)).toMatchObject({ rotationId: "r1", stalled: false });
  });

  it("never expires a stalled lock", async () => {
    await rotateToPromoted(deps, seeded.secretId, "r1");
    await markStalled(
      {
        secretId: seeded.secretId,
        rotationId: "r1",
        lagging: [],
        laggingCount: 0,
        deadlineAt: "2030-01-02T00:00:00Z",
      },
      deps,
    );
    deps.clock.advance(365 * 86_400);

    await expect(startRotation(deps, seeded.secretId, "r2")).rejects.toThrow(/stalled/);
    expect(await deps.lock.get(seeded.secretId)).toMatchObject({ rotationId: "r1", stalled: true });
  });

  it("resume adopts a stalled rotation with a fresh lease; resume of a running one is refused", async () => {
    await rotateToPromoted(deps, seeded.secretId, "r1");
    await expect(
      beginRotation(
        { secretId: seeded.secretId, trigger: "manual", mode: "resume", executionName: "x1", actor: "op" },
        deps,
      ),
    ).rejects.toBeInstanceOf(RotationInProgressError);

    await markStalled(
      {
        secretId: seeded.secretId,
        rotationId: "r1",
        lagging: [],
        laggingCount: 0,
        deadlineAt: "2030-01-02T00:00:00Z",
      },
      deps,
    );
    const resumed = await beginRotation(
      { secretId: seeded.secretId, trigger: "manual", mode: "resume", executionName: "x2", actor: "op" },
      deps,
    );

    expect(resumed).toMatchObject({ rotationId: "r1", route: "wait", mode: "resume" });
    expect(await deps.lock.get(seeded.secretId)).toMatchObject({ rotationId: "r1", stalled: false });
    expect(await deps.store.getRotation(seeded.secretId, "r1")).toMatchObject({ phase: "promoted" });
  });

  it("refuses resume when nothing holds the lock", async () => {
    await expect(
      beginRotation(
        { secretId: seeded.secretId, trigger: "manual", mode: "resume", executionName: "x", actor: "op" },
        deps,
      ),
    ).rejects.toBeInstanceOf(InvalidInputError);
  });
});
