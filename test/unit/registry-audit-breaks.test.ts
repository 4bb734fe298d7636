/**
 * Regression tests for breaks 7, 8, 10, 15 and 17 of issue 14 (registry changes and the audit
 * around them), each named after its break. Every one of them failed on the code before its fix.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { auditVerify } from "../../src/cli/commands/audit";
import { consumersRegister } from "../../src/cli/commands/enroll";
import { Output } from "../../src/cli/output";
import type { AppDeps } from "../../src/commons/deps";
import { instanceAuditStream } from "../../src/core/audit/chain";
import { verifySecretAudit } from "../../src/core/audit/trail";
import { AuditChainBrokenError, OperatorActionRejectedError } from "../../src/core/errors";
import { registerConsumer, removeConsumer } from "../../src/core/operator/operator";
import { readPolicyDrift, syncReadPolicy } from "../../src/core/read-policy/sync";
import { checkConsumers } from "../../src/core/rotation/check-consumers";
import {
  addConsumer,
  type FakeDeps,
  makeDeps,
  type SeededConsumer,
  type SeededSecret,
  seedSecret,
  TINY_OVERLAP,
} from "./fakes";
import { report, rotateToPromoted } from "./support/flow";

const ROLE = (name: string) => `arn:aws:iam::123456789012:role/${name}`;
const OPERATOR = { actor: "operator:alice", reason: "engine decommissioned" };

function registration(secretId: string, consumerId: string, change: Record<string, unknown> = {}) {
  return {
    secretId,
    consumerId,
    principalArn: ROLE(consumerId),
    cacheTtlSeconds: 300,
    heartbeatIntervalSeconds: 60,
    required: true,
    ...change,
  };
}

describe("break 7: a re-registration during a rotation may not make the gate wait less", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let engine: SeededConsumer;
  const rotationId = "rot-1";

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps, { settings: TINY_OVERLAP });
    engine = await addConsumer(deps, seeded.secretId, "engine");
    // The engine is live on the key that is about to become the previous one, and lags.
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    await rotateToPromoted(deps, seeded.secretId, rotationId);
    deps.clock.advance(1);
  });

  const gate = () =>
    checkConsumers({ secretId: seeded.secretId, rotationId, execution: rotationId, iteration: 0 }, deps);

  it.each([
    ["required → optional", { required: false }],
    ["another principal", { principalArn: ROLE("engine-new-role") }],
    ["a shorter heartbeat interval", { heartbeatIntervalSeconds: 10 }],
  ])(
    "break 7: refuses %s while the rotation holds the lock; the gate keeps waiting",
    async (_what, change) => {
      const refused = registerConsumer(
        registration(seeded.secretId, "engine", change),
        "operator:alice",
        deps,
      );

      await expect(refused).rejects.toBeInstanceOf(OperatorActionRejectedError);
      await expect(refused).rejects.toThrow(/rotation rot-1 of .* holds the lock/);
      const [stored] = await deps.consumers.listConsumers(seeded.secretId);
      expect(stored).toMatchObject({
        required: true,
        principalArn: ROLE("engine"),
        heartbeatIntervalSeconds: 60,
      });
      expect((await gate()).ready).toBe(false);
    },
  );

  it("break 7: refuses a cache TTL raised past minOverlapSeconds while the rotation holds the lock", async () => {
    const refused = registerConsumer(
      registration(seeded.secretId, "engine", { cacheTtlSeconds: 900 }),
      "operator:alice",
      deps,
    );

    await expect(refused).rejects.toBeInstanceOf(OperatorActionRejectedError);
    await expect(refused).rejects.toThrow(/cacheTtlSeconds/);
  });

  it("break 7: allows a new registration and a strengthening change during the rotation, and any change after it", async () => {
    await registerConsumer(registration(seeded.secretId, "gateway", { required: false }), "op", deps);
    await registerConsumer(registration(seeded.secretId, "gateway", { required: true }), "op", deps);
    await registerConsumer(
      registration(seeded.secretId, "engine", { heartbeatIntervalSeconds: 120, cacheTtlSeconds: 30 }),
      "op",
      deps,
    );
    expect(
      (await deps.consumers.listConsumers(seeded.secretId)).map((c) => [c.consumerId, c.required]),
    ).toEqual([
      ["engine", true],
      ["gateway", true],
    ]);

    await deps.lock.release(seeded.secretId, rotationId);
    await registerConsumer(registration(seeded.secretId, "engine", { required: false }), "op", deps);
    expect((await deps.consumers.listConsumers(seeded.secretId))[0]?.required).toBe(false);
  });
});

describe("break 7: the CLI keeps a registered consumer's settings for omitted flags", () => {
  const SECRET = "keyshift/exchange/acme-main/trading";
  // Its entry's consumer defaults: { cacheTtlSeconds: 0, heartbeatIntervalSeconds: 15, required: false }.
  const CONFIG = "test/fixtures/enrollment/valid-minimal.yml";
  let deps: FakeDeps;

  beforeEach(async () => {
    deps = makeDeps();
    await seedSecret(deps, { secretId: SECRET, account: "acme-main", settings: TINY_OVERLAP });
    await registerConsumer(
      registration(SECRET, "engine", { cacheTtlSeconds: 1, heartbeatIntervalSeconds: 20 }),
      "op",
      deps,
    );
  });

  async function cli(values: Record<string, string>) {
    const sink = { write: () => undefined };
    const parsed = consumersRegister.parse([SECRET], {
      consumer: "engine",
      principal: ROLE("engine"),
      config: CONFIG,
      ...values,
    });
    return consumersRegister.run(
      {
        deps: deps as unknown as AppDeps,
        out: new Output(true, sink, sink),
        actor: "operator:alice",
        env: {},
      },
      parsed,
    );
  }

  it("break 7: `consumers register` with only --heartbeat-interval keeps required, the TTL, and is accepted mid-rotation", async () => {
    const engine = { consumerId: "engine", callerArn: "arn:aws:sts::123456789012:assumed-role/engine/s" };
    await report(
      deps,
      SECRET,
      engine,
      "e1",
      (await deps.store.getVersions(SECRET))?.current?.fingerprint ?? "",
    );
    await rotateToPromoted(deps, SECRET, "rot-1");

    expect(await cli({ "heartbeat-interval": "40" })).toBe(0);

    const [stored] = await deps.consumers.listConsumers(SECRET);
    expect(stored).toMatchObject({ required: true, cacheTtlSeconds: 1, heartbeatIntervalSeconds: 40 });
  });

  it("break 7: a consumer not registered yet gets the config's defaults for omitted flags; given flags win", async () => {
    await cli({ consumer: "gateway", principal: ROLE("gateway") });
    await cli({ required: "false", "cache-ttl": "1" });

    const byId = Object.fromEntries(
      (await deps.consumers.listConsumers(SECRET)).map((c) => [c.consumerId, c]),
    );
    expect(byId.gateway).toMatchObject({ required: false, cacheTtlSeconds: 0, heartbeatIntervalSeconds: 15 });
    expect(byId.engine).toMatchObject({ required: false, cacheTtlSeconds: 1, heartbeatIntervalSeconds: 20 });
  });
});

describe("break 8: audit verify finds every instance stream, with or without its instance row", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let stream: string;

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps);
    const engine = await addConsumer(deps, seeded.secretId, "engine");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    await report(deps, seeded.secretId, engine, "e1", "fp1_00000000deadbeef");
    stream = instanceAuditStream(seeded.secretId, "engine", "e1");
    await removeConsumer({ secretId: seeded.secretId, consumerId: "engine", ...OPERATOR }, deps);
    expect(await deps.consumers.listInstances(seeded.secretId)).toEqual([]);
  });

  it("break 8: a removed consumer's stream still verifies when whole, and is counted", async () => {
    const whole = await verifySecretAudit(seeded.secretId, deps);

    expect(whole.ok).toBe(true);
    expect(whole.instanceStreams).toBe(1);
    expect(whole.instanceEntries).toBe(2);
  });

  it("break 8: a removed consumer's stream truncated after the removal fails verification", async () => {
    deps.audit.remove(stream, 2);

    const out = await verifySecretAudit(seeded.secretId, deps);

    expect(out.ok).toBe(false);
    expect(out.broken[stream]?.brokenAt?.seq).toBe(2);
  });

  it("break 8: a removed consumer's stream deleted whole, head included, fails verification", async () => {
    deps.audit.remove(stream, 1, 2);
    deps.audit.removeHead(stream);

    const out = await verifySecretAudit(seeded.secretId, deps);

    expect(out.ok).toBe(false);
    expect(out.broken[stream]?.brokenAt?.reason).toMatch(/deleted|no audit trail/);
  });
});

describe("break 10: the read-policy sync never reports success while the policy differs from the registry", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps);
  });

  it("break 10: a registry that keeps changing under the sync ends in a clear error, not a success", async () => {
    const realPut = deps.policies.putResourcePolicy.bind(deps.policies);
    let n = 0;
    vi.spyOn(deps.policies, "putResourcePolicy").mockImplementation(async (secretId, document) => {
      await realPut(secretId, document);
      n += 1;
      await deps.consumers.register({
        ...registration(secretId, `late-${n}`),
        registeredAt: deps.clock.now().toISOString(),
      });
    });
    deps.policies.edit(seeded.secretId, "{}");

    const out = syncReadPolicy(deps, seeded.secretId, "operator:test");

    await expect(out).rejects.toMatchObject({ name: "ReadPolicyOutOfSyncError" });
    await expect(out).rejects.toThrow(/keyshift enroll/);
    expect((await readPolicyDrift(deps, seeded.secretId)).length).toBeGreaterThan(0);
  });

  it("break 10: a removal whose policy write is overwritten by a stale sync fails; the removed role's read is reported", async () => {
    await addConsumer(deps, seeded.secretId, "engine");
    const stale = await deps.policies.getResourcePolicy(seeded.secretId);
    const realPut = deps.policies.putResourcePolicy.bind(deps.policies);
    // Another sync that read the registry before the removal writes its policy after each of ours.
    vi.spyOn(deps.policies, "putResourcePolicy").mockImplementation(async (secretId, document) => {
      await realPut(secretId, document);
      await realPut(secretId, stale ?? "{}");
    });

    const out = removeConsumer({ secretId: seeded.secretId, consumerId: "engine", ...OPERATOR }, deps);

    await expect(out).rejects.toMatchObject({ name: "ReadPolicyOutOfSyncError" });
    await expect(out).rejects.toThrow(/engine|extra-reader|can still read/);
    expect((await readPolicyDrift(deps, seeded.secretId)).map((f) => f.kind)).toContain("extra-reader");
  });
});

describe("break 15: an audit trail deleted whole is never restarted at genesis", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps);
  });

  it("break 15: the secret's chain deleted whole, head included: the next append refuses and verify fails", async () => {
    const seqs = (await deps.audit.list(seeded.secretId)).map((e) => e.seq);
    deps.audit.remove(seeded.secretId, ...seqs);
    deps.audit.removeHead(seeded.secretId);

    const append = deps.audit.append({
      secretId: seeded.secretId,
      actor: "op",
      action: "consumer-registered",
    });

    await expect(append).rejects.toBeInstanceOf(AuditChainBrokenError);
    await expect(append).rejects.toThrow(/keyshift audit verify/);
    expect(await deps.audit.list(seeded.secretId)).toEqual([]);
    const verdict = await verifySecretAudit(seeded.secretId, deps);
    expect(verdict.ok).toBe(false);
    expect(verdict.secret.ok).toBe(false);
  });

  it("break 15: `audit verify` of an enrolled secret whose trail is gone says BROKEN (exit 3), not 'is it enrolled?'", async () => {
    const seqs = (await deps.audit.list(seeded.secretId)).map((e) => e.seq);
    deps.audit.remove(seeded.secretId, ...seqs);
    deps.audit.removeHead(seeded.secretId);
    let stdout = "";
    const sink = { write: (t: string) => (stdout += t) };

    const code = await auditVerify.run(
      { deps: deps as unknown as AppDeps, out: new Output(false, sink, sink), actor: "op", env: {} },
      seeded.secretId,
    );

    expect(code).toBe(3);
    expect(stdout).toMatch(/BROKEN at seq 0: no audit trail: the stream register lists it/);
  });

  it("break 15: the chain, its head AND the stream register deleted, then appended to: the enrollment record still tells", async () => {
    const seqs = (await deps.audit.list(seeded.secretId)).map((e) => e.seq);
    deps.audit.remove(seeded.secretId, ...seqs);
    deps.audit.removeHead(seeded.secretId);
    deps.audit.removeRegister(seeded.secretId);

    // Nothing in the audit table says the trail existed: the append restarts it at genesis.
    await deps.audit.append({ secretId: seeded.secretId, actor: "op", action: "consumer-registered" });

    const verdict = await verifySecretAudit(seeded.secretId, deps);
    expect(verdict.ok).toBe(false);
    expect(verdict.secret.brokenAt?.reason).toMatch(/does not begin with the secret's enrollment/);
  });

  it("an append landing while `audit verify` reads the trail is no false break", async () => {
    const realList = deps.audit.list.bind(deps.audit);
    let raced = false;
    deps.audit.list = async (stream) => {
      const entries = await realList(stream);
      if (!raced && stream === seeded.secretId) {
        raced = true; // A rotation step appends right after verify read the entries.
        await deps.audit.append({
          secretId: seeded.secretId,
          actor: "rotation:r1",
          action: "rotation-stalled",
        });
      }
      return entries;
    };

    const verdict = await verifySecretAudit(seeded.secretId, deps);

    expect(raced).toBe(true);
    expect(verdict.secret).toMatchObject({ ok: true });
  });

  it("break 15: an intact trail begins with the enrollment its settings record", async () => {
    const [first] = await deps.audit.list(seeded.secretId);
    const settings = await deps.store.getSettings(seeded.secretId);
    expect(first?.details?.enrolledAt).toBe(settings?.enrolledAt);
    expect((await verifySecretAudit(seeded.secretId, deps)).ok).toBe(true);
  });

  it("break 15: an instance stream deleted whole while its row lives: the next change refuses to restart it", async () => {
    const engine = await addConsumer(deps, seeded.secretId, "engine");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    const stream = instanceAuditStream(seeded.secretId, "engine", "e1");
    deps.audit.remove(stream, 1);
    deps.audit.removeHead(stream);

    await expect(report(deps, seeded.secretId, engine, "e1", "fp1_00000000deadbeef")).rejects.toBeInstanceOf(
      AuditChainBrokenError,
    );
    expect(await deps.audit.list(stream)).toEqual([]);
    expect((await verifySecretAudit(seeded.secretId, deps)).broken[stream]?.ok).toBe(false);
  });
});

describe("break 17: one principal, one consumer id, also under concurrent registrations", () => {
  it("break 17: of 5 concurrent registrations of one role under different ids, exactly one is stored", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);

    const outcomes = await Promise.allSettled(
      [1, 2, 3, 4, 5].map((n) =>
        registerConsumer(
          registration(seeded.secretId, `engine-${n}`, { principalArn: ROLE("engine") }),
          "operator:alice",
          deps,
        ),
      ),
    );

    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    expect(await deps.consumers.listConsumers(seeded.secretId)).toHaveLength(1);
    for (const o of outcomes) {
      if (o.status === "rejected") expect(String(o.reason)).toMatch(/already registered|claimed/);
    }
  });

  it("break 17: removal frees the principal for another id; re-registering the same id passes", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);
    await registerConsumer(registration(seeded.secretId, "engine"), "op", deps);
    await registerConsumer(registration(seeded.secretId, "engine", { cacheTtlSeconds: 30 }), "op", deps);

    await removeConsumer({ secretId: seeded.secretId, consumerId: "engine", ...OPERATOR }, deps);
    await registerConsumer(
      registration(seeded.secretId, "engine-v2", { principalArn: ROLE("engine") }),
      "op",
      deps,
    );

    expect((await deps.consumers.listConsumers(seeded.secretId)).map((c) => c.consumerId)).toEqual([
      "engine-v2",
    ]);
  });
});
