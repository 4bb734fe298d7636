import { beforeEach, describe, expect, it } from "vitest";
import { PrincipalNotAllowedError } from "../../src/core/errors";
import { principalKey } from "../../src/core/principal";
import { createNext } from "../../src/core/use-cases/create-next";
import { heartbeat } from "../../src/core/use-cases/heartbeat";
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
      nextHeartbeatSeconds: 60,
    });
    expect(await deps.consumers.getInstance(seeded.secretId, "engine", "i-1")).toEqual({
      secretId: seeded.secretId,
      consumerId: "engine",
      instanceId: "i-1",
      fingerprint: seeded.fingerprint,
      firstSeenAt: deps.clock.now().toISOString(),
      lastSeenAt: deps.clock.now().toISOString(),
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
    expect(
      deps.audit.actions(seeded.secretId).filter((a) => a === "instance-fingerprint-changed"),
    ).toHaveLength(1);
  });

  it("rejects an unregistered principal: PrincipalNotAllowedError, audit, alert, and no instance written", async () => {
    const intruder = "arn:aws:sts::123456789012:assumed-role/someone-else/session-9";

    const err = await heartbeat(
      { callerArn: intruder, secretId: seeded.secretId, fingerprint: seeded.fingerprint, instanceId: "x-1" },
      deps,
    ).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(PrincipalNotAllowedError);
    expect(deps.consumers.instanceWrites).toEqual([]);
    expect(await deps.consumers.listInstances(seeded.secretId)).toEqual([]);
    const entry = (await deps.audit.list(seeded.secretId)).at(-1);
    expect(entry).toMatchObject({
      action: "heartbeat-rejected",
      actor: intruder,
      details: { instanceId: "x-1" },
    });
    expect(deps.alerts.sent).toEqual([
      expect.objectContaining({
        kind: "rejected-principal",
        secretId: seeded.secretId,
        details: { principal: intruder, instanceId: "x-1" },
      }),
    ]);
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

  it("rejects a principal that is not a role or user (federated) with 403 semantics, an audit entry and an alert", async () => {
    const federated = "arn:aws:sts::123456789012:federated-user/bob";

    const err = await heartbeat(
      { callerArn: federated, secretId: seeded.secretId, fingerprint: seeded.fingerprint, instanceId: "x-1" },
      deps,
    ).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(PrincipalNotAllowedError);
    expect((err as Error).message).toContain(federated);
    expect(deps.audit.actions(seeded.secretId).at(-1)).toBe("heartbeat-rejected");
    expect(deps.alerts.kinds()).toEqual(["rejected-principal"]);
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
    expect((await deps.audit.list(seeded.secretId)).at(-1)).toMatchObject({
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
