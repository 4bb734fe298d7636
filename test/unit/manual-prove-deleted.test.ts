import { describe, expect, it } from "vitest";
import { InMemoryManualTasks } from "../../harness/memory";
import { confirmDeleted } from "../../src/core/manual/confirm";
import { ManualTaskRefusedError } from "../../src/core/manual/errors";
import { deletionTaskId } from "../../src/core/manual/ids";
import { inProcessProver, proveDeleted } from "../../src/core/manual/prove";
import { openManualTask } from "../../src/core/manual/tasks";
import type { LedgerEntry } from "../../src/core/model";
import type { TaskCallbacks } from "../../src/core/ports";
import { newLedgerEntry } from "../../src/core/revocation/through-ledger";
import { ledgerEntryId } from "../../src/core/tokens";
import { type FakeDeps, makeDeps, type SeededSecret, seedSecret } from "./fakes";

/**
 * The proof behind `keys confirm-deleted` (src/core/manual/prove.ts): the old key is read from its
 * version and the exchange asked once; only an entry a person was asked to delete is proved.
 */

/** An error as the SDK throws a modeled exception: its `name` is the exception's. */
const sdkError = (name: string) =>
  class extends Error {
    override name = name;
  };

interface Arranged {
  deps: FakeDeps;
  seeded: SeededSecret;
  entry: LedgerEntry;
}

/** A manual account whose current key keyshift asked a person to delete (entry `awaiting-operator`). */
async function awaitingDeletion(status: "awaiting-operator" | "pending" | "revoked" = "awaiting-operator") {
  const deps = makeDeps();
  const seeded = await seedSecret(deps, { account: "kraken-1" });
  deps.exchange.addManualAccount(seeded.account);
  const entryId = ledgerEntryId(seeded.account, seeded.keyId);
  const opened = newLedgerEntry(
    {
      secretId: seeded.secretId,
      exchangeAccount: seeded.account,
      keyId: seeded.keyId,
      versionId: seeded.versionId,
      rotationId: "rot-1",
      kind: "previous",
    },
    entryId,
    deps.clock.now(),
  );
  await deps.ledger.openPending(opened);
  if (status !== "pending") await deps.ledger.markAwaitingOperator(entryId, { at: deps.clock.now() });
  if (status === "revoked") await deps.ledger.markRevoked(entryId, deps.clock.now());
  const entry = (await deps.ledger.get(entryId)) as LedgerEntry;
  return { deps, seeded, entry } satisfies Arranged;
}

describe("ProveDeleted: the reader's proof that a manually deleted key is gone", () => {
  it("proves an awaiting entry whose key the person deleted: asked the exchange once, with the key", async () => {
    const { deps, seeded, entry } = await awaitingDeletion();
    deps.exchange.webDeleteKey(seeded.account, seeded.keyId);
    const trail = await deps.audit.list(seeded.secretId);

    const out = await proveDeleted({ entryId: entry.entryId }, deps);

    expect(out).toEqual({ entryId: entry.entryId, verified: "exchange" });
    expect(deps.exchange.callsTo("keyStillExists").map((c) => c.keyId)).toEqual([seeded.keyId]);
    // It writes nothing: the confirmation records it afterwards.
    expect((await deps.ledger.get(entry.entryId))?.status).toBe("awaiting-operator");
    expect(await deps.audit.list(seeded.secretId)).toEqual(trail);
  });

  it("refuses while the key still authenticates, with today's message, asking only once", async () => {
    const { deps, seeded, entry } = await awaitingDeletion();

    const out = proveDeleted({ entryId: entry.entryId }, deps);

    await expect(out).rejects.toThrow(ManualTaskRefusedError);
    await expect(out).rejects.toThrow(
      `key ${seeded.keyId} on ${seeded.account} still authenticates: it is not deleted. Delete it in the exchange's web UI, then run this again`,
    );
    expect(deps.exchange.callsTo("keyStillExists")).toHaveLength(1);
    await expect(out).rejects.not.toThrow(seeded.keySecret);
  });

  it.each(["pending", "revoked"] as const)(
    "proves only an entry awaiting a person: %s is refused without asking the exchange",
    async (status) => {
      const { deps, seeded, entry } = await awaitingDeletion(status);
      deps.exchange.webDeleteKey(seeded.account, seeded.keyId);

      await expect(proveDeleted({ entryId: entry.entryId }, deps)).rejects.toThrow(ManualTaskRefusedError);
      await expect(proveDeleted({ entryId: "kraken-1#nope" }, deps)).rejects.toThrow(/no ledger entry/);
      expect(deps.exchange.callsTo("keyStillExists")).toEqual([]);
    },
  );

  it("a version Secrets Manager no longer holds leaves nothing to sign with: the person's word", async () => {
    const { deps, seeded, entry } = await awaitingDeletion();
    deps.exchange.webDeleteKey(seeded.account, seeded.keyId);
    deps.secrets.faults.failNext("getValue", 1, sdkError("ResourceNotFoundException"));

    expect(await proveDeleted({ entryId: entry.entryId }, deps)).toMatchObject({ verified: "operator" });
    expect(deps.exchange.callsTo("keyStillExists")).toEqual([]);
  });

  it("an exchange that cannot tell gives the person's word", async () => {
    const { deps, seeded, entry } = await awaitingDeletion();
    deps.exchange.webDeleteKey(seeded.account, seeded.keyId);
    // Kraken's answer neither "invalid key" nor a success (the adapter's `undefined`).
    const exchange = Object.assign(Object.create(deps.exchange), { keyStillExists: async () => undefined });

    expect(await proveDeleted({ entryId: entry.entryId }, { ...deps, exchange })).toMatchObject({
      verified: "operator",
    });
  });

  it("the reader refused its read is a fault, never a proof; an operator's CLI records the person's word", async () => {
    const { deps, seeded, entry } = await awaitingDeletion();
    deps.exchange.webDeleteKey(seeded.account, seeded.keyId);
    const denied = () => deps.secrets.faults.failNext("getValue", 1, sdkError("AccessDeniedException"));

    denied();
    await expect(proveDeleted({ entryId: entry.entryId }, deps)).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
    denied();
    expect(await inProcessProver(deps, { unreadable: "operator" }).prove(entry)).toBe("operator");
  });
});

describe("keys confirm-deleted with a prover that refuses", () => {
  it("records nothing: the entry stays awaiting, no audit entry, the task stays open", async () => {
    const { deps, entry, seeded } = await awaitingDeletion();
    const tasks = new InMemoryManualTasks();
    const sent: string[] = [];
    const callbacks: TaskCallbacks = {
      succeed: async (token) => {
        sent.push(token);
        return "sent";
      },
      fail: async () => "sent",
    };
    const before = await deps.audit.list(seeded.secretId);
    const prover = {
      prove: async () => {
        throw new ManualTaskRefusedError("still authenticates");
      },
    };

    const out = confirmDeleted(
      { ref: entry.entryId, principal: "operator:alice" },
      { ...deps, tasks, callbacks, prover },
    );

    await expect(out).rejects.toThrow("still authenticates");
    expect((await deps.ledger.get(entry.entryId))?.status).toBe("awaiting-operator");
    expect(await deps.audit.list(seeded.secretId)).toEqual(before);
    expect(sent).toEqual([]);
    // The prover given is the one asked: the in-process read never happens.
    expect(deps.exchange.callsTo("keyStillExists")).toEqual([]);
  });
});

describe("OpenManualTask on a deletion already confirmed", () => {
  it("resumes the execution at once, naming the deletion task's own id (the entry's)", async () => {
    const { deps, seeded, entry } = await awaitingDeletion("revoked");
    const rotationId = "rot-7";
    await deps.store.putRotation({
      secretId: seeded.secretId,
      rotationId,
      trigger: "schedule",
      phase: "promoted",
      startedAt: deps.clock.now().toISOString(),
      updatedAt: deps.clock.now().toISOString(),
      previous: { versionId: seeded.versionId, fingerprint: seeded.fingerprint, exchangeKeyId: seeded.keyId },
    });
    await deps.lock.acquire(seeded.secretId, rotationId, deps.clock.now(), 600);
    const answers: Record<string, unknown>[] = [];
    const callbacks: TaskCallbacks = {
      succeed: async (_token, output) => {
        answers.push(output);
        return "sent";
      },
      fail: async () => "sent",
    };
    const tasks = new InMemoryManualTasks();

    const out = await openManualTask(
      { secretId: seeded.secretId, rotationId, kind: "delete-key", taskToken: "tok-1", timeoutSeconds: 60 },
      { ...deps, tasks, callbacks },
    );

    const taskId = deletionTaskId(entry.entryId);
    expect(out).toEqual({ taskId, state: "answered" });
    expect(answers).toEqual([{ taskId, answered: "before-opening" }]);
    // No task was opened for it: nothing for a person to do.
    expect(await tasks.listOpen()).toEqual([]);
  });
});
