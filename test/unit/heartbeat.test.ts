import { beforeEach, describe, expect, it } from "vitest";
import { HEARTBEAT_REJECTIONS_STREAM, instanceAuditStream } from "../../src/core/audit/chain";
import { heartbeat } from "../../src/core/consumers/heartbeat";
import { RejectionLimiter } from "../../src/core/consumers/rejection-limiter";
import { PrincipalNotAllowedError } from "../../src/core/errors";
import { principalKey } from "../../src/core/principal";
import { createNext } from "../../src/core/rotation/create-next";
import {
  addConsumer,
  type FakeDeps,
  makeDeps,
  type SeededConsumer,
  type SeededSecret,
  seedSecret,
} from "./fakes";
import { currentFingerprint, report, rotateToPromoted, startRotation } from "./support/flow";

describe("heartbeat", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let engine: SeededConsumer;

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps);
    engine = await addConsumer(deps, seeded.secretId, "engine", { path: "trading/prod/" });
  });

  it("accepts an assumed-role session of a registered role with a path, and answers current", async () => {
    const out = await report(deps, seeded.secretId, engine, "i-1", seeded.fingerprint);

    expect(out).toEqual({
      status: "current",
      consumerId: "engine",
      refreshNow: false,
      currentFingerprint: seeded.fingerprint,
      nextHeartbeatSeconds: 300,
    });
    const change = (await deps.audit.list(instanceAuditStream(seeded.secretId, "engine", "i-1"))).at(-1);
    expect(await deps.consumers.getInstance(seeded.secretId, "engine", "i-1")).toEqual({
      secretId: seeded.secretId,
      consumerId: "engine",
      instanceId: "i-1",
      fingerprint: seeded.fingerprint,
      firstSeenAt: deps.clock.now().toISOString(),
      lastSeenAt: deps.clock.now().toISOString(),
      expectedBy: new Date(deps.clock.now().getTime() + 300_000).toISOString(),
      auditSeq: change?.seq,
      auditHash: change?.hash,
    });
  });

  it("also accepts the role ARN itself (path and all)", async () => {
    const out = await heartbeat(
      {
        callerArn: "arn:aws:iam::123456789012:role/trading/prod/engine",
        secretId: seeded.secretId,
        fingerprint: seeded.fingerprint,
        instanceId: "i-2",
      },
      deps,
    );

    expect(out.consumerId).toBe("engine");
  });

  it("answers stale (refresh now) on the previous key after a promotion, current on the new one", async () => {
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    const newFp = await currentFingerprint(deps, seeded.secretId);

    const old = await report(deps, seeded.secretId, engine, "i-1", seeded.fingerprint);
    const fresh = await report(deps, seeded.secretId, engine, "i-2", newFp);

    expect(old).toMatchObject({ status: "stale", refreshNow: true, currentFingerprint: newFp });
    expect(fresh).toMatchObject({ status: "current", refreshNow: false });
  });

  it("keeps firstSeenAt and audits only a change of fingerprint", async () => {
    const first = deps.clock.now().toISOString();
    await report(deps, seeded.secretId, engine, "i-1", seeded.fingerprint);
    deps.clock.advance(60);
    await report(deps, seeded.secretId, engine, "i-1", seeded.fingerprint);

    const instance = await deps.consumers.getInstance(seeded.secretId, "engine", "i-1");
    expect(instance?.firstSeenAt).toBe(first);
    expect(instance?.lastSeenAt).toBe(deps.clock.now().toISOString());
    expect(deps.audit.actions(instanceAuditStream(seeded.secretId, "engine", "i-1"))).toEqual([
      "instance-fingerprint-changed",
    ]);
    // The instance's changes never enter the secret's own chain, where the rotation appends.
    expect(deps.audit.actions(seeded.secretId)).not.toContain("instance-fingerprint-changed");
  });

  it("rejects an unregistered principal: PrincipalNotAllowedError, audited outside the secret's chain, no alert, nothing written", async () => {
    const intruder = "arn:aws:sts::123456789012:assumed-role/someone-else/session-9";
    const chainBefore = await deps.audit.list(seeded.secretId);

    const err = await heartbeat(
      { callerArn: intruder, secretId: seeded.secretId, fingerprint: seeded.fingerprint, instanceId: "x-1" },
      deps,
    ).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(PrincipalNotAllowedError);
    expect(deps.consumers.instanceWrites).toEqual([]);
    expect(await deps.consumers.listInstances(seeded.secretId)).toEqual([]);
    expect(await deps.audit.list(seeded.secretId)).toEqual(chainBefore);
    expect((await deps.audit.list(HEARTBEAT_REJECTIONS_STREAM)).at(-1)).toMatchObject({
      secretId: "_system",
      action: "heartbeat-rejected",
      actor: intruder,
      details: { secretId: seeded.secretId, instanceId: "x-1", rejectedUnrecordedSinceLast: 0 },
    });
    expect(deps.alerts.sent).toEqual([]);
  });

  it("audits a flood of rejections once per principal and window, with the count left out", async () => {
    const limited = { ...deps, rejections: new RejectionLimiter(300) };
    const intruder = "arn:aws:sts::123456789012:assumed-role/someone-else/session-9";
    const knock = (instanceId: string) =>
      heartbeat(
        { callerArn: intruder, secretId: seeded.secretId, fingerprint: seeded.fingerprint, instanceId },
        limited,
      ).catch((e: unknown) => e);

    for (let i = 0; i < 50; i++) await knock(`x-${i}`);
    deps.clock.advance(301);
    const last = await knock("x-last");

    expect(last).toBeInstanceOf(PrincipalNotAllowedError);
    expect(
      (await deps.audit.list(HEARTBEAT_REJECTIONS_STREAM)).map((e) => e.details?.rejectedUnrecordedSinceLast),
    ).toEqual([0, 49]);
    expect(deps.alerts.sent).toEqual([]);
  });

  it("rejects a registered consumer reporting for a secret it is not registered for", async () => {
    const other = await seedSecret(deps, { secretId: "keyshift/okx/main", account: "acct-okx" });

    await expect(report(deps, other.secretId, engine, "i-1", other.fingerprint)).rejects.toBeInstanceOf(
      PrincipalNotAllowedError,
    );
    expect(deps.consumers.instanceWrites).toEqual([]);
  });

  it("rejects a same-named role in another account", async () => {
    const err = await heartbeat(
      {
        callerArn: "arn:aws:sts::999999999999:assumed-role/engine/session-1",
        secretId: seeded.secretId,
        fingerprint: seeded.fingerprint,
        instanceId: "i-1",
      },
      deps,
    ).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(PrincipalNotAllowedError);
    expect(deps.consumers.instanceWrites).toEqual([]);
  });

  it("rejects a principal that is not a role or user (federated) with 403 semantics and an audit entry", async () => {
    const federated = "arn:aws:sts::123456789012:federated-user/bob";

    const err = await heartbeat(
      { callerArn: federated, secretId: seeded.secretId, fingerprint: seeded.fingerprint, instanceId: "x-1" },
      deps,
    ).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(PrincipalNotAllowedError);
    expect((err as Error).message).toContain(federated);
    expect(deps.audit.actions(HEARTBEAT_REJECTIONS_STREAM)).toEqual(["heartbeat-rejected"]);
    expect(deps.alerts.sent).toEqual([]);
    expect(deps.consumers.instanceWrites).toEqual([]);
  });

  it("answers unknown for a fingerprint that is neither current, previous nor pending: audited and alerted", async () => {
    const foreign = "fp1_deadbeefdeadbeef";

    const out = await report(deps, seeded.secretId, engine, "i-1", foreign);

    expect(out).toMatchObject({
      status: "unknown",
      refreshNow: true,
      currentFingerprint: seeded.fingerprint,
    });
    expect(
      (await deps.audit.list(instanceAuditStream(seeded.secretId, "engine", "i-1"))).at(-1),
    ).toMatchObject({
      secretId: seeded.secretId,
      action: "instance-fingerprint-changed",
      details: { consumerId: "engine", instanceId: "i-1", to: foreign, status: "unknown" },
    });
    expect(deps.alerts.sent).toEqual([
      expect.objectContaining({
        kind: "unknown-fingerprint",
        details: { consumerId: "engine", instanceId: "i-1", fingerprint: foreign },
      }),
    ]);
  });

  it("answers stale for the pending fingerprint before promotion", async () => {
    await startRotation(deps, seeded.secretId, "rot-1");
    const created = await createNext({ secretId: seeded.secretId, rotationId: "rot-1" }, deps);

    const out = await report(deps, seeded.secretId, engine, "i-1", created.next.fingerprint);

    expect(out.status).toBe("stale");
    expect(deps.alerts.sent).toEqual([]);
  });
});

describe("principalKey", () => {
  it("maps a role with a path and its assumed-role sessions to the same key", () => {
    const key = "arn:aws:iam::123456789012:role/engine";

    expect(principalKey("arn:aws:iam::123456789012:role/trading/prod/engine")).toBe(key);
    expect(principalKey("arn:aws:sts::123456789012:assumed-role/engine/i-0abc")).toBe(key);
    expect(principalKey("arn:aws:iam::123456789012:role/engine")).toBe(key);
  });

  it("keeps the partition and account apart", () => {
    expect(principalKey("arn:aws-cn:sts::123456789012:assumed-role/engine/s")).toBe(
      "arn:aws-cn:iam::123456789012:role/engine",
    );
    expect(principalKey("arn:aws:sts::999999999999:assumed-role/engine/s")).not.toBe(
      principalKey("arn:aws:iam::123456789012:role/engine"),
    );
  });

  it("maps IAM users without their path", () => {
    expect(principalKey("arn:aws:iam::123456789012:user/ops/alice")).toBe(
      "arn:aws:iam::123456789012:user/alice",
    );
  });
});
