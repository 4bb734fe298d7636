import { beforeEach, describe, expect, it } from "vitest";
import { executionInputSchema, parseOrThrow } from "../../src/commons/schemas";
import { ConsumersNotReadyError } from "../../src/core/errors";
import { revokePrevious } from "../../src/core/revocation/revoke-previous";
import { beginRotation } from "../../src/core/rotation/begin-rotation";
import { checkConsumers } from "../../src/core/rotation/check-consumers";
import { createNext } from "../../src/core/rotation/create-next";
import { promoteCurrent } from "../../src/core/rotation/promote-current";
import { ledgerEntryId } from "../../src/core/tokens";
import {
  addConsumer,
  type FakeDeps,
  makeDeps,
  type SeededConsumer,
  type SeededSecret,
  seedSecret,
} from "./fakes";
import { currentFingerprint, report, rotateToPromoted } from "./support/flow";

const REASON = "key seen in a public paste";

describe("emergency rotation input", () => {
  it("needs a reason, and only as a manual new rotation", () => {
    const parse = (input: unknown) => () => parseOrThrow(executionInputSchema, input, "execution input");

    expect(parse({ secretId: "s", trigger: "manual", compromised: true })).toThrow(/needs a "reason"/);
    expect(parse({ secretId: "s", trigger: "schedule", compromised: true, reason: REASON })).toThrow(
      /manual new rotation/,
    );
    expect(parse({ secretId: "s", trigger: "manual", compromised: true, reason: "  " })).toThrow(/say why/);
    expect(parse({ secretId: "s", trigger: "manual", compromised: true, reason: REASON })()).toMatchObject({
      compromised: true,
      reason: REASON,
    });
  });
});

describe("emergency rotation (suspected compromise)", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let engine: SeededConsumer;
  let gateway: SeededConsumer;
  const rotationId = "rot-emergency";
  const ref = { secretId: "keyshift/binance/main", rotationId };

  async function emergencyToPromoted() {
    await beginRotation(
      {
        secretId: seeded.secretId,
        trigger: "manual",
        mode: "rotate",
        executionName: rotationId,
        actor: "operator:ana",
        compromised: true,
        reason: REASON,
      },
      deps,
    );
    await createNext(ref, deps);
    await promoteCurrent(ref, deps);
  }

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps, { settings: { minOverlapSeconds: 900, emergencyDeadlineSeconds: 120 } });
    engine = await addConsumer(deps, seeded.secretId, "engine");
    gateway = await addConsumer(deps, seeded.secretId, "gateway");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    await report(deps, seeded.secretId, gateway, "g1", seeded.fingerprint);
  });

  it("records the emergency, audited and alerted with its reason", async () => {
    await emergencyToPromoted();

    expect((await deps.store.getRotation(seeded.secretId, rotationId))?.emergency).toMatchObject({
      reason: REASON,
      actor: "operator:ana",
    });
    const started = (await deps.audit.list(seeded.secretId)).find(
      (a) => a.action === "emergency-rotation-started",
    );
    expect(started?.details?.reason).toBe(REASON);
    expect(deps.alerts.sent.map((a) => a.kind)).toContain("emergency-rotation");
  });

  it("waits for no overlap: revokes as soon as every consumer reports the new key", async () => {
    await emergencyToPromoted();
    const fp = await currentFingerprint(deps, seeded.secretId);
    await report(deps, seeded.secretId, engine, "e1", fp);
    await report(deps, seeded.secretId, gateway, "g1", fp);

    const check = await checkConsumers({ ...ref, iteration: 0 }, deps);
    const revoked = await revokePrevious(ref, deps);

    expect(check).toMatchObject({ ready: true, overlapRemainingSeconds: 0 });
    expect(check.emergencyBreak).toBeUndefined();
    expect(revoked.status).toBe("revoked");
    expect((await deps.ledger.get(ledgerEntryId(seeded.account, seeded.keyId)))?.breakGlass).toBeUndefined();
  });

  it("at the short deadline revokes even though a consumer lags: audited with the reason and alerted with who fails, before the call", async () => {
    await emergencyToPromoted();
    await report(deps, seeded.secretId, engine, "e1", await currentFingerprint(deps, seeded.secretId));
    const first = await checkConsumers({ ...ref, iteration: 0 }, deps);
    await expect(revokePrevious(ref, deps)).rejects.toBeInstanceOf(ConsumersNotReadyError);
    let auditedBeforeCall = false;
    deps.exchange.before.removeKey = async () => {
      const actions = (await deps.audit.list(seeded.secretId)).map((a) => a.action);
      auditedBeforeCall = actions.includes("emergency-break-glass");
    };

    deps.clock.advance(110);
    // The engine keeps heartbeating on the new key at the fast interval the server gave it.
    await report(deps, seeded.secretId, engine, "e1", await currentFingerprint(deps, seeded.secretId));
    const atDeadline = await checkConsumers({ ...ref, iteration: first.iteration }, deps);
    const revoked = await revokePrevious(ref, deps);

    // Counted from the command, less a margin for the call: the key is dead within the 120 s.
    const startedAt = (await deps.store.getRotation(seeded.secretId, rotationId))?.startedAt ?? "";
    expect(Date.parse(first.deadlineAt) - Date.parse(startedAt)).toBe(110_000);
    expect(deps.clock.now().getTime() - Date.parse(startedAt)).toBeLessThanOrEqual(120_000);
    expect(atDeadline).toMatchObject({ ready: true, emergencyBreak: true, deadlinePassed: false });
    expect(atDeadline.lagging.map((l) => l.consumerId)).toEqual(["gateway"]);
    expect(revoked.status).toBe("revoked");
    expect(auditedBeforeCall).toBe(true);
    const brk = (await deps.audit.list(seeded.secretId)).find((a) => a.action === "emergency-break-glass");
    expect(brk?.details).toMatchObject({
      reason: REASON,
      laggingConsumers: ["gateway"],
      keyId: seeded.keyId,
    });
    const alert = deps.alerts.sent.find((a) => a.kind === "emergency-revocation");
    expect(alert?.details.laggingConsumers).toEqual(["gateway"]);
    expect((await deps.ledger.get(ledgerEntryId(seeded.account, seeded.keyId)))?.breakGlass).toMatchObject({
      actor: `emergency:${rotationId}`,
      reason: REASON,
    });
  });

  it("a normal rotation never breaks the gate at its deadline: it stalls", async () => {
    await rotateToPromoted(deps, seeded.secretId, "rot-normal");
    const normal = { secretId: seeded.secretId, rotationId: "rot-normal" };
    const first = await checkConsumers({ ...normal, iteration: 0 }, deps);
    deps.clock.advance(86_400);

    const atDeadline = await checkConsumers({ ...normal, iteration: first.iteration }, deps);

    expect(atDeadline).toMatchObject({ ready: false, deadlinePassed: true });
    await expect(revokePrevious(normal, deps)).rejects.toBeInstanceOf(ConsumersNotReadyError);
    expect(deps.exchange.callsTo("removeKey")).toHaveLength(0);
  });
});
