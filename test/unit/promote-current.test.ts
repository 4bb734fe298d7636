import { beforeEach, describe, expect, it } from "vitest";
import { ThrottlingException } from "../../harness/memory/faults";
import { RotationInProgressError, RotationStateError } from "../../src/core/errors";
import { STAGE } from "../../src/core/model";
import { createNext } from "../../src/core/rotation/create-next";
import { promoteCurrent } from "../../src/core/rotation/promote-current";
import { type FakeDeps, makeDeps, type SeededSecret, seedSecret } from "./fakes";
import { startRotation } from "./support/flow";

describe("promoteCurrent", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  const rotationId = "rot-1";
  const ref = () => ({ secretId: seeded.secretId, rotationId });

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps);
    await startRotation(deps, seeded.secretId, rotationId);
  });

  it("moves AWSCURRENT to the new version, AWSPREVIOUS to the old one, and removes AWSPENDING", async () => {
    const created = await createNext(ref(), deps);
    deps.clock.advance(10);

    const out = await promoteCurrent(ref(), deps);

    expect(await deps.secrets.listVersions(seeded.secretId)).toEqual([
      { versionId: seeded.versionId, stages: [STAGE.previous] },
      { versionId: created.next.versionId, stages: [STAGE.current] },
    ]);
    expect(out).toEqual({
      current: created.next,
      previous: created.current,
      promotedAt: deps.clock.now().toISOString(),
    });
  });

  it("records previous/current fingerprints and when promotion happened", async () => {
    const created = await createNext(ref(), deps);
    deps.clock.advance(10);

    await promoteCurrent(ref(), deps);

    expect(await deps.store.getVersions(seeded.secretId)).toEqual({
      secretId: seeded.secretId,
      previous: { versionId: seeded.versionId, fingerprint: seeded.fingerprint, exchangeKeyId: seeded.keyId },
      current: created.next,
      promotedAt: deps.clock.now().toISOString(),
      updatedAt: deps.clock.now().toISOString(),
    });
    expect(await deps.store.getRotation(seeded.secretId, rotationId)).toMatchObject({
      phase: "promoted",
      previous: created.current,
      current: created.next,
    });
    expect(deps.audit.actions(seeded.secretId).filter((a) => a === "current-promoted")).toHaveLength(1);
  });

  it("is idempotent when re-run: no label move, same promotion time, one audit entry", async () => {
    await createNext(ref(), deps);
    const first = await promoteCurrent(ref(), deps);
    const labels = deps.secrets.dump(seeded.secretId);
    const moves = deps.secrets.stageMoves.length;
    deps.clock.advance(120);

    const second = await promoteCurrent(ref(), deps);

    expect(second.current).toEqual(first.current);
    expect(second.promotedAt).toBe(first.promotedAt);
    expect(deps.secrets.dump(seeded.secretId)).toBe(labels);
    expect(deps.secrets.stageMoves).toHaveLength(moves);
    expect(deps.audit.actions(seeded.secretId).filter((a) => a === "current-promoted")).toHaveLength(1);
  });

  it("reports the same previous version when re-run (a Lambda retry after success)", async () => {
    const created = await createNext(ref(), deps);
    const first = await promoteCurrent(ref(), deps);

    const second = await promoteCurrent(ref(), deps);

    // The state machine carries `previous.exchangeKeyId` as `promoted.previousKeyId`.
    expect(first.previous).toEqual(created.current);
    expect(second.previous).toEqual(created.current);
  });

  it("finishes a promotion that crashed between the label moves", async () => {
    const created = await createNext(ref(), deps);
    deps.secrets.faults.failNext("moveStage", 1, ThrottlingException);
    // First move fails outright: nothing changed, the retry does it all.
    await expect(promoteCurrent(ref(), deps)).rejects.toThrow(ThrottlingException);
    expect(deps.secrets.holder(seeded.secretId, STAGE.current)).toBe(seeded.versionId);

    // Now the AWSPENDING removal fails after AWSCURRENT moved.
    deps.secrets.faults.failAfter("moveStage", 1, 1, ThrottlingException, "Rate exceeded");
    await expect(promoteCurrent(ref(), deps)).rejects.toThrow("Rate exceeded");
    expect(deps.secrets.holder(seeded.secretId, STAGE.current)).toBe(created.next.versionId);
    expect(deps.secrets.holder(seeded.secretId, STAGE.next)).toBe(created.next.versionId);

    await promoteCurrent(ref(), deps);

    expect(await deps.secrets.listVersions(seeded.secretId)).toEqual([
      { versionId: seeded.versionId, stages: [STAGE.previous] },
      { versionId: created.next.versionId, stages: [STAGE.current] },
    ]);
    expect((await deps.store.getVersions(seeded.secretId))?.current).toEqual(created.next);
  });

  it("refuses without a next version, and when the lock is held by someone else", async () => {
    await expect(promoteCurrent(ref(), deps)).rejects.toBeInstanceOf(RotationStateError);
    await expect(
      promoteCurrent({ secretId: seeded.secretId, rotationId: "other" }, deps),
    ).rejects.toBeInstanceOf(RotationInProgressError);
    expect(deps.secrets.stageMoves).toHaveLength(0);
  });
});
