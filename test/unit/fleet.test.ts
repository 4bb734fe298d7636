import { describe, expect, it } from "vitest";
import { fleetOverview } from "../../src/core/operator/fleet";
import { checkConsumers } from "../../src/core/rotation/check-consumers";
import { markStalled } from "../../src/core/rotation/mark-stalled";
import { addConsumer, makeDeps, seedSecret } from "./fakes";
import { report, rotateToPromoted } from "./support/flow";

describe("fleetOverview (keyshift list)", () => {
  it("lists every enrolled secret with its lock state, last rotation, lagging count and open revocations", async () => {
    const deps = makeDeps();
    const quiet = await seedSecret(deps, { secretId: "keyshift/exchange/b/quiet", account: "b" });
    const busy = await seedSecret(deps, { secretId: "keyshift/exchange/a/busy", account: "a" });
    const engine = await addConsumer(deps, busy.secretId, "engine");
    await addConsumer(deps, busy.secretId, "gateway");
    await report(deps, busy.secretId, engine, "e1", busy.fingerprint);
    const onQuiet = await addConsumer(deps, quiet.secretId, "quiet-engine");
    await report(deps, quiet.secretId, onQuiet, "q1", quiet.fingerprint);
    await rotateToPromoted(deps, busy.secretId, "rot-1");
    const check = await checkConsumers({ secretId: busy.secretId, rotationId: "rot-1", iteration: 0 }, deps);
    await markStalled({ secretId: busy.secretId, rotationId: "rot-1", ...check }, deps);
    await deps.ledger.openPending({
      entryId: "b#old",
      secretId: quiet.secretId,
      exchangeAccount: "b",
      keyId: "old",
      versionId: "v0",
      rotationId: "r0",
      kind: "previous",
      status: "pending",
      attempts: 0,
      needsOperator: false,
      createdAt: deps.clock.now().toISOString(),
      updatedAt: deps.clock.now().toISOString(),
    });
    await deps.ledger.markFailed("b#old", {
      at: deps.clock.now(),
      error: "503",
      nextAttemptAt: undefined,
      needsOperator: true,
    });

    const { secrets: fleet } = await fleetOverview(deps);

    expect(fleet.map((s) => s.secretId)).toEqual([busy.secretId, quiet.secretId]);
    expect(fleet[0]).toMatchObject({
      exchangeAccount: "a",
      state: "stalled",
      next: expect.stringContaining("keyshift resume"),
      lastRotation: { rotationId: "rot-1", trigger: "manual", phase: "stalled", outcome: null },
      lastCompleted: null,
      consumers: 2,
      // engine still reports the old key, gateway never reported
      lagging: 2,
      openRevocations: 0,
      needsOperator: 0,
    });
    expect(fleet[1]).toMatchObject({
      state: "free",
      next: null,
      lastRotation: null,
      consumers: 1,
      lagging: 0,
      openRevocations: 1,
      needsOperator: 1,
    });
  });

  it("pages: each page at most its limit, every secret once, a page reads only its own secrets (no ledger scan)", async () => {
    const deps = makeDeps();
    for (const n of ["c", "a", "e", "b", "d"])
      await seedSecret(deps, { secretId: `keyshift/exchange/x/${n}`, account: `acct-${n}` });
    deps.ledger.listAll = async () => {
      throw new Error("a page must not scan the whole ledger");
    };
    const asked: string[] = [];
    const listRotations = deps.store.listRotations.bind(deps.store);
    deps.store.listRotations = async (secretId) => {
      asked.push(secretId);
      return listRotations(secretId);
    };

    const first = await fleetOverview(deps, { limit: 2 });
    const readByFirst = [...asked];
    const second = await fleetOverview(deps, { limit: 2, nextToken: first.nextToken });
    const third = await fleetOverview(deps, { limit: 2, nextToken: second.nextToken });

    expect(first.secrets).toHaveLength(2);
    expect(readByFirst.sort()).toEqual(first.secrets.map((s) => s.secretId).sort());
    expect([...first.secrets, ...second.secrets, ...third.secrets].map((s) => s.secretId.at(-1))).toEqual([
      "a",
      "b",
      "c",
      "d",
      "e",
    ]);
    expect(third.nextToken).toBeUndefined();
  });

  it("is empty with nothing enrolled", async () => {
    expect(await fleetOverview(makeDeps())).toEqual({ secrets: [] });
  });
});
