import { beforeEach, describe, expect, it } from "vitest";
import { heartbeat } from "../../src/core/consumers/heartbeat";
import { InvalidInputError, OperatorActionRejectedError } from "../../src/core/errors";
import { registerConsumer, removeConsumer } from "../../src/core/operator/operator";
import { addConsumer, type FakeDeps, makeDeps, type SeededSecret, seedSecret } from "./fakes";
import { report, rotateToPromoted } from "./support/flow";

const ROLE = "arn:aws:iam::123456789012:role/engine";
const OPERATOR = { actor: "operator:alice", reason: "engine decommissioned" };

function registration(secretId: string, consumerId: string, principalArn = ROLE) {
  return {
    secretId,
    consumerId,
    principalArn,
    cacheTtlSeconds: 300,
    heartbeatIntervalSeconds: 60,
    required: true,
  };
}

describe("registerConsumer: one principal, one plain consumer id per secret", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps);
  });

  it("refuses a principal already registered for the secret under another id, naming it and the fix", async () => {
    await registerConsumer(registration(seeded.secretId, "engine"), "operator:alice", deps);

    // The same role, written as an assumed-role session: normalized to the same principal.
    const again = registerConsumer(
      registration(seeded.secretId, "engine-2", "arn:aws:sts::123456789012:assumed-role/engine/s1"),
      "operator:alice",
      deps,
    );

    await expect(again).rejects.toBeInstanceOf(InvalidInputError);
    await expect(again).rejects.toThrow(/already registered for .* as consumer "engine"/);
    await expect(again).rejects.toThrow(/keyshift consumers remove/);
    expect((await deps.consumers.listConsumers(seeded.secretId)).map((c) => c.consumerId)).toEqual([
      "engine",
    ]);
  });

  it("lets the same consumer id be registered again (new settings) and the principal serve other secrets", async () => {
    const other = await seedSecret(deps, {
      secretId: "keyshift/exchange/acme-hedge/md",
      account: "acme-hedge",
    });
    await registerConsumer(registration(seeded.secretId, "engine"), "operator:alice", deps);

    await registerConsumer(
      { ...registration(seeded.secretId, "engine"), cacheTtlSeconds: 30 },
      "operator:alice",
      deps,
    );
    await registerConsumer(registration(other.secretId, "engine"), "operator:alice", deps);

    const [engine] = await deps.consumers.listConsumers(seeded.secretId);
    expect(engine?.cacheTtlSeconds).toBe(30);
    expect(await deps.consumers.listConsumers(other.secretId)).toHaveLength(1);
  });

  it.each([
    ["a#b c", "characters"],
    ["x\u202Eenigne", "characters"],
    ["", "characters"],
    ["-engine", "characters"],
    ["e".repeat(65), "characters"],
  ])("refuses consumer id %j before writing anything", async (consumerId, hint) => {
    const refused = registerConsumer(registration(seeded.secretId, consumerId), "operator:alice", deps);

    await expect(refused).rejects.toBeInstanceOf(InvalidInputError);
    await expect(refused).rejects.toThrow(hint);
    expect(await deps.consumers.listConsumers(seeded.secretId)).toEqual([]);
    expect((await deps.audit.list(seeded.secretId)).map((e) => e.action)).not.toContain(
      "consumer-registered",
    );
  });

  it.each([
    [{ cacheTtlSeconds: 1e200 }, "cacheTtlSeconds"],
    [{ cacheTtlSeconds: Number.POSITIVE_INFINITY }, "cacheTtlSeconds"],
    [{ cacheTtlSeconds: -1 }, "cacheTtlSeconds"],
    [{ heartbeatIntervalSeconds: 0 }, "heartbeatIntervalSeconds"],
    [{ heartbeatIntervalSeconds: 1.5 }, "heartbeatIntervalSeconds"],
    [{ principalArn: `arn:aws:iam::123456789012:role/${"r".repeat(65)}` }, "64"],
  ])("refuses %j, naming the field and its bounds", async (change, field) => {
    const refused = registerConsumer(
      { ...registration(seeded.secretId, "engine"), ...change },
      "operator:alice",
      deps,
    );

    await expect(refused).rejects.toBeInstanceOf(InvalidInputError);
    await expect(refused).rejects.toThrow(field);
    expect(await deps.consumers.listConsumers(seeded.secretId)).toEqual([]);
  });

  it("with one principal per consumer, the heartbeat credits the consumer it was registered for", async () => {
    await registerConsumer(registration(seeded.secretId, "engine"), "operator:alice", deps);
    await expect(
      registerConsumer(registration(seeded.secretId, "a-engine"), "operator:alice", deps),
    ).rejects.toThrow(InvalidInputError);

    const out = await heartbeat(
      {
        callerArn: "arn:aws:sts::123456789012:assumed-role/engine/s1",
        secretId: seeded.secretId,
        fingerprint: seeded.fingerprint,
        instanceId: "i-1",
      },
      deps,
    );

    expect(out.consumerId).toBe("engine");
  });
});

describe("removeConsumer", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps);
  });

  it("deletes the registration and its instances, audited with the reason; the principal is refused after", async () => {
    const engine = await addConsumer(deps, seeded.secretId, "engine");
    const gateway = await addConsumer(deps, seeded.secretId, "gateway");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    await report(deps, seeded.secretId, engine, "e2", seeded.fingerprint);
    await report(deps, seeded.secretId, gateway, "g1", seeded.fingerprint);

    const out = await removeConsumer({ secretId: seeded.secretId, consumerId: "engine", ...OPERATOR }, deps);

    expect(out).toMatchObject({ consumerId: "engine", principalArn: ROLE, instancesRemoved: 2 });
    expect((await deps.consumers.listConsumers(seeded.secretId)).map((c) => c.consumerId)).toEqual([
      "gateway",
    ]);
    expect((await deps.consumers.listInstances(seeded.secretId)).map((i) => i.instanceId)).toEqual(["g1"]);
    const [removed] = (await deps.audit.list(seeded.secretId)).filter((e) => e.action === "consumer-removed");
    expect(removed).toMatchObject({
      actor: "operator:alice",
      details: { consumerId: "engine", principalArn: ROLE, reason: "engine decommissioned" },
    });
    await expect(
      heartbeat(
        {
          callerArn: engine.callerArn,
          secretId: seeded.secretId,
          fingerprint: seeded.fingerprint,
          instanceId: "e1",
        },
        deps,
      ),
    ).rejects.toThrow(/not registered/);
    // The principal may now be registered again, under a new id.
    await registerConsumer(registration(seeded.secretId, "engine-v2"), "operator:alice", deps);
  });

  it("removes a consumer registered under an id the rules now refuse", async () => {
    const legacy = {
      ...registration(seeded.secretId, "a#b c"),
      registeredAt: deps.clock.now().toISOString(),
    };
    await deps.consumers.register(legacy);

    const out = await removeConsumer({ secretId: seeded.secretId, consumerId: "a#b c", ...OPERATOR }, deps);

    expect(out.consumerId).toBe("a#b c");
    expect(await deps.consumers.listConsumers(seeded.secretId)).toEqual([]);
  });

  it("names an unknown consumer and the command that lists them", async () => {
    await expect(
      removeConsumer({ secretId: seeded.secretId, consumerId: "ghost", ...OPERATOR }, deps),
    ).rejects.toThrow(/no consumer "ghost" is registered for .*keyshift consumers list/);
  });

  it("needs a reason", async () => {
    await addConsumer(deps, seeded.secretId, "engine");
    await expect(
      removeConsumer(
        { secretId: seeded.secretId, consumerId: "engine", actor: "operator:alice", reason: " " },
        deps,
      ),
    ).rejects.toThrow(/reason/);
    expect(await deps.consumers.listConsumers(seeded.secretId)).toHaveLength(1);
  });

  it("refuses while a rotation of the secret holds the lock: the gate would stop waiting for that consumer", async () => {
    const engine = await addConsumer(deps, seeded.secretId, "engine");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    await rotateToPromoted(deps, seeded.secretId, "rot-1");

    const refused = removeConsumer({ secretId: seeded.secretId, consumerId: "engine", ...OPERATOR }, deps);

    await expect(refused).rejects.toBeInstanceOf(OperatorActionRejectedError);
    await expect(refused).rejects.toThrow(/rotation rot-1 .* holds the lock/);
    expect(await deps.consumers.listConsumers(seeded.secretId)).toHaveLength(1);
    expect(await deps.consumers.listInstances(seeded.secretId)).toHaveLength(1);
  });
});
