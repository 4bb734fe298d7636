import { beforeEach, describe, expect, it, vi } from "vitest";
import { ThrottlingException } from "../../harness/memory/faults";
import { instanceAuditStream, verifyAuditTrail } from "../../src/core/audit/chain";
import { verifySecretAudit } from "../../src/core/audit/trail";
import {
  addConsumer,
  type FakeDeps,
  makeDeps,
  type SeededConsumer,
  type SeededSecret,
  seedSecret,
} from "./fakes";
import { report } from "./support/flow";

const FOREIGN = "fp1_deadbeefdeadbeef";

/** A heartbeat that fails is retried by the consumer: the fingerprint change must survive that. */
describe("heartbeat: a fingerprint change is audited and alerted at least once", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let engine: SeededConsumer;

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps);
    engine = await addConsumer(deps, seeded.secretId, "engine");
  });

  /** The instance's own audit stream: where its fingerprint changes go. */
  const stream = () => instanceAuditStream(seeded.secretId, "engine", "i-1");
  const changes = async () =>
    (await deps.audit.list(stream())).filter((e) => e.action === "instance-fingerprint-changed");

  it("break 10: an audit append that fails leaves the instance unchanged, and the retry audits and alerts", async () => {
    deps.audit.faults.failNext("append", 1, ThrottlingException);

    const failed = await report(deps, seeded.secretId, engine, "i-1", FOREIGN).catch((e: unknown) => e);
    const stateAfterFailure = await deps.consumers.getInstance(seeded.secretId, "engine", "i-1");
    const retried = await report(deps, seeded.secretId, engine, "i-1", FOREIGN);

    expect(failed).toBeInstanceOf(ThrottlingException);
    expect(stateAfterFailure).toBeUndefined();
    expect(retried.status).toBe("unknown");
    expect(await changes()).toEqual([
      expect.objectContaining({
        details: expect.objectContaining({ instanceId: "i-1", from: null, to: FOREIGN, status: "unknown" }),
      }),
    ]);
    expect(deps.alerts.kinds()).toEqual(["unknown-fingerprint"]);
    expect(await deps.consumers.getInstance(seeded.secretId, "engine", "i-1")).toMatchObject({
      fingerprint: FOREIGN,
    });
  });

  it("break 10: a change from a known fingerprint survives a failed append the same way", async () => {
    await report(deps, seeded.secretId, engine, "i-1", seeded.fingerprint);
    deps.audit.faults.failNext("append", 1, ThrottlingException);

    await expect(report(deps, seeded.secretId, engine, "i-1", FOREIGN)).rejects.toBeInstanceOf(
      ThrottlingException,
    );
    expect((await deps.consumers.getInstance(seeded.secretId, "engine", "i-1"))?.fingerprint).toBe(
      seeded.fingerprint,
    );
    await report(deps, seeded.secretId, engine, "i-1", FOREIGN);

    expect((await changes()).map((e) => [e.details?.from, e.details?.to])).toEqual([
      [null, seeded.fingerprint],
      [seeded.fingerprint, FOREIGN],
    ]);
    expect(deps.alerts.kinds()).toEqual(["unknown-fingerprint"]);
  });

  it("break 10: an alert that fails after the audit is sent on the retry (the audit may repeat, never vanish)", async () => {
    const send = vi
      .spyOn(deps.alerts, "send")
      .mockRejectedValueOnce(new ThrottlingException("SNS throttled"));

    await expect(report(deps, seeded.secretId, engine, "i-1", FOREIGN)).rejects.toBeInstanceOf(
      ThrottlingException,
    );
    await report(deps, seeded.secretId, engine, "i-1", FOREIGN);

    expect(send).toHaveBeenCalledTimes(2);
    expect(deps.alerts.kinds()).toEqual(["unknown-fingerprint"]);
    expect((await changes()).length).toBeGreaterThanOrEqual(1);
    expect((await changes()).every((e) => e.details?.to === FOREIGN)).toBe(true);
  });

  it("an append that crashes after its head was written still leaves a trail that verifies, and the retry completes it", async () => {
    deps.audit.faults.failNext("putEntry", 1, ThrottlingException);

    await expect(report(deps, seeded.secretId, engine, "i-1", FOREIGN)).rejects.toBeInstanceOf(
      ThrottlingException,
    );
    const midway = verifyAuditTrail(await deps.audit.list(stream()), await deps.audit.head(stream()));
    await report(deps, seeded.secretId, engine, "i-1", FOREIGN);

    expect(midway).toMatchObject({ ok: true, entries: 1, pending: 1 });
    expect(verifyAuditTrail(await deps.audit.list(stream()), await deps.audit.head(stream()))).toEqual({
      ok: true,
      entries: 2,
    });
    expect((await changes()).map((e) => e.details?.to)).toEqual([FOREIGN, FOREIGN]);
  });
});

describe("verifySecretAudit: the secret's chain and every instance stream", () => {
  it("verifies a fleet's streams, and fails a stream truncated, or removed whole with its head", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);
    const engine = await addConsumer(deps, seeded.secretId, "engine");
    await report(deps, seeded.secretId, engine, "i-1", seeded.fingerprint);
    await report(deps, seeded.secretId, engine, "i-1", FOREIGN);
    await report(deps, seeded.secretId, engine, "i-2", seeded.fingerprint);
    const whole = await verifySecretAudit(seeded.secretId, deps);

    deps.audit.remove(instanceAuditStream(seeded.secretId, "engine", "i-1"), 2);
    const truncated = await verifySecretAudit(seeded.secretId, deps);
    deps.audit.remove(instanceAuditStream(seeded.secretId, "engine", "i-2"), 1);
    deps.audit.removeHead(instanceAuditStream(seeded.secretId, "engine", "i-2"));
    const erased = await verifySecretAudit(seeded.secretId, deps);

    expect(whole).toMatchObject({ ok: true, broken: {}, instanceStreams: 2, instanceEntries: 3 });
    expect(truncated.ok).toBe(false);
    expect(Object.keys(truncated.broken)).toEqual([instanceAuditStream(seeded.secretId, "engine", "i-1")]);
    expect(Object.keys(erased.broken)).toEqual([
      instanceAuditStream(seeded.secretId, "engine", "i-1"),
      instanceAuditStream(seeded.secretId, "engine", "i-2"),
    ]);
    expect(erased.broken[instanceAuditStream(seeded.secretId, "engine", "i-2")]?.brokenAt?.reason).toMatch(
      /no audit trail|anchors an entry/,
    );
  });
});
