/**
 * The `RotationStore` port: settings, version fingerprints, rotation records and their fencing —
 * `putRotation(record, writer)`, `claimRotation`, `putRotationFenced`, `putVersionsIfCurrent`, the
 * conditional writes a takeover (resume, escalation, an operator command) relies on so that a step
 * of the execution it replaced can no longer write (I4). Refused → `RotationInProgressError`.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../src/core/errors";
import type { RotationRecord, SecretSettings, VersionFingerprints } from "../../../src/core/model";
import type { RotationLock, RotationStore } from "../../../src/core/ports";
import { at, iso, LEASE, lockRefused, type PortTarget } from "./support";

export function rotationStoreContract(target: PortTarget<RotationStore & RotationLock>): void {
  describe(`RotationStore (${target.name})`, () => {
    let lock: RotationStore & RotationLock;
    beforeEach(() => {
      lock = target.make();
    });

    const settingsOf = (secretId: string): SecretSettings => ({
      secretId,
      exchangeAccount: "acme",
      minOverlapSeconds: 300,
      deadlineSeconds: 86_400,
      pollIntervalSeconds: 30,
      maxPollIntervalSeconds: 900,
      livenessMultiplier: 3,
      schedule: "rate(30 days)",
      enrolledAt: iso(0),
    });
    const ref = (v: string) => ({ versionId: v, fingerprint: `fp-${v}`, exchangeKeyId: `key-${v}` });

    describe("settings, versions and records", () => {
      it("pages through every enrolled secret once, each page at most its limit; a forged cursor is refused", async () => {
        const mine = ["p1", "p2", "p3", "p4", "p5"].map((n) => target.id(`page-${n}`));
        for (const id of mine) await lock.putSettings(settingsOf(id));
        await lock.putVersions({ secretId: mine[0] ?? "", current: ref("a"), updatedAt: iso(1) });
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await lock.listSettingsPage({ limit: 2, ...(cursor ? { cursor } : {}) });
          expect(page.settings.length).toBeLessThanOrEqual(2);
          seen.push(...page.settings.map((s) => s.secretId));
          cursor = page.cursor;
          pages += 1;
        } while (cursor && pages < 10_000);
        expect(seen.filter((id) => mine.includes(id)).sort()).toEqual([...mine].sort());
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen.length).toBe((await lock.listSettings()).length);
        await expect(lock.listSettingsPage({ limit: 2, cursor: "not-a-cursor" })).rejects.toThrow(
          InvalidInputError,
        );
      });

      it("reads back what it wrote, with absent fields left out; an unknown secret has none", async () => {
        const secretId = target.id("roundtrip");
        const versions: VersionFingerprints = {
          secretId,
          current: ref("b"),
          previous: ref("a"),
          promotedAt: iso(5),
          updatedAt: iso(5),
        };
        const settings = settingsOf(secretId);

        await lock.putSettings(settings);
        await lock.putVersions(versions);
        await lock.putSettings({ ...settings, minOverlapSeconds: 600 });

        expect(await lock.getSettings(secretId)).toEqual({ ...settings, minOverlapSeconds: 600 });
        expect(await lock.getVersions(secretId)).toEqual(versions);
        expect(await lock.getVersions(secretId)).not.toHaveProperty("next");
        const unknown = target.id("unknown");
        expect(await lock.getSettings(unknown)).toBeUndefined();
        expect(await lock.getVersions(unknown)).toBeUndefined();
        expect(await lock.getRotation(unknown, "rot-1")).toBeUndefined();
      });

      it("lists every secret's settings (all pages) and a secret's rotations oldest first", async () => {
        const ids = [target.id("list-a"), target.id("list-b"), target.id("list-c")];
        for (const id of ids) await lock.putSettings(settingsOf(id));
        const secretId = ids[0] as string;
        const record = (rotationId: string, startedAt: string): RotationRecord => ({
          secretId,
          rotationId,
          trigger: "schedule",
          phase: "completed",
          startedAt,
          updatedAt: startedAt,
        });
        await lock.putRotation(record("rot-b", iso(200)));
        await lock.putRotation(record("rot-a", iso(100)));
        await lock.putRotation(record("rot-c", iso(300)));
        await lock.putRotation({ ...record("rot-x", iso(0)), secretId: ids[1] as string });

        const listed = (await lock.listSettings()).filter((s) => ids.includes(s.secretId));

        expect(listed.map((s) => s.secretId).sort()).toEqual([...ids].sort());
        expect(listed[0]).toEqual(settingsOf(listed[0]?.secretId as string));
        expect((await lock.listRotations(secretId)).map((r) => r.rotationId)).toEqual([
          "rot-a",
          "rot-b",
          "rot-c",
        ]);
        expect(await lock.listRotations(target.id("no-rotations"))).toEqual([]);
      });

      it("a record written without a writer is written whole, whatever its fence", async () => {
        const secretId = target.id("unfenced");
        const record: RotationRecord = {
          secretId,
          rotationId: "rot-1",
          trigger: "operator",
          phase: "stalled",
          startedAt: iso(0),
          updatedAt: iso(0),
        };
        await lock.putRotation(record, "rot-1");

        await lock.putRotation({ ...record, phase: "completed" });

        expect(await lock.getRotation(secretId, "rot-1")).toEqual({ ...record, phase: "completed" });
      });

      it("the secret's state is its settings, versions and lock, read together (fresh or not)", async () => {
        const secretId = target.id("state");
        const empty = await lock.getSecretState(secretId, { fresh: true });
        await lock.putSettings(settingsOf(secretId));
        await lock.putVersions({ secretId, current: ref("a"), updatedAt: iso(0) });
        const held = await lock.acquire(secretId, "rot-1", at(0), LEASE);

        const state = await lock.getSecretState(secretId, { fresh: true });

        expect(empty.settings ?? empty.versions ?? empty.lock).toBeUndefined();
        expect(state).toEqual({
          settings: settingsOf(secretId),
          versions: { secretId, current: ref("a"), updatedAt: iso(0) },
          lock: held,
        });
        expect(await lock.getSecretState(secretId)).toEqual(state);
      });
    });

    describe("fencing (issue 14, break 11)", () => {
      it("a claim sets only the fence, over the one read; fenced writes pass only for the claimant", async () => {
        const secretId = target.id("fence");
        const record = {
          secretId,
          rotationId: "rot-1",
          trigger: "manual" as const,
          phase: "stalled" as const,
          startedAt: iso(0),
          updatedAt: iso(0),
        };
        await lock.putRotation(record);

        await lockRefused(lock.claimRotation(secretId, "rot-1", "op-1", "op-0"));
        const claimed = await lock.claimRotation(secretId, "rot-1", "op-1", undefined);
        await lockRefused(lock.claimRotation(secretId, "rot-1", "op-2", undefined));
        await lock.putRotationFenced({ ...claimed, fence: "op-1", phase: "rolled-back" });
        await lock.claimRotation(secretId, "rot-1", "op-2", "op-1");
        await lockRefused(lock.putRotationFenced({ ...claimed, fence: "op-1", phase: "force-revoked" }));
        await lockRefused(lock.claimRotation(target.id("fence-none"), "rot-1", "op-1", undefined));

        expect(claimed).toEqual({ ...record, fence: "op-1" });
        expect(await lock.getRotation(secretId, "rot-1")).toEqual({
          ...record,
          phase: "rolled-back",
          fence: "op-2",
        });
        expect(await lock.getRotation(target.id("fence-none"), "rot-1")).toBeUndefined();
      });

      it("a step's write names its writer; once another claimed the record, the replaced writer is refused", async () => {
        const secretId = target.id("writer");
        const record = {
          secretId,
          rotationId: "rot-1",
          trigger: "schedule" as const,
          phase: "promoted" as const,
          startedAt: iso(0),
          updatedAt: iso(0),
        };
        await lock.putRotation(record, "rot-1");
        await lock.putRotation({ ...record, updatedAt: iso(1) }, "rot-1");
        expect((await lock.getRotation(secretId, "rot-1"))?.fence).toBe("rot-1");

        await lock.claimRotation(secretId, "rot-1", "emg-1", "rot-1");
        await lockRefused(lock.putRotation({ ...record, deadlineAt: iso(9) }, "rot-1"));
        await lock.putRotation({ ...record, updatedAt: iso(2) }, "emg-1");

        expect(await lock.getRotation(secretId, "rot-1")).toEqual({
          ...record,
          updatedAt: iso(2),
          fence: "emg-1",
        });
      });

      it("versions are written only while they still name the expected current version", async () => {
        const secretId = target.id("versions-cas");
        await lock.putVersions({ secretId, current: ref("b"), previous: ref("a"), updatedAt: iso(0) });

        await lockRefused(
          lock.putVersionsIfCurrent(
            { secretId, current: ref("a"), previous: ref("b"), updatedAt: iso(1) },
            "a",
          ),
        );
        await lock.putVersionsIfCurrent(
          { secretId, current: ref("a"), previous: ref("b"), updatedAt: iso(2) },
          "b",
        );
        await lockRefused(lock.putVersionsIfCurrent({ secretId, updatedAt: iso(3) }, "b"));
        const none = target.id("versions-none");
        await lockRefused(lock.putVersionsIfCurrent({ secretId: none, updatedAt: iso(3) }, "b"));
        expect(await lock.getVersions(none)).toBeUndefined();

        expect(await lock.getVersions(secretId)).toEqual({
          secretId,
          current: ref("a"),
          previous: ref("b"),
          updatedAt: iso(2),
        });
      });
    });
  });
}
