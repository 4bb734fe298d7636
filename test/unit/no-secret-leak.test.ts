import { describe, expect, it } from "vitest";
import { heartbeat } from "../../src/core/consumers/heartbeat";
import { ExchangePermanentError, ExchangeRetryableError } from "../../src/core/errors";
import { STAGE } from "../../src/core/model";
import { forceRevoke, rollback } from "../../src/core/operator/operator";
import { retryRevocations } from "../../src/core/revocation/retry";
import { revokePrevious } from "../../src/core/revocation/revoke-previous";
import { abortRotation } from "../../src/core/rotation/abort-rotation";
import { beginRotation } from "../../src/core/rotation/begin-rotation";
import { checkConsumers } from "../../src/core/rotation/check-consumers";
import { completeRotation } from "../../src/core/rotation/complete-rotation";
import { createNext } from "../../src/core/rotation/create-next";
import { markStalled } from "../../src/core/rotation/mark-stalled";
import { promoteCurrent } from "../../src/core/rotation/promote-current";
import { addConsumer, type FakeDeps, makeDeps, seedSecret } from "./fakes";
import { currentFingerprint, report, startRotation } from "./support/flow";

/** The secret inside an exchange key value, as a leaking adapter would echo it. */
async function keySecretOf(deps: FakeDeps, secretId: string, stage: string): Promise<string> {
  const { value } = await deps.secrets.getValue(secretId, { stage });
  return (JSON.parse(value) as { secret: string }).secret;
}

describe("no secret value leaves the core", () => {
  it("appears in no audit entry, alert, recorded state, return value or error message across every path", async () => {
    const deps = makeDeps();
    const outputs: unknown[] = [];
    const errors: Error[] = [];
    const run = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
      try {
        const out = await work();
        outputs.push(out);
        return out;
      } catch (err) {
        errors.push(err as Error);
        return undefined;
      }
    };

    const seeded = await seedSecret(deps, { settings: { minOverlapSeconds: 60, idleHeartbeatSeconds: 60 } });
    const { secretId } = seeded;
    outputs.push(seeded.settings);
    const engine = await addConsumer(deps, secretId, "engine");
    const gateway = await addConsumer(deps, secretId, "gateway");
    const ref1 = { secretId, rotationId: "rot-1" };

    // Rotation 1: the happy path, with one lagging check and one failed revocation on the way.
    await run(() => report(deps, secretId, engine, "e1", seeded.fingerprint));
    await run(() => report(deps, secretId, gateway, "g1", seeded.fingerprint));
    await run(() => startRotation(deps, secretId, "rot-1"));
    await run(() => createNext(ref1, deps));
    await run(() => createNext(ref1, deps));
    await run(() => promoteCurrent(ref1, deps));
    await run(() => promoteCurrent(ref1, deps));
    const fp1 = await currentFingerprint(deps, secretId);
    await run(() => report(deps, secretId, engine, "e1", fp1));
    await run(() => checkConsumers({ ...ref1, iteration: 0 }, deps));
    await run(() => revokePrevious(ref1, deps));
    deps.clock.advance(120);
    await run(() => report(deps, secretId, engine, "e1", fp1));
    await run(() => report(deps, secretId, gateway, "g1", fp1));
    await run(() => checkConsumers({ ...ref1, iteration: 1 }, deps));
    deps.exchange.faults.failNext(
      "removeKey",
      1,
      ExchangeRetryableError,
      `HTTP 502 echo {"keyId":"${seeded.keyId}","secret":"${seeded.keySecret}"} secret=${seeded.keySecret}`,
    );
    await run(() => revokePrevious(ref1, deps));
    await run(() => revokePrevious(ref1, deps));
    await run(() => completeRotation({ ...ref1, outcome: "revoked" }, deps));

    // Rotation 2: the new key does not authenticate (the exchange echoes a secret), then abort.
    const ref2 = { secretId, rotationId: "rot-2" };
    const liveSecret = await keySecretOf(deps, secretId, STAGE.current);
    await run(() => startRotation(deps, secretId, "rot-2"));
    deps.exchange.faults.failNext(
      "verifyKey",
      1,
      ExchangePermanentError,
      `HTTP 401 for secret=${liveSecret}`,
    );
    await run(() => createNext(ref2, deps));
    deps.exchange.faults.failNext(
      "removeKey",
      1,
      ExchangePermanentError,
      `HTTP 403 "secret": "${liveSecret}"`,
    );
    await run(() => abortRotation({ ...ref2, error: "KeyVerificationFailedError" }, deps));
    deps.clock.advance(3600);
    await run(() => retryRevocations({ limit: 10 }, deps));

    // Rotation 3: stalls, is rolled back, resumed, stalls again and is force-revoked.
    const ref3 = { secretId, rotationId: "rot-3" };
    await run(() => startRotation(deps, secretId, "rot-3"));
    await run(() => createNext(ref3, deps));
    await run(() => promoteCurrent(ref3, deps));
    const check = await run(() => checkConsumers({ ...ref3, iteration: 0 }, deps));
    if (check) await run(() => markStalled({ ...ref3, ...check }, deps));
    await run(() => rollback({ secretId, actor: "operator:alice", reason: "test" }, deps));
    await run(() =>
      beginRotation({ secretId, trigger: "manual", mode: "resume", executionName: "x", actor: "op" }, deps),
    );
    await run(() =>
      markStalled(
        { ...ref3, execution: "x", lagging: [], laggingCount: 0, deadlineAt: "2030-01-09T00:00:00Z" },
        deps,
      ),
    );
    await run(() => forceRevoke({ secretId, actor: "operator:alice", reason: "test" }, deps));

    // Heartbeats that are refused or unknown.
    await run(() =>
      heartbeat(
        {
          callerArn: "arn:aws:sts::123456789012:assumed-role/intruder/s",
          secretId,
          fingerprint: fp1,
          instanceId: "x",
        },
        deps,
      ),
    );
    await run(() => report(deps, secretId, engine, "e9", "fp1_0123456789abcdef"));

    const secrets = deps.exchange.generatedSecrets;
    const haystacks: Record<string, string> = {
      audit: JSON.stringify(deps.audit.all()),
      alerts: JSON.stringify(deps.alerts.sent),
      outputs: JSON.stringify(outputs),
      errors: JSON.stringify(errors.map((e) => ({ name: e.name, message: e.message, stack: e.stack }))),
      ledger: JSON.stringify(await deps.ledger.listAll()),
      rotations: JSON.stringify(await deps.store.listRotations(secretId)),
      versions: JSON.stringify(await deps.store.getVersions(secretId)),
      settings: JSON.stringify(await deps.store.listSettings()),
      instances: JSON.stringify(await deps.consumers.listInstances(secretId)),
    };

    // The paths above did run: every kind of output is there to be scanned.
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    expect(errors.map((e) => e.name)).toEqual(
      expect.arrayContaining([
        "ConsumersNotReadyError",
        "RevocationFailedError",
        "KeyVerificationFailedError",
        "PrincipalNotAllowedError",
      ]),
    );
    expect(deps.alerts.kinds()).toEqual(
      expect.arrayContaining(["rotation-aborted", "rotation-stalled", "unknown-fingerprint"]),
    );
    // A rejected heartbeat is audited in its own stream (no alert: the metric's alarm pages).
    expect(deps.audit.all().map((e) => e.action)).toContain("heartbeat-rejected");
    expect(errors.filter((e) => e.name === "ExchangeKeyLimitError")).toEqual([]);
    expect(haystacks.ledger).toContain("***");
    expect(outputs).toContainEqual(expect.objectContaining({ rotationId: "rot-3", ledger: "revoked" }));
    // Positive control: the scan finds a secret where one legitimately is (the stored value).
    const stored = (await deps.secrets.getValue(secretId, { stage: STAGE.current })).value;
    expect(secrets.filter((s) => stored.includes(s))).toHaveLength(1);

    const hits = Object.entries(haystacks).flatMap(([where, text]) =>
      secrets.filter((s) => text.includes(s)).map((s) => `${where}: ${s.slice(0, 6)}…`),
    );
    expect(hits).toEqual([]);
  });
});
