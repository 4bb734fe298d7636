import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/core/errors";
import { evidencePeriod, parseDay } from "../../src/core/evidence/period";
import { abortRotation } from "../../src/core/rotation/abort-rotation";
import { createNext } from "../../src/core/rotation/create-next";
import { SecretNeedles } from "../../src/core/secret-shapes";
import { seedSecret } from "./fakes";
import { evidenceWorld, HOSTILE_ACTOR, INTRUDER, storedValues } from "./support/evidence-world";
import { startRotation } from "./support/flow";

describe("the evidence period: whole UTC days, both ends included", () => {
  it("takes calendar days and ends the day after `to`", () => {
    expect(evidencePeriod("2030-03-01", "2030-03-03")).toEqual({
      from: "2030-03-01",
      to: "2030-03-03",
      start: "2030-03-01T00:00:00.000Z",
      end: "2030-03-04T00:00:00.000Z",
    });
    expect(evidencePeriod("2028-02-29", "2028-02-29").end).toBe("2028-03-01T00:00:00.000Z");
  });

  it.each([
    ["2026-02-30"],
    ["2026-13-01"],
    ["12/07/2026"],
    ["2026-1-01"],
    ["yesterday"],
    [""],
    ["2026-12-07T00:00Z"],
  ])("refuses %j as a day, naming it and the shape a day has", (bad) => {
    expect(parseDay(bad)).toBeUndefined();
    expect(() => evidencePeriod(bad, "2026-12-07")).toThrow(InvalidInputError);
    expect(() => evidencePeriod(bad, "2026-12-07")).toThrow(`--from ${JSON.stringify(bad)}`);
    expect(() => evidencePeriod("2026-12-01", bad)).toThrow(/YYYY-MM-DD/);
  });

  it("names both when both are wrong, and refuses from after to", () => {
    expect(() => evidencePeriod("x", "y")).toThrow('--from "x" and --to "y"');
    expect(() => evidencePeriod("2026-12-08", "2026-12-07")).toThrow(
      "--from 2026-12-08 is after --to 2026-12-07",
    );
  });
});

describe("assembleEvidence: per secret, its rotations as timelines, readers, approvals, hygiene, audit", () => {
  it("shows each rotation of the period, oldest first, each step in order with its actor", async () => {
    const world = await evidenceWorld();

    const doc = await world.evidence("2030-03-01", "2030-03-03");

    const [secret] = doc.secrets;
    expect(doc.summary).toMatchObject({ secrets: 1, rotations: 2, byStatus: { completed: 1, stalled: 1 } });
    expect(secret?.rotations.map((r) => [r.rotationId, r.status])).toEqual([
      ["rot-1", "completed"],
      ["rot-2", "stalled"],
    ]);
    const [first, second] = secret?.rotations ?? [];
    expect(first?.events.map((e) => `${e.kind}:${e.actor}`)).toEqual([
      "begun:operator:test",
      "created:rotation:rot-1",
      "promoted:rotation:rot-1",
      "confirmed:arn:aws:sts::123456789012:assumed-role/engine/session-1",
      "confirmed:arn:aws:sts::123456789012:assumed-role/gateway/session-1",
      "revoked:rotation:rot-1",
      "completed:rotation:rot-1",
    ]);
    expect(first).toMatchObject({
      previousKeyId: world.seeded.keyId,
      newKeyId: "key-2",
      endedAt: "2030-03-01T08:06:45.000Z",
      awaiting: [],
    });
    expect(first?.consumers.map((c) => [c.consumerId, c.confirmedAt])).toEqual([
      ["engine", "2030-03-01T08:00:05.000Z"],
      ["gateway", "2030-03-01T08:00:05.000Z"],
    ]);
    // rot-2's previous key is rot-1's new one; the gateway never confirmed, so it waits.
    expect(second).toMatchObject({ previousKeyId: "key-2", newKeyId: "key-3", endedAt: null });
    expect(second?.events.map((e) => e.kind)).toEqual([
      "begun",
      "created",
      "promoted",
      "confirmed",
      "stalled",
      "approval",
    ]);
    expect(second?.awaiting).toEqual([
      "stalled: an operator decides (resume, force-revoke or rollback)",
      "consumer gateway has not confirmed the new key",
    ]);
  });

  it("takes a rotation into a period its span meets: ended before or starting after is left out, open is kept", async () => {
    const world = await evidenceWorld();
    const ids = async (from: string, to: string) =>
      (await world.evidence(from, to)).secrets[0]?.rotations.map((r) => r.rotationId);

    expect(await ids("2030-03-01", "2030-03-01")).toEqual(["rot-1"]);
    expect(await ids("2030-03-02", "2030-03-02")).toEqual([]);
    expect(await ids("2030-03-03", "2030-03-03")).toEqual(["rot-2"]);
    // rot-2 is still stalled: it is open in every later period.
    expect(await ids("2030-03-10", "2030-03-11")).toEqual(["rot-2"]);
    expect(await ids("2030-02-01", "2030-02-28")).toEqual([]);
  });

  it("lists who read the secret in the period from the read audit, with the read history's last read", async () => {
    const world = await evidenceWorld();

    const [secret] = (await world.evidence("2030-03-02", "2030-03-02")).secrets;

    expect(secret?.readers).toEqual([
      expect.objectContaining({
        principal: "arn:aws:iam::123456789012:role/engine",
        reader: "consumer",
        consumerId: "engine",
        served: 1,
        denied: 0,
        lastReadEver: "2030-03-02T10:00:00.000Z",
      }),
      expect.objectContaining({ reader: "unregistered", served: 0, denied: 1, callers: [`${INTRUDER}/bob`] }),
    ]);
    expect((await world.evidence("2030-03-03", "2030-03-03")).secrets[0]?.readers).toEqual([]);
  });

  it("shows an entry of kind approval in the secret's approvals and on its rotation's timeline", async () => {
    const world = await evidenceWorld();

    const [secret] = (await world.evidence("2030-03-03", "2030-03-03")).secrets;

    expect(secret?.approvals).toEqual([
      expect.objectContaining({
        action: "approval-granted",
        actor: HOSTILE_ACTOR,
        summary: "approval-granted: command force-revoke; requested by operator:alice; (approval ap-1)",
      }),
    ]);
    expect(secret?.actions.map((a) => a.action)).not.toContain("approval-granted");
  });

  it("reports the open hygiene findings and the period's actions that resolve such findings", async () => {
    const world = await evidenceWorld();

    const [secret] = (await world.evidence("2030-03-01", "2030-03-01")).secrets;

    expect(secret?.hygiene.findings).toEqual([
      expect.objectContaining({ kind: "rotation-stuck", status: "open" }),
    ]);
    expect(secret?.hygiene.asOf).toBe("2030-03-20T00:00:00.000Z");
    expect(secret?.hygiene.resolutions.find((r) => r.action === "rotation-completed")?.resolves).toContain(
      "rotation-overdue",
    );
  });

  it("carries the audit verification, and a trail cut short shows as broken", async () => {
    const world = await evidenceWorld();
    expect((await world.evidence("2030-03-01", "2030-03-03")).secrets[0]?.audit).toMatchObject({
      ok: true,
      instanceStreams: 2,
    });

    const last = (await world.deps.audit.list(world.seeded.secretId)).at(-1)?.seq ?? 0;
    world.deps.audit.remove(world.seeded.secretId, last);
    const doc = await world.evidence("2030-03-01", "2030-03-03");

    expect(doc.secrets[0]?.audit.ok).toBe(false);
    expect(doc.secrets[0]?.audit.secret.brokenAt?.reason).toMatch(/truncated/);
    expect(doc.summary.auditBroken).toEqual([world.seeded.secretId]);
  });

  it("writes nothing while it reads, and holds no piece of any stored key", async () => {
    const world = await evidenceWorld();
    const before = JSON.stringify(world.deps.audit.all());

    const doc = await world.evidence("2030-03-01", "2030-03-31");

    expect(JSON.stringify(world.deps.audit.all())).toBe(before);
    const values = storedValues(world.deps, world.seeded.secretId);
    expect(values.length).toBe(3);
    const needles = new SecretNeedles();
    for (const [i, v] of values.entries()) needles.add(v, i);
    expect(needles.find(JSON.stringify(doc))).toEqual([]);
    // The scan can fail: a value that slipped in is found.
    expect(needles.find(JSON.stringify({ ...doc, leak: values[1] }))).toEqual([1]);
  });

  it("shows an aborted rotation with its never-promoted key revoked, and what a failed revocation awaits", async () => {
    const world = await evidenceWorld();
    const { deps, seeded } = world;
    deps.clock.set("2030-03-21T09:00:00.000Z");
    // Another secret: the first one's rot-2 still holds its lock.
    const other = await seedSecret(deps, { secretId: "keyshift/exchange/acme/other", account: "acct-other" });
    await startRotation(deps, other.secretId, "rot-a");
    await createNext({ secretId: other.secretId, rotationId: "rot-a" }, deps);
    await abortRotation(
      { secretId: other.secretId, rotationId: "rot-a", error: "KeyVerificationFailedError" },
      deps,
    );

    const doc = await world.evidence("2030-03-21", "2030-03-21");

    const secret = doc.secrets.find((s) => s.secretId === other.secretId);
    expect(secret?.rotations.map((r) => [r.rotationId, r.status, r.awaiting])).toEqual([
      ["rot-a", "aborted", []],
    ]);
    const rotation = secret?.rotations[0];
    expect(rotation?.events.map((e) => e.kind)).toEqual(["begun", "created", "revoked", "aborted"]);
    expect(rotation?.events.find((e) => e.kind === "revoked")?.details.keyId).toBe(rotation?.newKeyId);
    // The first secret's rot-2 is still open: it is in this period too.
    expect(
      doc.secrets.find((s) => s.secretId === seeded.secretId)?.rotations.map((r) => r.rotationId),
    ).toEqual(["rot-2"]);
  });

  it("refuses a secret keyshift knows nothing of", async () => {
    const world = await evidenceWorld();
    const { assembleEvidence } = await import("../../src/core/evidence/assemble");

    await expect(
      assembleEvidence(
        {
          period: evidencePeriod("2030-03-01", "2030-03-01"),
          secretId: "keyshift/exchange/none",
          generatedBy: "x",
        },
        { ...world.deps, hygiene: async () => ({ at: "", findings: [] }) },
      ),
    ).rejects.toThrow(/knows nothing of keyshift\/exchange\/none/);
  });
});
