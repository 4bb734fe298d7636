/**
 * Regression tests for issue 14's emergency breaks: break 6 (an emergency parked, rolled back and
 * resumed broke the glass on the NEW key) and the incident paths (escalation of a running rotation,
 * an earlier key still held in the ledger, and `rotate --compromised` in every state of a secret).
 */
import { beforeEach, describe, expect, it } from "vitest";
import { STAGE } from "../../src/core/model";
import { ledgerEntryId } from "../../src/core/tokens";
import { beginRotation } from "../../src/core/use-cases/begin-rotation";
import { checkConsumers } from "../../src/core/use-cases/check-consumers";
import { createNext } from "../../src/core/use-cases/create-next";
import { markStalled } from "../../src/core/use-cases/mark-stalled";
import { rollback } from "../../src/core/use-cases/operator";
import { promoteCurrent } from "../../src/core/use-cases/promote-current";
import { revokePrevious } from "../../src/core/use-cases/revoke-previous";
import {
  addConsumer,
  type FakeDeps,
  makeDeps,
  type SeededConsumer,
  type SeededSecret,
  seedSecret,
} from "./fakes";
import { report, resumeRotation } from "./support/flow";

const REASON = "key seen in a public paste";
const OPERATOR = { actor: "operator:alice", reason: "new key breaks the engine" };

function emergency(deps: FakeDeps, secretId: string, executionName: string) {
  return beginRotation(
    {
      secretId,
      trigger: "manual",
      mode: "rotate",
      executionName,
      actor: "operator:ana",
      compromised: true,
      reason: REASON,
    },
    deps,
  );
}

/** Every key an emergency break-glass was audited or recorded for. */
async function brokenGlassKeys(deps: FakeDeps, secretId: string, account: string, keyIds: string[]) {
  const audited = (await deps.audit.list(secretId))
    .filter((a) => a.action === "emergency-break-glass")
    .map((a) => String(a.details?.keyId));
  const recorded: string[] = [];
  for (const keyId of keyIds) {
    const entry = await deps.ledger.get(ledgerEntryId(account, keyId));
    if (entry?.breakGlass?.actor.startsWith("emergency:")) recorded.push(keyId);
  }
  return [...new Set([...audited, ...recorded])];
}

describe("break 6: an emergency parked, rolled back and resumed", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let engine: SeededConsumer;
  const rotationId = "rot-emergency";

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps, { settings: { minOverlapSeconds: 900, emergencyDeadlineSeconds: 120 } });
    engine = await addConsumer(deps, seeded.secretId, "engine");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
  });

  it("break 6: never breaks the glass on the new key; the key a live consumer holds is not revoked; the compromised key current again is alerted", async () => {
    const ref = { secretId: seeded.secretId, rotationId, execution: rotationId };
    await emergency(deps, seeded.secretId, rotationId);
    const created = await createNext(ref, deps);
    await promoteCurrent(ref, deps);
    const newKey = created.next.exchangeKeyId;
    // The engine switches to the new key at once.
    await report(deps, seeded.secretId, engine, "e1", created.next.fingerprint);
    // A step fails past its retries: the workflow parks the rotation.
    await markStalled({ ...ref, lagging: [], laggingCount: 0, error: "States.TaskFailed" }, deps);
    // The operator rolls back to the old (compromised) key; the engine has not moved back yet.
    await rollback({ secretId: seeded.secretId, ...OPERATOR }, deps);
    expect(deps.secrets.holder(seeded.secretId, STAGE.current)).toBe(seeded.versionId);
    deps.clock.advance(200); // well past the emergency's original deadline
    await report(deps, seeded.secretId, engine, "e1", created.next.fingerprint);

    await resumeRotation(deps, seeded.secretId, "x1");
    await report(deps, seeded.secretId, engine, "e1", created.next.fingerprint);
    const check = await checkConsumers({ ...ref, execution: "x1", iteration: 0 }, deps);
    const revoked = check.ready
      ? await revokePrevious({ ...ref, execution: "x1" }, deps).catch((e: unknown) => e)
      : undefined;

    expect(revoked).toBeUndefined();
    expect(check).toMatchObject({ ready: false, deadlinePassed: false });
    expect(check.emergencyBreak).toBeUndefined();
    // The engine is live on the new key: it stays active, and no break-glass names it.
    expect(deps.exchange.activeKeyIds(seeded.account)).toContain(newKey);
    expect(await brokenGlassKeys(deps, seeded.secretId, seeded.account, [newKey, seeded.keyId])).toEqual(
      [],
    );
    // A normal gate for the abandoned key: the secret's own deadline, counted from the resume.
    expect(Date.parse(check.deadlineAt) - deps.clock.now().getTime()).toBe(
      seeded.settings.deadlineSeconds * 1000,
    );
    // The operator is told the compromised key is current again and what to run.
    const alert = deps.alerts.sent.find(
      (a) => a.kind === "emergency-rotation" && /is current again/.test(a.subject),
    );
    expect(alert?.details.compromisedKeyId).toBe(seeded.keyId);
    expect(String(alert?.details.action)).toMatch(/keyshift rotate keyshift\/binance\/main --compromised/);
    expect(deps.audit.actions(seeded.secretId)).toContain("emergency-compromised-key-current");
  });

  it("break 6: resumed without a rollback, the emergency still kills the compromised key at once", async () => {
    const ref = { secretId: seeded.secretId, rotationId, execution: rotationId };
    await emergency(deps, seeded.secretId, rotationId);
    await createNext(ref, deps);
    await promoteCurrent(ref, deps);
    await markStalled({ ...ref, lagging: [], laggingCount: 0, error: "States.TaskFailed" }, deps);
    deps.clock.advance(200);

    await resumeRotation(deps, seeded.secretId, "x1");
    const check = await checkConsumers({ ...ref, execution: "x1", iteration: 0 }, deps);
    const out = await revokePrevious({ ...ref, execution: "x1" }, deps);

    expect(check).toMatchObject({ ready: true, emergencyBreak: true });
    expect(out.keyId).toBe(seeded.keyId);
    expect(await brokenGlassKeys(deps, seeded.secretId, seeded.account, [seeded.keyId])).toEqual([
      seeded.keyId,
    ]);
  });
});
