/**
 * A secret with a history to give evidence of, made by the real use cases on the in-memory
 * adapters: rotation rot-1 completes on 2030-03-01 (both consumers confirm), reads on 2030-03-02
 * (a consumer's served read, an intruder's denied one), rotation rot-2 stalls on 2030-03-03 (the
 * gateway never moves) and an approval names it, with an actor that holds markup.
 */
import { recordSecretRead } from "../../../src/core/consumers/secret-read";
import { assembleEvidence, type EvidenceDeps } from "../../../src/core/evidence/assemble";
import type { EvidenceDocument } from "../../../src/core/evidence/model";
import { evidencePeriod } from "../../../src/core/evidence/period";
import type { HygieneFinding } from "../../../src/core/hygiene/findings";
import { revokePrevious } from "../../../src/core/revocation/revoke-previous";
import { completeRotation } from "../../../src/core/rotation/complete-rotation";
import { markStalled } from "../../../src/core/rotation/mark-stalled";
import { addConsumer, type FakeDeps, makeDeps, type SeededSecret, seedSecret } from "../fakes";
import { currentFingerprint, report, rotateToPromoted } from "./flow";

export const INTRUDER = "arn:aws:iam::999988887777:role/ops/laptop-admin";
export const HOSTILE_ACTOR = 'arn:aws:sts::123456789012:assumed-role/approver/<script>alert("x")</script>';

export interface EvidenceWorld {
  deps: FakeDeps;
  seeded: SeededSecret;
  findings: HygieneFinding[];
  /** The evidence of `from..to` (days of 2030-03). */
  evidence(from: string, to: string): Promise<EvidenceDocument>;
}

export async function evidenceWorld(): Promise<EvidenceWorld> {
  const deps = makeDeps({ start: "2030-03-01T08:00:00.000Z" });
  const seeded = await seedSecret(deps, { secretId: "keyshift/exchange/acme/trading" });
  const secretId = seeded.secretId;
  const engine = await addConsumer(deps, secretId, "engine", { path: "trading/" });
  const gateway = await addConsumer(deps, secretId, "gateway");
  await report(deps, secretId, engine, "e1", seeded.fingerprint);
  await report(deps, secretId, gateway, "g1", seeded.fingerprint);

  await rotateToPromoted(deps, secretId, "rot-1");
  const second = await currentFingerprint(deps, secretId);
  deps.clock.advance(5);
  await report(deps, secretId, engine, "e1", second);
  await report(deps, secretId, gateway, "g1", second);
  deps.clock.advance(400);
  await report(deps, secretId, engine, "e1", second);
  await report(deps, secretId, gateway, "g1", second);
  await revokePrevious({ secretId, rotationId: "rot-1" }, deps);
  await completeRotation({ secretId, rotationId: "rot-1", outcome: "revoked" }, deps);

  deps.clock.set("2030-03-02T10:00:00.000Z");
  const read = { secretRef: secretId, eventId: "ev-1", at: "2030-03-02T10:00:00Z" };
  await recordSecretRead(
    {
      ...read,
      principalArn: "arn:aws:iam::123456789012:role/trading/engine",
      callerArn: "arn:aws:sts::123456789012:assumed-role/engine/i-1",
      denied: false,
    },
    deps,
  );
  await recordSecretRead(
    { ...read, eventId: "ev-2", principalArn: INTRUDER, callerArn: `${INTRUDER}/bob`, denied: true },
    deps,
  );

  deps.clock.set("2030-03-03T09:00:00.000Z");
  await rotateToPromoted(deps, secretId, "rot-2");
  const third = await currentFingerprint(deps, secretId);
  deps.clock.advance(5);
  await report(deps, secretId, engine, "e1", third);
  deps.clock.advance(60);
  await markStalled(
    {
      secretId,
      rotationId: "rot-2",
      lagging: [
        { consumerId: "gateway", reason: "on-other-fingerprint", liveInstances: 1, fingerprints: [] },
      ],
      laggingCount: 1,
      deadlineAt: deps.clock.now().toISOString(),
    },
    deps,
  );
  deps.clock.advance(60);
  await deps.audit.append({
    secretId,
    actor: HOSTILE_ACTOR,
    action: "approval-granted",
    details: {
      approvalId: "ap-1",
      rotationId: "rot-2",
      command: "force-revoke",
      requestedBy: "operator:alice",
    },
  });

  const findings: HygieneFinding[] = [
    {
      secretId,
      kind: "rotation-stuck",
      severity: "high",
      message: "rotation rot-2 stalled",
      fix: `keyshift status ${secretId}`,
    },
  ];
  deps.clock.set("2030-03-20T00:00:00.000Z");
  const evidenceDeps: EvidenceDeps = {
    ...deps,
    hygiene: async () => ({ at: deps.clock.now().toISOString(), findings }),
  };
  return {
    deps,
    seeded,
    findings,
    evidence: (from, to) =>
      assembleEvidence({ period: evidencePeriod(from, to), generatedBy: "operator:auditor" }, evidenceDeps),
  };
}

/** Every value the secret store holds, for the leak scan. */
export function storedValues(deps: FakeDeps, secretId: string): string[] {
  return deps.secrets.versions(secretId).map((v) => v.value);
}
