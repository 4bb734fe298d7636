/**
 * The production DynamoDB adapters against the same target as dynamodb.contract.test.ts (dynalite by
 * default; KEYSHIFT_CONTRACT_DYNAMODB_ENDPOINT for real AWS or another implementation, see
 * dynamodb-target.ts): `DynamoRotationStore` as the rotation lock and `DynamoRevocationLedger`,
 * built exactly as src/commons/deps.ts builds them, over the production document client. No
 * condition expression is copied here: every branch of every lock and ledger method is reached
 * through the adapter, against what the ports (src/core/ports/index.ts) and core/lock.ts promise.
 *
 * Time is passed in explicitly (2030…), so nothing depends on the wall clock; each test works on
 * its own run-unique secret id / ledger entry.
 */
import { type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoConsumerRegistry } from "../../src/adapters/dynamodb/consumer-registry";
import { DynamoRevocationLedger } from "../../src/adapters/dynamodb/revocation-ledger";
import { DynamoRotationStore } from "../../src/adapters/dynamodb/rotation-store";
import { RotationInProgressError } from "../../src/core/errors";
import type { LedgerEntry, LockRecord } from "../../src/core/model";
import { registerConsumer } from "../../src/core/operator/operator";
import { newLedgerEntry } from "../../src/core/revocation/through-ledger";
import { makeDeps, seedSecret } from "../unit/fakes";
import { dynamoTarget } from "./dynamodb-target";

const target = dynamoTarget();
const { tables, partition, eventually } = target;

let db: DynamoDBDocumentClient;
let lock: DynamoRotationStore;
let ledger: DynamoRevocationLedger;
let consumers: DynamoConsumerRegistry;

beforeAll(async () => {
  ({ db } = await target.open());
  // As src/commons/deps.ts: one DynamoRotationStore is both `store` and `lock`.
  lock = new DynamoRotationStore(db, tables.rotations);
  ledger = new DynamoRevocationLedger(db, tables.ledger);
  consumers = new DynamoConsumerRegistry(db, tables.consumers);
}, 360_000);

afterAll(() => target.close(), 120_000);

const T0 = new Date("2030-01-01T00:00:00.000Z");
const at = (seconds: number, base = T0) => new Date(base.getTime() + seconds * 1000);
const iso = (seconds: number, base = T0) => at(seconds, base).toISOString();
/** The lease the adapter gives a stalled lock: it never expires by time. */
const NEVER = "9999-12-31T23:59:59.999Z";
const LEASE = 600;

/** The rejection of `call`; fails the test if it resolved. */
async function refusal(call: Promise<unknown>): Promise<Error> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, "expected the call to be refused").toBeInstanceOf(Error);
  return error as Error;
}

/** A refused lock write: `RotationInProgressError` (the ASL matches on its name). */
async function lockRefused(call: Promise<unknown>): Promise<RotationInProgressError> {
  const error = await refusal(call);
  expect(error).toBeInstanceOf(RotationInProgressError);
  expect(error.name).toBe("RotationInProgressError");
  return error as RotationInProgressError;
}

/** A lock held by `rotationId` since T0 and then stalled (as `markStalled` leaves it). */
async function stalledLock(secretId: string, rotationId: string): Promise<LockRecord> {
  await lock.acquire(secretId, rotationId, T0, LEASE);
  await lock.markStalled(secretId, rotationId);
  const held = await lock.get(secretId);
  expect(held).toMatchObject({ rotationId, stalled: true, leaseExpiresAt: NEVER });
  return held as LockRecord;
}

describe("DynamoRotationStore.acquire", () => {
  it("takes a free lock: running, leased from now, driven by the rotation's own execution", async () => {
    const secretId = partition("acquire-free");

    const taken = await lock.acquire(secretId, "rot-1", T0, LEASE);

    const expected: LockRecord = {
      secretId,
      rotationId: "rot-1",
      acquiredAt: T0.toISOString(),
      leaseExpiresAt: iso(LEASE),
      stalled: false,
      execution: "rot-1",
    };
    expect(taken).toEqual(expected);
    expect(await lock.get(secretId)).toEqual(expected);
  });

  it("is re-entered by the same running rotation, with a fresh lease", async () => {
    const secretId = partition("acquire-reentry");
    await lock.acquire(secretId, "rot-1", T0, LEASE);

    const again = await lock.acquire(secretId, "rot-1", at(60), LEASE);

    expect(again).toMatchObject({ rotationId: "rot-1", stalled: false, leaseExpiresAt: iso(60 + LEASE) });
    expect(await lock.get(secretId)).toEqual(again);
  });

  it("is refused for another rotation, changing nothing — even long past the holder's lease (no takeover)", async () => {
    const secretId = partition("acquire-other");
    const first = await lock.acquire(secretId, "rot-1", T0, LEASE);

    const whileRunning = await lockRefused(lock.acquire(secretId, "rot-2", at(LEASE - 1), LEASE));
    const pastLease = await lockRefused(lock.acquire(secretId, "rot-2", at(LEASE * 100), LEASE));

    expect(whileRunning.message).toContain("rot-1");
    expect(pastLease.message).toContain("rotation rot-2 changed nothing");
    expect(await lock.get(secretId)).toEqual(first);
  });

  it("is refused when stalled, for another rotation and even for the holding one", async () => {
    const secretId = partition("acquire-stalled");
    const stalled = await stalledLock(secretId, "rot-1");

    const other = await lockRefused(
      lock.acquire(secretId, "rot-2", new Date("9000-01-01T00:00:00.000Z"), LEASE),
    );
    await lockRefused(lock.acquire(secretId, "rot-1", at(10), LEASE));

    expect(other.message).toContain("stalled");
    expect(await lock.get(secretId)).toEqual(stalled);
  });

  // Found by this suite: re-entry used to be `rotationId = :rid AND stalled = :false` and rewrote the
  // item with `execution: rotationId`, so the execution a resume replaced could take the lock back.
  it("refuses re-entry by the rotation once a resume handed the lock to another execution", async () => {
    const secretId = partition("acquire-after-resume");
    await stalledLock(secretId, "rot-1");
    const resumed = await lock.resume(secretId, "rot-1", "exec-2", at(60), LEASE);

    const reentry = await lock.acquire(secretId, "rot-1", at(70), LEASE).then(
      () => "taken back",
      (err: unknown) => (err instanceof RotationInProgressError ? "refused" : String(err)),
    );
    const after = await lock.get(secretId);
    const replacedRenews = await lock.renew(secretId, "rot-1", "rot-1", at(80), LEASE).then(
      () => "renews again",
      () => "fenced out",
    );

    expect(
      { reentry, drivenBy: after?.execution, replacedRenews },
      "the replaced execution must not take the lock back from exec-2",
    ).toEqual({ reentry: "refused", drivenBy: resumed.execution, replacedRenews: "fenced out" });
  });
});

describe("DynamoRotationStore.renew", () => {
  it("extends the lease for the execution that drives the lock", async () => {
    const secretId = partition("renew-driver");
    await lock.acquire(secretId, "rot-1", T0, LEASE);

    const renewed = await lock.renew(secretId, "rot-1", "rot-1", at(500), LEASE);

    expect(renewed).toEqual({
      secretId,
      rotationId: "rot-1",
      acquiredAt: T0.toISOString(),
      leaseExpiresAt: iso(500 + LEASE),
      stalled: false,
      execution: "rot-1",
    });
    expect(await lock.get(secretId)).toEqual(renewed);
  });

  it("is refused for an execution that does not drive the lock: the one a resume replaced is fenced out", async () => {
    const secretId = partition("renew-fenced");
    await stalledLock(secretId, "rot-1");
    await lock.resume(secretId, "rot-1", "exec-2", at(60), LEASE);
    const resumed = await lock.get(secretId);

    const replaced = await lockRefused(lock.renew(secretId, "rot-1", "rot-1", at(70), LEASE));
    const stranger = await lockRefused(lock.renew(secretId, "rot-1", "exec-3", at(70), LEASE));
    const afterRefusals = await lock.get(secretId);
    const driver = await lock.renew(secretId, "rot-1", "exec-2", at(80), LEASE);

    expect(replaced.message).toContain("exec-2");
    expect(stranger).toBeInstanceOf(RotationInProgressError);
    expect(afterRefusals).toEqual(resumed);
    expect(driver).toMatchObject({ execution: "exec-2", leaseExpiresAt: iso(80 + LEASE), stalled: false });
  });

  it("is refused for another rotation id and on a free lock, never creating one", async () => {
    const secretId = partition("renew-other");
    const free = partition("renew-free");
    const first = await lock.acquire(secretId, "rot-1", T0, LEASE);

    await lockRefused(lock.renew(secretId, "rot-2", "rot-1", at(10), LEASE));
    const onFree = await lockRefused(lock.renew(free, "rot-1", "rot-1", at(10), LEASE));

    expect(onFree.message).toContain("the lock is free");
    expect(await lock.get(secretId)).toEqual(first);
    expect(await lock.get(free)).toBeUndefined();
  });

  it("is refused while stalled, even for the execution that drove it", async () => {
    const secretId = partition("renew-stalled");
    const stalled = await stalledLock(secretId, "rot-1");

    await lockRefused(lock.renew(secretId, "rot-1", "rot-1", at(10), LEASE));

    expect(await lock.get(secretId)).toEqual(stalled);
  });

  it("renews a lock written before fencing (no execution attribute) for its rotation's own steps", async () => {
    const secretId = partition("renew-legacy");
    await db.send(
      new PutCommand({
        TableName: tables.rotations,
        Item: {
          secretId,
          sk: "LOCK",
          rotationId: "rot-1",
          acquiredAt: T0.toISOString(),
          leaseExpiresAt: iso(LEASE),
          stalled: false,
        },
      }),
    );

    const renewed = await lock.renew(secretId, "rot-1", "rot-1", at(100), LEASE);

    expect(renewed).toEqual({
      secretId,
      rotationId: "rot-1",
      acquiredAt: T0.toISOString(),
      leaseExpiresAt: iso(100 + LEASE),
      stalled: false,
    });
  });
});

describe("DynamoRotationStore.markStalled", () => {
  it("plain: stalls the holder's lock whatever its lease (no expiry any more), keeping its execution", async () => {
    const secretId = partition("stall-plain");
    await lock.acquire(secretId, "rot-1", T0, LEASE);

    await lock.markStalled(secretId, "rot-1");

    expect(await lock.get(secretId)).toEqual({
      secretId,
      rotationId: "rot-1",
      acquiredAt: T0.toISOString(),
      leaseExpiresAt: NEVER,
      stalled: true,
      execution: "rot-1",
    });
  });

  it("plain: is idempotent on a lock already stalled by its holder", async () => {
    const secretId = partition("stall-twice");
    const stalled = await stalledLock(secretId, "rot-1");

    await lock.markStalled(secretId, "rot-1");

    expect(await lock.get(secretId)).toEqual(stalled);
  });

  it("plain: is refused for another rotation and on a free lock, never creating one", async () => {
    const secretId = partition("stall-other");
    const free = partition("stall-free");
    const first = await lock.acquire(secretId, "rot-1", T0, LEASE);

    await lockRefused(lock.markStalled(secretId, "rot-2"));
    await lockRefused(lock.markStalled(free, "rot-1"));

    expect(await lock.get(secretId)).toEqual(first);
    expect(await lock.get(free)).toBeUndefined();
  });

  it("with expiredAt: refused before the lease ended and at its last instant, passes once it has ended", async () => {
    const secretId = partition("stall-expired");
    const first = await lock.acquire(secretId, "rot-1", T0, LEASE);

    await lockRefused(lock.markStalled(secretId, "rot-1", { expiredAt: at(LEASE - 1) }));
    const atExpiry = await lockRefused(lock.markStalled(secretId, "rot-1", { expiredAt: at(LEASE) }));
    const untouched = await lock.get(secretId);
    await lock.markStalled(secretId, "rot-1", { expiredAt: at(LEASE + 1) });

    expect(atExpiry.message).toContain("with an expired lease");
    expect(untouched).toEqual(first);
    expect(await lock.get(secretId)).toMatchObject({
      rotationId: "rot-1",
      stalled: true,
      leaseExpiresAt: NEVER,
    });
  });

  it("with expiredAt: refused when the holder renewed meanwhile (the lease it saw is no longer the lease)", async () => {
    const secretId = partition("stall-renewed");
    await lock.acquire(secretId, "rot-1", T0, LEASE);
    const renewed = await lock.renew(secretId, "rot-1", "rot-1", at(LEASE - 10), LEASE);

    await lockRefused(lock.markStalled(secretId, "rot-1", { expiredAt: at(LEASE + 1) }));

    expect(await lock.get(secretId)).toEqual(renewed);
  });

  it("with expiredAt: refused when already stalled, and for another rotation", async () => {
    const secretId = partition("stall-expired-stalled");
    const other = partition("stall-expired-other");
    const stalled = await stalledLock(secretId, "rot-1");
    const running = await lock.acquire(other, "rot-1", T0, LEASE);

    await lockRefused(
      lock.markStalled(secretId, "rot-1", { expiredAt: new Date("9999-12-31T23:59:59.999Z") }),
    );
    await lockRefused(lock.markStalled(other, "rot-2", { expiredAt: at(LEASE * 10) }));

    expect(await lock.get(secretId)).toEqual(stalled);
    expect(await lock.get(other)).toEqual(running);
  });
});

describe("DynamoRotationStore.resume", () => {
  it("hands a stalled lock to the resuming execution: running again, fresh lease, new fence", async () => {
    const secretId = partition("resume");
    await stalledLock(secretId, "rot-1");

    const resumed = await lock.resume(secretId, "rot-1", "exec-2", at(1000), LEASE);

    const expected: LockRecord = {
      secretId,
      rotationId: "rot-1",
      acquiredAt: T0.toISOString(),
      leaseExpiresAt: iso(1000 + LEASE),
      stalled: false,
      execution: "exec-2",
    };
    expect(resumed).toEqual(expected);
    expect(await lock.get(secretId)).toEqual(expected);
  });

  it("is re-entered by the same execution (its BeginRotation retried), with a fresh lease", async () => {
    const secretId = partition("resume-reentry");
    await stalledLock(secretId, "rot-1");
    await lock.resume(secretId, "rot-1", "exec-2", at(100), LEASE);

    const again = await lock.resume(secretId, "rot-1", "exec-2", at(200), LEASE);

    expect(again).toMatchObject({ execution: "exec-2", stalled: false, leaseExpiresAt: iso(200 + LEASE) });
    expect(await lock.get(secretId)).toEqual(again);
  });

  it("is refused on a lock that is not stalled, for another execution (a running holder, or a resume that won)", async () => {
    const secretId = partition("resume-running");
    const resumedId = partition("resume-won");
    const running = await lock.acquire(secretId, "rot-1", T0, LEASE);
    await stalledLock(resumedId, "rot-1");
    const won = await lock.resume(resumedId, "rot-1", "exec-2", at(100), LEASE);

    // Past the lease too: a running holder whose execution is gone is stalled first, never resumed over.
    await lockRefused(lock.resume(secretId, "rot-1", "exec-2", at(LEASE * 10), LEASE));
    const lost = await lockRefused(lock.resume(resumedId, "rot-1", "exec-3", at(110), LEASE));

    expect(lost.message).toContain("exec-2");
    expect(await lock.get(secretId)).toEqual(running);
    expect(await lock.get(resumedId)).toEqual(won);
  });

  it("of two concurrent resumes exactly one wins; the loser changes nothing", async () => {
    const secretId = partition("resume-race");
    await stalledLock(secretId, "rot-1");

    const results = await Promise.allSettled([
      lock.resume(secretId, "rot-1", "exec-a", at(100), LEASE),
      lock.resume(secretId, "rot-1", "exec-b", at(100), LEASE),
    ]);

    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(RotationInProgressError);
    const winner = (won[0] as PromiseFulfilledResult<LockRecord>).value;
    expect(["exec-a", "exec-b"]).toContain(winner.execution);
    expect(await lock.get(secretId)).toEqual(winner);
  });

  it("is refused while an operator command holds the lock (up to its last instant); an expired hold does not block and is cleared", async () => {
    const secretId = partition("resume-operator");
    await stalledLock(secretId, "rot-1");
    const held = await lock.holdForOperator(secretId, "rot-1", "op-1", at(100), 120);

    const meanwhile = await lockRefused(lock.resume(secretId, "rot-1", "exec-2", at(160), LEASE));
    await lockRefused(lock.resume(secretId, "rot-1", "exec-2", at(220), LEASE));
    const untouched = await lock.get(secretId);
    const resumed = await lock.resume(secretId, "rot-1", "exec-2", at(221), LEASE);

    expect(meanwhile.message).toContain("op-1");
    expect(untouched).toEqual(held);
    expect(resumed).toEqual({
      secretId,
      rotationId: "rot-1",
      acquiredAt: T0.toISOString(),
      leaseExpiresAt: iso(221 + LEASE),
      stalled: false,
      execution: "exec-2",
    });
    expect(await lock.get(secretId)).toEqual(resumed);
  });

  it("is refused for another rotation id and on a free lock, never creating one", async () => {
    const secretId = partition("resume-other");
    const free = partition("resume-free");
    const stalled = await stalledLock(secretId, "rot-1");

    await lockRefused(lock.resume(secretId, "rot-2", "exec-2", at(100), LEASE));
    await lockRefused(lock.resume(free, "rot-1", "exec-2", at(100), LEASE));

    expect(await lock.get(secretId)).toEqual(stalled);
    expect(await lock.get(free)).toBeUndefined();
  });
});

describe("DynamoRotationStore.holdForOperator", () => {
  it("takes a stalled lock for one command until its expiry, leaving it stalled", async () => {
    const secretId = partition("hold");
    const stalled = await stalledLock(secretId, "rot-1");

    const held = await lock.holdForOperator(secretId, "rot-1", "op-1", at(100), 120);

    expect(held).toEqual({ ...stalled, operator: "op-1", operatorUntil: iso(220) });
    expect(await lock.get(secretId)).toEqual(held);
  });

  it("is exclusive until the hold expires (its last instant included); then another command takes it", async () => {
    const secretId = partition("hold-exclusive");
    await stalledLock(secretId, "rot-1");
    const first = await lock.holdForOperator(secretId, "rot-1", "op-1", at(100), 120);

    const meanwhile = await lockRefused(lock.holdForOperator(secretId, "rot-1", "op-2", at(150), 120));
    await lockRefused(lock.holdForOperator(secretId, "rot-1", "op-2", at(220), 120));
    const untouched = await lock.get(secretId);
    const taken = await lock.holdForOperator(secretId, "rot-1", "op-2", at(221), 120);

    expect(meanwhile.message).toContain("op-1");
    expect(untouched).toEqual(first);
    expect(taken).toMatchObject({ operator: "op-2", operatorUntil: iso(341), stalled: true });
  });

  it("is re-entrant for the same command: it extends its own hold", async () => {
    const secretId = partition("hold-reentry");
    await stalledLock(secretId, "rot-1");
    await lock.holdForOperator(secretId, "rot-1", "op-1", at(100), 120);

    const again = await lock.holdForOperator(secretId, "rot-1", "op-1", at(160), 120);

    expect(again).toMatchObject({ operator: "op-1", operatorUntil: iso(280) });
    expect(await lock.get(secretId)).toEqual(again);
  });

  it("is never taken on a running lock, even past its lease; nor for another rotation or a free lock", async () => {
    const secretId = partition("hold-running");
    const stalledId = partition("hold-other");
    const free = partition("hold-free");
    const running = await lock.acquire(secretId, "rot-1", T0, LEASE);
    const stalled = await stalledLock(stalledId, "rot-1");

    await lockRefused(lock.holdForOperator(secretId, "rot-1", "op-1", at(10), 120));
    await lockRefused(lock.holdForOperator(secretId, "rot-1", "op-1", at(LEASE * 10), 120));
    await lockRefused(lock.holdForOperator(stalledId, "rot-2", "op-1", at(10), 120));
    await lockRefused(lock.holdForOperator(free, "rot-1", "op-1", at(10), 120));

    expect(await lock.get(secretId)).toEqual(running);
    expect(await lock.get(stalledId)).toEqual(stalled);
    expect(await lock.get(free)).toBeUndefined();
  });
});

describe("DynamoRotationStore operator intents and fencing (issue 14, break 11)", () => {
  it("an intent needs the hold; it then refuses resume and other commands past the hold, lets the same command take it over, and is cleared only by its owner", async () => {
    const secretId = partition("intent");
    await stalledLock(secretId, "rot-1");
    await lock.holdForOperator(secretId, "rot-1", "op-1", at(100), 120, "rollback");

    await lockRefused(lock.recordIntent(secretId, "rot-1", "op-2", "rollback"));
    const recorded = await lock.recordIntent(secretId, "rot-1", "op-1", "rollback");
    await lockRefused(lock.resume(secretId, "rot-1", "exec-2", at(1000), LEASE));
    await lockRefused(lock.holdForOperator(secretId, "rot-1", "op-2", at(1000), 120, "force-revoke"));
    await lockRefused(lock.holdForOperator(secretId, "rot-1", "op-2", at(1000), 120));
    await lock.holdForOperator(secretId, "rot-1", "op-2", at(1000), 120, "rollback");
    await lock.recordIntent(secretId, "rot-1", "op-2", "rollback");
    await lock.clearIntent(secretId, "rot-1", "op-1");
    const stillThere = await lock.get(secretId);
    await lock.clearIntent(secretId, "rot-1", "op-2");

    expect(recorded).toMatchObject({ intent: "rollback", intentOperation: "op-1", operator: "op-1" });
    expect(stillThere).toMatchObject({ intent: "rollback", intentOperation: "op-2" });
    const cleared = await lock.get(secretId);
    expect(cleared).not.toHaveProperty("intent");
    expect(cleared).not.toHaveProperty("intentOperation");
    await lock.resume(secretId, "rot-1", "exec-2", at(1200), LEASE);
  });

  it("a claim sets only the fence, over the one read; fenced writes pass only for the claimant", async () => {
    const secretId = partition("fence");
    const record = {
      secretId,
      rotationId: "rot-1",
      trigger: "manual" as const,
      phase: "stalled" as const,
      startedAt: iso(0),
      updatedAt: iso(0),
    };
    await lock.putRotation(record);

    await lockRefused(lock.claimRotation(secretId, "rot-1", "op-1", "op-0"));
    const claimed = await lock.claimRotation(secretId, "rot-1", "op-1", undefined);
    await lockRefused(lock.claimRotation(secretId, "rot-1", "op-2", undefined));
    await lock.putRotationFenced({ ...claimed, fence: "op-1", phase: "rolled-back" });
    await lock.claimRotation(secretId, "rot-1", "op-2", "op-1");
    await lockRefused(lock.putRotationFenced({ ...claimed, fence: "op-1", phase: "force-revoked" }));
    await lockRefused(lock.claimRotation(partition("fence-none"), "rot-1", "op-1", undefined));

    expect(claimed).toEqual({ ...record, fence: "op-1" });
    expect(await lock.getRotation(secretId, "rot-1")).toEqual({
      ...record,
      phase: "rolled-back",
      fence: "op-2",
    });
    expect(await lock.getRotation(partition("fence-none"), "rot-1")).toBeUndefined();
  });

  it("a step's write names its writer; once another claimed the record, the replaced writer is refused", async () => {
    const secretId = partition("writer");
    const record = {
      secretId,
      rotationId: "rot-1",
      trigger: "schedule" as const,
      phase: "promoted" as const,
      startedAt: iso(0),
      updatedAt: iso(0),
    };
    await lock.putRotation(record, "rot-1");
    await lock.putRotation({ ...record, updatedAt: iso(1) }, "rot-1");
    expect((await lock.getRotation(secretId, "rot-1"))?.fence).toBe("rot-1");

    await lock.claimRotation(secretId, "rot-1", "emg-1", "rot-1");
    await lockRefused(lock.putRotation({ ...record, deadlineAt: iso(9) }, "rot-1"));
    await lock.putRotation({ ...record, updatedAt: iso(2) }, "emg-1");

    expect(await lock.getRotation(secretId, "rot-1")).toEqual({
      ...record,
      updatedAt: iso(2),
      fence: "emg-1",
    });
  });

  it("versions are written only while they still name the expected current version", async () => {
    const secretId = partition("versions-cas");
    const ref = (v: string) => ({ versionId: v, fingerprint: `fp-${v}`, exchangeKeyId: `key-${v}` });
    await lock.putVersions({ secretId, current: ref("b"), previous: ref("a"), updatedAt: iso(0) });

    await lockRefused(
      lock.putVersionsIfCurrent({ secretId, current: ref("a"), previous: ref("b"), updatedAt: iso(1) }, "a"),
    );
    await lock.putVersionsIfCurrent(
      { secretId, current: ref("a"), previous: ref("b"), updatedAt: iso(2) },
      "b",
    );
    await lockRefused(lock.putVersionsIfCurrent({ secretId, updatedAt: iso(3) }, "b"));
    const none = partition("versions-none");
    await lockRefused(lock.putVersionsIfCurrent({ secretId: none, updatedAt: iso(3) }, "b"));
    expect(await lock.getVersions(none)).toBeUndefined();

    expect(await lock.getVersions(secretId)).toEqual({
      secretId,
      current: ref("a"),
      previous: ref("b"),
      updatedAt: iso(2),
    });
  });
});

describe("DynamoRotationStore.releaseOperator", () => {
  it("gives back the command's own hold, so another command can take it at once", async () => {
    const secretId = partition("unhold");
    const stalled = await stalledLock(secretId, "rot-1");
    await lock.holdForOperator(secretId, "rot-1", "op-1", at(100), 120);

    await lock.releaseOperator(secretId, "rot-1", "op-1");
    const released = await lock.get(secretId);
    const next = await lock.holdForOperator(secretId, "rot-1", "op-2", at(110), 120);

    expect(released).toEqual(stalled);
    expect(next).toMatchObject({ operator: "op-2" });
  });

  it("never removes another command's hold — not even one that replaced its own expired hold", async () => {
    const secretId = partition("unhold-other");
    await stalledLock(secretId, "rot-1");
    await lock.holdForOperator(secretId, "rot-1", "op-1", at(100), 120);
    const replaced = await lock.holdForOperator(secretId, "rot-1", "op-2", at(300), 120);

    // op-1's late `finally`, a stranger, and the right command under a wrong rotation id: all no-ops.
    await lock.releaseOperator(secretId, "rot-1", "op-1");
    await lock.releaseOperator(secretId, "rot-1", "op-3");
    await lock.releaseOperator(secretId, "rot-2", "op-2");

    expect(await lock.get(secretId)).toEqual(replaced);
  });

  it("is a no-op on a lock with no hold and on a free lock, never creating one", async () => {
    const secretId = partition("unhold-none");
    const free = partition("unhold-free");
    const stalled = await stalledLock(secretId, "rot-1");

    await lock.releaseOperator(secretId, "rot-1", "op-1");
    await lock.releaseOperator(free, "rot-1", "op-1");

    expect(await lock.get(secretId)).toEqual(stalled);
    expect(await lock.get(free)).toBeUndefined();
  });
});

describe("DynamoRotationStore.release", () => {
  it("deletes the lock only for its holder (running or stalled); another rotation's release is a no-op", async () => {
    const running = partition("release-running");
    const stalledId = partition("release-stalled");
    const first = await lock.acquire(running, "rot-1", T0, LEASE);
    await stalledLock(stalledId, "rot-1");

    await lock.release(running, "rot-2");
    const afterForeign = await lock.get(running);
    await lock.release(running, "rot-1");
    await lock.release(stalledId, "rot-1");

    expect(afterForeign).toEqual(first);
    expect(await lock.get(running)).toBeUndefined();
    expect(await lock.get(stalledId)).toBeUndefined();
    // Freed: a new rotation takes it.
    expect(await lock.acquire(running, "rot-2", at(10), LEASE)).toMatchObject({ rotationId: "rot-2" });
  });

  it("is a no-op when already gone", async () => {
    const secretId = partition("release-gone");
    await lock.acquire(secretId, "rot-1", T0, LEASE);
    await lock.release(secretId, "rot-1");

    await lock.release(secretId, "rot-1");
    await lock.release(partition("release-never"), "rot-1");

    expect(await lock.get(secretId)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------
// Revocation ledger

/** A ledger entry as production opens it (`newLedgerEntry`): pending, due 5 minutes after `now`. */
function entryAt(now: Date, label: string): LedgerEntry {
  const keyId = partition(label);
  return newLedgerEntry(
    {
      secretId: `keyshift/exchange/${label}`,
      exchangeAccount: "acme",
      keyId,
      versionId: "v-previous",
      rotationId: "rot-1",
      kind: "previous",
    },
    `acme#${keyId}`,
    now,
  );
}

/** Entry ids `listDue(now)` returns among `ids` (the index may hold other tests' entries). */
async function dueAmong(now: Date, ids: string[], limit = 1000): Promise<string[]> {
  return (await ledger.listDue(now, limit)).map((e) => e.entryId).filter((id) => ids.includes(id));
}

/** Waits (external only) until the sparse index shows exactly `expected` of `ids` as due at `now`. */
async function expectDue(now: Date, ids: string[], expected: string[]): Promise<void> {
  await eventually(async () => expect(await dueAmong(now, ids)).toEqual(expected));
}

describe("DynamoRevocationLedger.openPending", () => {
  it("creates the pending entry, due at its nextAttemptAt on the sparse index", async () => {
    const entry = entryAt(T0, "open");

    const opened = await ledger.openPending(entry);

    expect(opened).toEqual(entry);
    expect(await ledger.get(entry.entryId)).toEqual(entry);
    await expectDue(at(299), [entry.entryId], []);
    await expectDue(at(300), [entry.entryId], [entry.entryId]);
  });

  it("never resets an existing entry: a second open returns it as it is (failed, revoked)", async () => {
    const failedEntry = entryAt(T0, "open-failed");
    const revokedEntry = entryAt(T0, "open-revoked");
    await ledger.openPending(failedEntry);
    await ledger.openPending(revokedEntry);
    const failed = await ledger.markFailed(failedEntry.entryId, {
      at: at(10),
      error: "HTTP 503",
      nextAttemptAt: at(600),
      needsOperator: false,
    });
    const revoked = await ledger.markRevoked(revokedEntry.entryId, at(10));

    const reopenedFailed = await ledger.openPending({
      ...entryAt(at(50), "x"),
      entryId: failedEntry.entryId,
    });
    const reopenedRevoked = await ledger.openPending({
      ...entryAt(at(50), "y"),
      entryId: revokedEntry.entryId,
    });

    expect(reopenedFailed).toEqual(failed);
    expect(reopenedRevoked).toEqual(revoked);
    expect(await ledger.get(failedEntry.entryId)).toEqual(failed);
    expect(await ledger.get(revokedEntry.entryId)).toEqual(revoked);
  });
});

describe("DynamoRevocationLedger.markRevoked", () => {
  it("pending → revoked: one attempt counted, due no more", async () => {
    const entry = entryAt(T0, "revoke-pending");
    await ledger.openPending(entry);

    const revoked = await ledger.markRevoked(entry.entryId, at(30));

    const { nextAttemptAt: _gone, ...rest } = entry;
    expect(revoked).toEqual({
      ...rest,
      status: "revoked",
      attempts: 1,
      revokedAt: iso(30),
      updatedAt: iso(30),
      needsOperator: false,
    });
    expect(await ledger.get(entry.entryId)).toEqual(revoked);
    await expectDue(at(10_000), [entry.entryId], []);
  });

  it("failed (held, flagged) → revoked: counts on, clears the flag and the held reason", async () => {
    const entry = entryAt(T0, "revoke-failed");
    await ledger.openPending(entry);
    await ledger.markFailed(entry.entryId, {
      at: at(10),
      error: "HTTP 503",
      nextAttemptAt: at(60),
      needsOperator: false,
    });
    await ledger.hold(entry.entryId, {
      at: at(60),
      reason: "gate not ready",
      nextAttemptAt: undefined,
      needsOperator: true,
    });

    const revoked = await ledger.markRevoked(entry.entryId, at(90));

    expect(revoked).toMatchObject({
      status: "revoked",
      attempts: 2,
      needsOperator: false,
      revokedAt: iso(90),
    });
    expect(revoked.heldReason).toBeUndefined();
    expect(revoked.nextAttemptAt).toBeUndefined();
  });

  it("is idempotent and never leaves revoked: a second call returns the first revocation unchanged", async () => {
    const entry = entryAt(T0, "revoke-twice");
    await ledger.openPending(entry);
    const first = await ledger.markRevoked(entry.entryId, at(30));

    const second = await ledger.markRevoked(entry.entryId, at(60));

    expect(second).toEqual(first);
    expect(await ledger.get(entry.entryId)).toEqual(first);
  });

  it("on a missing entry is refused and creates nothing", async () => {
    const entryId = `acme#${partition("revoke-missing")}`;

    await refusal(ledger.markRevoked(entryId, at(30)));

    expect(await ledger.get(entryId)).toBeUndefined();
  });
});

describe("DynamoRevocationLedger.markFailed", () => {
  it("pending → failed → failed: one more attempt each time, last error, next attempt on the index", async () => {
    const entry = entryAt(T0, "fail");
    await ledger.openPending(entry);

    const once = await ledger.markFailed(entry.entryId, {
      at: at(300),
      error: "HTTP 503",
      nextAttemptAt: at(360),
      needsOperator: false,
    });
    const twice = await ledger.markFailed(entry.entryId, {
      at: at(360),
      error: "timeout",
      nextAttemptAt: at(480),
      needsOperator: false,
    });

    expect(once).toMatchObject({
      status: "failed",
      attempts: 1,
      lastError: "HTTP 503",
      nextAttemptAt: iso(360),
    });
    expect(twice).toEqual({
      ...entry,
      status: "failed",
      attempts: 2,
      lastError: "timeout",
      nextAttemptAt: iso(480),
      needsOperator: false,
      updatedAt: iso(360),
    });
    expect(await ledger.get(entry.entryId)).toEqual(twice);
    await expectDue(at(479), [entry.entryId], []);
    await expectDue(at(480), [entry.entryId], [entry.entryId]);
  });

  it("for an operator with no next attempt: flagged and off the sweep index", async () => {
    const entry = entryAt(T0, "fail-operator");
    await ledger.openPending(entry);

    const flagged = await ledger.markFailed(entry.entryId, {
      at: at(300),
      error: "HTTP 401",
      nextAttemptAt: undefined,
      needsOperator: true,
    });

    expect(flagged).toMatchObject({ status: "failed", attempts: 1, needsOperator: true });
    expect(flagged.nextAttemptAt).toBeUndefined();
    await expectDue(at(10_000), [entry.entryId], []);
  });

  it("never un-revokes: returns the revoked entry unchanged, no attempt counted", async () => {
    const entry = entryAt(T0, "fail-revoked");
    await ledger.openPending(entry);
    const revoked = await ledger.markRevoked(entry.entryId, at(30));

    const after = await ledger.markFailed(entry.entryId, {
      at: at(60),
      error: "late failure",
      nextAttemptAt: at(120),
      needsOperator: true,
    });

    expect(after).toEqual(revoked);
    expect(await ledger.get(entry.entryId)).toEqual(revoked);
    await expectDue(at(10_000), [entry.entryId], []);
  });

  it("on a missing entry is refused and creates nothing", async () => {
    const entryId = `acme#${partition("fail-missing")}`;

    await refusal(
      ledger.markFailed(entryId, { at: at(1), error: "x", nextAttemptAt: at(2), needsOperator: false }),
    );

    expect(await ledger.get(entryId)).toBeUndefined();
  });
});

describe("DynamoRevocationLedger.hold", () => {
  it("keeps status and attempts, records why, and moves the sweep index key to the next look", async () => {
    const entry = entryAt(T0, "hold");
    await ledger.openPending(entry);
    const failed = await ledger.markFailed(entry.entryId, {
      at: at(300),
      error: "HTTP 503",
      nextAttemptAt: at(360),
      needsOperator: false,
    });

    const held = await ledger.hold(entry.entryId, {
      at: at(360),
      reason: "gate not ready",
      nextAttemptAt: at(3600),
      needsOperator: false,
    });

    expect(held).toEqual({
      ...failed,
      heldReason: "gate not ready",
      nextAttemptAt: iso(3600),
      updatedAt: iso(360),
    });
    expect(await ledger.get(entry.entryId)).toEqual(held);
    await expectDue(at(3599), [entry.entryId], []);
    await expectDue(at(3600), [entry.entryId], [entry.entryId]);
  });

  it("keeps a pending entry pending with no attempt counted; a later real attempt clears the held reason", async () => {
    const entry = entryAt(T0, "hold-pending");
    await ledger.openPending(entry);

    const held = await ledger.hold(entry.entryId, {
      at: at(300),
      reason: "key is current again",
      nextAttemptAt: at(900),
      needsOperator: false,
    });
    const failed = await ledger.markFailed(entry.entryId, {
      at: at(900),
      error: "HTTP 503",
      nextAttemptAt: at(960),
      needsOperator: false,
    });

    expect(held).toMatchObject({ status: "pending", attempts: 0, heldReason: "key is current again" });
    expect(failed).toMatchObject({ status: "failed", attempts: 1 });
    expect(failed.heldReason).toBeUndefined();
  });

  it("for an operator with no next look: flagged and off the sweep index", async () => {
    const entry = entryAt(T0, "hold-operator");
    await ledger.openPending(entry);

    const held = await ledger.hold(entry.entryId, {
      at: at(300),
      reason: "records missing",
      nextAttemptAt: undefined,
      needsOperator: true,
    });

    expect(held).toMatchObject({ status: "pending", attempts: 0, needsOperator: true });
    expect(held.nextAttemptAt).toBeUndefined();
    await expectDue(at(10_000), [entry.entryId], []);
  });

  it("is refused once revoked: returns the revoked entry unchanged", async () => {
    const entry = entryAt(T0, "hold-revoked");
    await ledger.openPending(entry);
    const revoked = await ledger.markRevoked(entry.entryId, at(30));

    const after = await ledger.hold(entry.entryId, {
      at: at(60),
      reason: "gate not ready",
      nextAttemptAt: at(120),
      needsOperator: false,
    });

    expect(after).toEqual(revoked);
    expect(await ledger.get(entry.entryId)).toEqual(revoked);
    await expectDue(at(10_000), [entry.entryId], []);
  });
});

describe("DynamoRevocationLedger.recordBreakGlass", () => {
  it("records the first break-glass and keeps it when another is recorded", async () => {
    const entry = entryAt(T0, "break-glass");
    await ledger.openPending(entry);
    const first = { actor: "alice", reason: "consumer decommissioned", at: iso(60) };

    const recorded = await ledger.recordBreakGlass(entry.entryId, first);
    const again = await ledger.recordBreakGlass(entry.entryId, {
      actor: "bob",
      reason: "other",
      at: iso(120),
    });

    expect(recorded).toMatchObject({ status: "pending", attempts: 0, breakGlass: first });
    expect(again.breakGlass).toEqual(first);
    expect((await ledger.get(entry.entryId))?.breakGlass).toEqual(first);
  });

  it("is refused once revoked: returns the revoked entry unchanged", async () => {
    const entry = entryAt(T0, "break-glass-revoked");
    await ledger.openPending(entry);
    const revoked = await ledger.markRevoked(entry.entryId, at(30));

    const after = await ledger.recordBreakGlass(entry.entryId, {
      actor: "alice",
      reason: "late",
      at: iso(60),
    });

    expect(after).toEqual(revoked);
    expect(await ledger.get(entry.entryId)).toEqual(revoked);
  });
});

describe("DynamoRevocationLedger.requeue", () => {
  it("clears needsOperator and makes a flagged entry due now", async () => {
    const entry = entryAt(T0, "requeue");
    await ledger.openPending(entry);
    await ledger.markFailed(entry.entryId, {
      at: at(300),
      error: "HTTP 401",
      nextAttemptAt: undefined,
      needsOperator: true,
    });
    await expectDue(at(10_000), [entry.entryId], []);

    const requeued = await ledger.requeue(entry.entryId, at(4000));

    expect(requeued).toMatchObject({
      status: "failed",
      attempts: 1,
      needsOperator: false,
      nextAttemptAt: iso(4000),
      updatedAt: iso(4000),
    });
    expect(await ledger.get(entry.entryId)).toEqual(requeued);
    await expectDue(at(4000), [entry.entryId], [entry.entryId]);
  });

  it("is refused once revoked, and on a missing entry, changing and creating nothing", async () => {
    const entry = entryAt(T0, "requeue-revoked");
    const missing = `acme#${partition("requeue-missing")}`;
    await ledger.openPending(entry);
    const revoked = await ledger.markRevoked(entry.entryId, at(30));

    const refused = await refusal(ledger.requeue(entry.entryId, at(60)));
    const refusedMissing = await refusal(ledger.requeue(missing, at(60)));

    // Named for the operator, never the SDK's "The conditional request failed".
    expect((refused as Error).name).toBe("OperatorActionRejectedError");
    expect((refused as Error).message).toMatch(/is already revoked: nothing to retry/);
    expect((refusedMissing as Error).name).toBe("InvalidInputError");
    expect((refusedMissing as Error).message).toMatch(/no ledger entry .*keyshift revocations list/);
    expect(await ledger.get(entry.entryId)).toEqual(revoked);
    expect(await ledger.get(missing)).toBeUndefined();
    await expectDue(at(10_000), [entry.entryId], []);
  });
});

describe("DynamoRevocationLedger.listDue", () => {
  // An era no other test writes to, so the shared sparse index holds only this test's entries there.
  const E0 = new Date("2001-01-01T00:00:00.000Z");
  const e = (seconds: number) => at(seconds, E0);

  it("lists only entries still to work on whose next attempt is due, oldest first, up to the limit", async () => {
    const open = async (label: string, now: Date) => {
      const entry = entryAt(now, label);
      await ledger.openPending(entry);
      return entry.entryId;
    };
    const dueFirst = await open("due-first", e(0)); // due e(300)
    const dueThird = await open("due-third", e(120)); // failed below: due e(500)
    const dueSecond = await open("due-second", e(60)); // due e(360)
    const revoked = await open("due-revoked", e(0));
    const flagged = await open("due-flagged", e(0));
    const later = await open("due-later", e(600)); // due e(900)
    await ledger.markFailed(dueThird, {
      at: e(420),
      error: "HTTP 503",
      nextAttemptAt: e(500),
      needsOperator: false,
    });
    await ledger.markRevoked(revoked, e(310));
    await ledger.markFailed(flagged, {
      at: e(310),
      error: "HTTP 401",
      nextAttemptAt: undefined,
      needsOperator: true,
    });
    const ids = [dueFirst, dueSecond, dueThird, revoked, flagged, later];

    const all = await eventually(async () => {
      const listed = await ledger.listDue(e(600), 1000);
      expect(listed.map((x) => x.entryId)).toEqual([dueFirst, dueSecond, dueThird]);
      return listed;
    });
    const limited = await ledger.listDue(e(600), 2);

    expect(limited.map((x) => x.entryId)).toEqual([dueFirst, dueSecond]);
    // Whole entries as `get` reads them: the index keys never leak out.
    for (const listed of all) {
      expect(listed).not.toHaveProperty("sweep");
      expect(listed).not.toHaveProperty("sweepAt");
      expect(listed).toEqual(await ledger.get(listed.entryId));
    }
    expect(await dueAmong(e(299), ids)).toEqual([]);
    expect(await dueAmong(e(900), ids)).toEqual([dueFirst, dueSecond, dueThird, later]);
  });
});

describe("DynamoRevocationLedger two-stage transitions (disable, restore, remove)", () => {
  it("pending → disabled: one attempt counted, due for removal at removeAfter, not before", async () => {
    const entry = entryAt(T0, "disable");
    await ledger.openPending(entry);

    const disabled = await ledger.markDisabled(entry.entryId, { at: at(30), removeAfter: at(3630) });

    expect(disabled).toMatchObject({
      status: "disabled",
      attempts: 1,
      attemptsAtDisable: 1,
      disabledAt: iso(30),
      nextAttemptAt: iso(3630),
      needsOperator: false,
    });
    await expectDue(at(3629), [entry.entryId], []);
    await expectDue(at(3630), [entry.entryId], [entry.entryId]);
  });

  it("a failed removal keeps the entry disabled (stage remove); a first-stage failure is refused once disabled", async () => {
    const entry = entryAt(T0, "disable-fail");
    await ledger.openPending(entry);
    await ledger.markDisabled(entry.entryId, { at: at(30), removeAfter: at(60) });

    const removalFailed = await ledger.markFailed(entry.entryId, {
      at: at(60),
      error: "HTTP 503",
      nextAttemptAt: at(120),
      needsOperator: false,
      stage: "remove",
    });
    const lateFirstStage = await ledger.markFailed(entry.entryId, {
      at: at(61),
      error: "late disable answer",
      nextAttemptAt: at(90),
      needsOperator: false,
    });

    expect(removalFailed).toMatchObject({ status: "disabled", attempts: 2, lastError: "HTTP 503" });
    expect(lateFirstStage).toEqual(removalFailed);
  });

  it("disabled → restoring (off the sweep) → restored (needs an operator) → requeued → disabled again → revoked", async () => {
    const entry = entryAt(T0, "restore");
    await ledger.openPending(entry);
    await ledger.markDisabled(entry.entryId, { at: at(30), removeAfter: at(600) });

    const intent = await ledger.beginRestore(entry.entryId, {
      owner: "restore-1",
      actor: "op",
      reason: "unregistered reader",
      at: at(35),
    });
    await expectDue(at(10_000), [entry.entryId], []);
    const restored = await ledger.markRestored(entry.entryId, { owner: "restore-1", at: at(40) });
    await expectDue(at(10_000), [entry.entryId], []);
    await ledger.requeue(entry.entryId, at(50));
    const again = await ledger.markDisabled(entry.entryId, { at: at(60), removeAfter: at(700) });
    const revoked = await ledger.markRevoked(entry.entryId, at(700));

    expect(intent).toMatchObject({
      status: "restoring",
      restoring: { owner: "restore-1", actor: "op", reason: "unregistered reader", at: iso(35) },
    });
    expect(restored).toMatchObject({
      status: "restored",
      needsOperator: true,
      restored: { actor: "op", reason: "unregistered reader", at: iso(40) },
    });
    expect(restored.restoring).toBeUndefined();
    expect(again).toMatchObject({ status: "disabled", attempts: 2, attemptsAtDisable: 2 });
    expect(again.restored).toBeUndefined();
    expect(revoked).toMatchObject({ status: "revoked", attempts: 3 });
  });

  it("refuses to disable or restore a revoked entry, and to restore one that is not disabled", async () => {
    const pending = entryAt(T0, "restore-pending");
    const gone = entryAt(T0, "disable-revoked");
    await ledger.openPending(pending);
    await ledger.openPending(gone);
    const revoked = await ledger.markRevoked(gone.entryId, at(10));

    expect(
      await ledger.beginRestore(pending.entryId, { owner: "r", actor: "op", reason: "x", at: at(20) }),
    ).toMatchObject({
      status: "pending",
    });
    expect(await ledger.markRestored(pending.entryId, { owner: "r", at: at(20) })).toMatchObject({
      status: "pending",
    });
    expect(await ledger.markDisabled(gone.entryId, { at: at(20), removeAfter: at(60) })).toEqual(revoked);
    expect(
      await ledger.beginRestore(gone.entryId, { owner: "r", actor: "op", reason: "x", at: at(20) }),
    ).toEqual(revoked);
  });
});

describe("DynamoRevocationLedger claims and restores (issue 14: no transactions, conditional writes only)", () => {
  const claimFor = (owner: string, from: number) => ({ owner, at: at(from), until: at(from + 1200) });

  it("a claim needs the status and attempts the attempt read and no live claim; transitions need the claim and give it back", async () => {
    const entry = entryAt(T0, "claim");
    await ledger.openPending(entry);

    const stale = await ledger.claim(entry.entryId, { status: "failed", attempts: 0 }, claimFor("a", 10));
    const first = await ledger.claim(entry.entryId, { status: "pending", attempts: 0 }, claimFor("a", 10));
    const second = await ledger.claim(entry.entryId, { status: "pending", attempts: 0 }, claimFor("b", 20));
    const unowned = await ledger.markDisabled(entry.entryId, { at: at(30), removeAfter: at(600) });
    const byOther = await ledger.markDisabled(entry.entryId, {
      at: at(30),
      removeAfter: at(600),
      owner: "b",
    });
    const disabled = await ledger.markDisabled(entry.entryId, {
      at: at(30),
      removeAfter: at(600),
      owner: "a",
    });

    expect(stale.claim).toBeUndefined();
    expect(first.claim).toEqual({ owner: "a", until: iso(1210) });
    expect(second.claim?.owner).toBe("a");
    expect(unowned.status).toBe("pending");
    expect(byOther.status).toBe("pending");
    expect(disabled).toMatchObject({ status: "disabled", attempts: 1 });
    expect(disabled.claim).toBeUndefined();
  });

  it("a claim past its lease is taken over; `dueBy` refuses an entry not yet due; releaseClaim frees only its owner's", async () => {
    const entry = entryAt(T0, "claim-lease");
    await ledger.openPending(entry); // due at 300

    const early = await ledger.claim(
      entry.entryId,
      { status: "pending", attempts: 0, dueBy: at(299) },
      claimFor("a", 299),
    );
    await ledger.claim(entry.entryId, { status: "pending", attempts: 0, dueBy: at(300) }, claimFor("a", 300));
    const notOwner = await ledger.releaseClaim(entry.entryId, "b");
    const taken = await ledger.claim(entry.entryId, { status: "pending", attempts: 0 }, claimFor("b", 1500));
    const released = await ledger.releaseClaim(entry.entryId, "b");

    expect(early.claim).toBeUndefined();
    expect(notOwner.claim?.owner).toBe("a");
    expect(taken.claim?.owner).toBe("b");
    expect(released.claim).toBeUndefined();
  });

  it("a restore's intent is refused while an attempt holds its claim, and an attempt's claim while restoring", async () => {
    const entry = entryAt(T0, "restore-claim");
    await ledger.openPending(entry);
    await ledger.markDisabled(entry.entryId, { at: at(30), removeAfter: at(600) });
    await ledger.claim(entry.entryId, { status: "disabled", attempts: 1 }, claimFor("sweeper", 600));

    const refused = await ledger.beginRestore(entry.entryId, {
      owner: "r",
      actor: "op",
      reason: "x",
      at: at(610),
    });
    const revoked = await ledger.markRevoked(entry.entryId, at(620), "sweeper");
    expect(refused).toMatchObject({ status: "disabled" });
    expect(refused.restoring).toBeUndefined();
    expect(revoked.status).toBe("revoked");

    const other = entryAt(T0, "claim-restoring");
    await ledger.openPending(other);
    await ledger.markDisabled(other.entryId, { at: at(30), removeAfter: at(600) });
    await ledger.beginRestore(other.entryId, { owner: "r", actor: "op", reason: "x", at: at(40) });
    const claimed = await ledger.claim(
      other.entryId,
      { status: "disabled", attempts: 1 },
      claimFor("s", 700),
    );
    const held = await ledger.hold(other.entryId, {
      at: at(700),
      reason: "x",
      nextAttemptAt: at(800),
      needsOperator: false,
    });
    const glass = await ledger.recordBreakGlass(other.entryId, { actor: "op", reason: "y", at: iso(700) });
    const requeue = await refusal(ledger.requeue(other.entryId, at(700)));
    expect(claimed).toMatchObject({ status: "restoring" });
    expect(claimed.claim).toBeUndefined();
    expect(held.heldReason).toBeUndefined();
    expect(glass.breakGlass).toBeUndefined();
    expect(requeue.message).toMatch(/restore .* is in progress/);
  });

  it("restored retires the break-glass to history; a later one is recorded anew; a withdrawn restore is back on the sweep", async () => {
    const entry = entryAt(T0, "restore-glass");
    await ledger.openPending(entry);
    await ledger.recordBreakGlass(entry.entryId, { actor: "alice", reason: "leak", at: iso(5) });
    await ledger.markDisabled(entry.entryId, { at: at(30), removeAfter: at(600) });
    await ledger.beginRestore(entry.entryId, { owner: "r1", actor: "op", reason: "x", at: at(40) });
    const takenOver = await ledger.beginRestore(entry.entryId, {
      owner: "r2",
      actor: "op",
      reason: "x",
      at: at(50),
    });
    const stale = await ledger.markRestored(entry.entryId, { owner: "r1", at: at(60) });
    const restored = await ledger.markRestored(entry.entryId, { owner: "r2", at: at(60) });
    const again = await ledger.recordBreakGlass(entry.entryId, {
      actor: "carol",
      reason: "again",
      at: iso(70),
    });

    expect(takenOver.restoring?.owner).toBe("r2");
    expect(stale.status).toBe("restoring");
    expect(restored.breakGlass).toBeUndefined();
    expect(restored.breakGlassHistory).toEqual([{ actor: "alice", reason: "leak", at: iso(5) }]);
    expect(again.breakGlass).toEqual({ actor: "carol", reason: "again", at: iso(70) });

    const other = entryAt(T0, "restore-withdraw");
    await ledger.openPending(other);
    await ledger.markDisabled(other.entryId, { at: at(30), removeAfter: at(600) });
    await ledger.beginRestore(other.entryId, { owner: "r", actor: "op", reason: "x", at: at(40) });
    await expectDue(at(600), [other.entryId], []);
    const withdrawn = await ledger.withdrawRestore(other.entryId, { owner: "r", at: at(45) });
    expect(withdrawn).toMatchObject({ status: "disabled", nextAttemptAt: iso(600) });
    expect(withdrawn.restoring).toBeUndefined();
    await expectDue(at(600), [other.entryId], [other.entryId]);
  });
});

describe("DynamoConsumerRegistry principal claims (issue 14, break 17)", () => {
  const ROLE = "arn:aws:iam::123456789012:role/engine";

  it("claims a free principal, re-claims it for the same id, and names the holder to any other id", async () => {
    const secretId = partition("claim");

    expect(await consumers.claimPrincipal(secretId, ROLE, "engine")).toBe("engine");
    expect(await consumers.claimPrincipal(secretId, ROLE, "engine")).toBe("engine");
    expect(await consumers.claimPrincipal(secretId, ROLE, "engine-2")).toBe("engine");
    expect(await consumers.listPrincipalClaims(secretId)).toEqual([
      { secretId, principalArn: ROLE, consumerId: "engine" },
    ]);
    // Claims stay off the by-principal index: they are not registrations.
    expect(await consumers.findByPrincipal(ROLE, secretId)).toEqual([]);
  });

  it("releases only for the holder; deregister releases the consumer's claims", async () => {
    const secretId = partition("release");
    await consumers.claimPrincipal(secretId, ROLE, "engine");

    await consumers.releasePrincipal(secretId, ROLE, "engine-2");
    const kept = await consumers.listPrincipalClaims(secretId);
    await consumers.deregister(secretId, "engine");

    expect(kept).toHaveLength(1);
    expect(await consumers.listPrincipalClaims(secretId)).toEqual([]);
    expect(await consumers.claimPrincipal(secretId, ROLE, "engine-2")).toBe("engine-2");
  });

  it("break 17: of 5 concurrent `consumers register` of one role under different ids, exactly one is stored", async () => {
    const deps = { ...makeDeps(), consumers };
    const secretId = partition("register-race");
    await seedSecret(deps as never, { secretId });

    const outcomes = await Promise.allSettled(
      [1, 2, 3, 4, 5].map((n) =>
        registerConsumer(
          {
            secretId,
            consumerId: `engine-${n}`,
            principalArn: ROLE,
            cacheTtlSeconds: 300,
            heartbeatIntervalSeconds: 60,
            required: true,
          },
          "operator:test",
          deps,
        ),
      ),
    );

    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    expect(await consumers.listConsumers(secretId)).toHaveLength(1);
    expect(await consumers.findByPrincipal(ROLE, secretId)).toHaveLength(1);
  });
});
