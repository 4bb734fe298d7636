/**
 * The DynamoDB adapters against dynalite, over the real SDK: the rotation lock, the revocation
 * ledger's forward-only transitions, the consumer registry and the audit hash chain. Every test gets
 * its own set of tables (created from infra/tables.yml), so no case sees another's items.
 */
import { randomBytes } from "node:crypto";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type LocalDynamo, startDynamo, tableInputs } from "../../harness/local/dynamodb";
import { DynamoAuditLog } from "../../src/adapters/dynamodb/audit-log";
import { documentClient, type TableNames } from "../../src/adapters/dynamodb/client";
import { DynamoConsumerRegistry } from "../../src/adapters/dynamodb/consumer-registry";
import { DynamoRevocationLedger } from "../../src/adapters/dynamodb/revocation-ledger";
import { DynamoRotationStore } from "../../src/adapters/dynamodb/rotation-store";
import {
  AUDIT_GENESIS_HASH,
  auditHash,
  instanceAuditStream,
  verifyAuditChain,
  verifyAuditTrail,
} from "../../src/core/audit/chain";
import { verifySecretAudit } from "../../src/core/audit/trail";
import { AuditChainBrokenError, RotationInProgressError } from "../../src/core/errors";
import type { AuditEntry, LedgerEntry } from "../../src/core/model";
import type { Clock } from "../../src/core/ports";

const REGION = "us-east-1";
const CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };
const SECRET = "keyshift/exchange/acme/trading";
const T0 = new Date("2030-01-01T00:00:00.000Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

const tableNames = (): TableNames => {
  const id = randomBytes(4).toString("hex");
  return {
    consumers: `t-${id}-consumers`,
    rotations: `t-${id}-rotations`,
    ledger: `t-${id}-ledger`,
    audit: `t-${id}-audit`,
  };
};

let dynamo: LocalDynamo;
let admin: DynamoDBClient;
const clients: DynamoDBDocumentClient[] = [];

beforeAll(async () => {
  dynamo = await startDynamo({ names: tableNames() });
  admin = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: CREDENTIALS });
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  admin?.destroy();
  await dynamo?.close();
});

/** A fresh set of keyshift tables in the running dynalite, and the adapters on them. */
async function fresh(clock: Clock = { now: () => T0 }) {
  const tables = tableNames();
  for (const input of tableInputs(tables)) await admin.send(new CreateTableCommand(input));
  const db = documentClient({ endpoint: dynamo.endpoint, region: REGION, credentials: CREDENTIALS });
  clients.push(db);
  return {
    db,
    tables,
    store: new DynamoRotationStore(db, tables.rotations),
    ledger: new DynamoRevocationLedger(db, tables.ledger),
    consumers: new DynamoConsumerRegistry(db, tables.consumers),
    audit: new DynamoAuditLog(db, tables.audit, clock),
  };
}

async function caught(work: Promise<unknown>): Promise<Error> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error(`expected the call to fail, got ${String(error)}`);
  return error;
}

describe("DynamoRotationStore as the rotation lock", () => {
  it("is acquired when free and re-entered by the same rotation with a fresh lease", async () => {
    const { store } = await fresh();

    const first = await store.acquire(SECRET, "rot-1", T0, 600);
    const again = await store.acquire(SECRET, "rot-1", at(60), 600);

    expect(first).toEqual({
      secretId: SECRET,
      rotationId: "rot-1",
      acquiredAt: T0.toISOString(),
      leaseExpiresAt: at(600).toISOString(),
      stalled: false,
      execution: "rot-1",
    });
    expect(again.leaseExpiresAt).toBe(at(660).toISOString());
    expect(await store.get(SECRET)).toEqual(again);
  });

  it("refuses a second rotation with RotationInProgressError and changes nothing of the first", async () => {
    const { store } = await fresh();
    await store.acquire(SECRET, "rot-1", T0, 600);
    const before = await store.get(SECRET);

    const error = await caught(store.acquire(SECRET, "rot-2", at(599), 600));

    expect(error).toBeInstanceOf(RotationInProgressError);
    expect(error.name).toBe("RotationInProgressError");
    expect(error.message).toContain("rot-1");
    expect(error.message).toContain("rotation rot-2 changed nothing");
    expect(await store.get(SECRET)).toEqual(before);
  });

  it("is never taken over, even past the lease; only an expired holder can be marked stalled by someone else", async () => {
    const { store } = await fresh();
    await store.acquire(SECRET, "rot-1", T0, 600);

    const takeover = await caught(store.acquire(SECRET, "rot-2", at(601), 600));
    const tooEarly = await caught(store.markStalled(SECRET, "rot-1", { expiredAt: at(599) }));
    await store.markStalled(SECRET, "rot-1", { expiredAt: at(601) });

    expect(takeover).toBeInstanceOf(RotationInProgressError);
    expect(tooEarly).toBeInstanceOf(RotationInProgressError);
    expect(await store.get(SECRET)).toMatchObject({ rotationId: "rot-1", stalled: true, execution: "rot-1" });
  });

  it("renews only for the execution that drives it, and fences out the one a resume replaced", async () => {
    const { store } = await fresh();
    await store.acquire(SECRET, "rot-1", T0, 600);
    const renewed = await store.renew(SECRET, "rot-1", "rot-1", at(500), 600);
    await store.markStalled(SECRET, "rot-1");
    const whileStalled = await caught(store.renew(SECRET, "rot-1", "rot-1", at(510), 600));
    await store.resume(SECRET, "rot-1", "exec-2", at(520), 600);

    const fenced = await caught(store.renew(SECRET, "rot-1", "rot-1", at(530), 600));
    const again = await store.resume(SECRET, "rot-1", "exec-2", at(540), 600);
    const secondResume = await caught(store.resume(SECRET, "rot-1", "exec-3", at(550), 600));

    expect(renewed.leaseExpiresAt).toBe(at(1100).toISOString());
    expect(whileStalled).toBeInstanceOf(RotationInProgressError);
    expect(fenced).toBeInstanceOf(RotationInProgressError);
    expect(again).toMatchObject({ execution: "exec-2", stalled: false });
    expect(secondResume).toBeInstanceOf(RotationInProgressError);
    expect(await store.renew(SECRET, "rot-1", "exec-2", at(560), 600)).toMatchObject({ execution: "exec-2" });
  });

  it("gives a stalled lock to one operator command at a time, and keeps resume out meanwhile", async () => {
    const { store } = await fresh();
    await store.acquire(SECRET, "rot-1", T0, 600);
    await store.markStalled(SECRET, "rot-1");

    await store.holdForOperator(SECRET, "rot-1", "op-a", at(10), 120);
    const second = await caught(store.holdForOperator(SECRET, "rot-1", "op-b", at(20), 120));
    const resumeMeanwhile = await caught(store.resume(SECRET, "rot-1", "exec-2", at(30), 600));
    await store.releaseOperator(SECRET, "rot-1", "op-b");
    const stillHeld = await store.get(SECRET);
    await store.releaseOperator(SECRET, "rot-1", "op-a");
    const afterExpiry = await store.holdForOperator(SECRET, "rot-1", "op-c", at(40), 120);
    const expiredTakeover = await store.holdForOperator(SECRET, "rot-1", "op-d", at(200), 120);

    expect(second).toBeInstanceOf(RotationInProgressError);
    expect(second.message).toContain("op-a");
    expect(resumeMeanwhile).toBeInstanceOf(RotationInProgressError);
    expect(stillHeld).toMatchObject({ operator: "op-a" });
    expect(afterExpiry).toMatchObject({ operator: "op-c" });
    expect(expiredTakeover).toMatchObject({ operator: "op-d" });
  });

  it("never expires once stalled: only the holder can resume it", async () => {
    const { store } = await fresh();
    await store.acquire(SECRET, "rot-1", T0, 600);
    await store.markStalled(SECRET, "rot-1");
    const stalled = await store.get(SECRET);

    const takeover = await caught(store.acquire(SECRET, "rot-2", new Date("9000-01-01T00:00:00.000Z"), 600));
    const foreignResume = await caught(store.resume(SECRET, "rot-2", "exec-2", at(10), 600));
    const foreignStall = await caught(store.markStalled(SECRET, "rot-2"));
    // Even the holder cannot un-stall by re-entering: only `resume` hands a stalled lock back.
    const reentry = await caught(store.acquire(SECRET, "rot-1", at(20), 600));
    const afterAttempts = await store.get(SECRET);
    const resumed = await store.resume(SECRET, "rot-1", "exec-1", at(1000), 600);

    expect(stalled).toMatchObject({ rotationId: "rot-1", stalled: true });
    expect(takeover).toBeInstanceOf(RotationInProgressError);
    expect(takeover.message).toContain("stalled");
    expect(foreignResume).toBeInstanceOf(RotationInProgressError);
    expect(foreignStall).toBeInstanceOf(RotationInProgressError);
    expect(reentry).toBeInstanceOf(RotationInProgressError);
    expect(afterAttempts).toEqual(stalled);
    expect(resumed).toMatchObject({ rotationId: "rot-1", stalled: false });
    expect(await store.get(SECRET)).toMatchObject({
      rotationId: "rot-1",
      stalled: false,
      leaseExpiresAt: at(1600).toISOString(),
    });
  });

  it("is released only by its holder; releasing a free lock is a no-op", async () => {
    const { store } = await fresh();
    await store.acquire(SECRET, "rot-1", T0, 600);

    await store.release(SECRET, "rot-2");
    const afterForeign = await store.get(SECRET);
    await store.release(SECRET, "rot-1");
    const afterHolder = await store.get(SECRET);
    await store.release(SECRET, "rot-1");
    const next = await store.acquire(SECRET, "rot-2", at(1), 600);

    expect(afterForeign?.rotationId).toBe("rot-1");
    expect(afterHolder).toBeUndefined();
    expect(next.rotationId).toBe("rot-2");
  });

  it("keeps one lock per secret", async () => {
    const { store } = await fresh();

    await store.acquire(SECRET, "rot-1", T0, 600);
    await store.acquire(`${SECRET}-2`, "rot-2", T0, 600);

    expect((await store.get(SECRET))?.rotationId).toBe("rot-1");
    expect((await store.get(`${SECRET}-2`))?.rotationId).toBe("rot-2");
  });
});

describe("DynamoRotationStore records", () => {
  it("keeps settings, versions and rotations apart in the secret's partition", async () => {
    const { store } = await fresh();
    const settings = {
      secretId: SECRET,
      exchangeAccount: "acme",
      minOverlapSeconds: 60,
      deadlineSeconds: 3600,
      pollIntervalSeconds: 30,
      maxPollIntervalSeconds: 300,
      livenessMultiplier: 3,
      enrolledAt: T0.toISOString(),
    };
    const versions = {
      secretId: SECRET,
      current: { versionId: "v1", fingerprint: "fp1_0123456789abcdef", exchangeKeyId: "k1" },
      updatedAt: T0.toISOString(),
    };

    await store.putSettings(settings);
    await store.putSettings({ ...settings, secretId: `${SECRET}-2` });
    await store.putVersions(versions);
    await store.acquire(SECRET, "rot-0", T0, 60);
    for (const [rotationId, startedAt] of [
      ["rot-a", at(20)],
      ["rot-b", at(10)],
    ] as const) {
      await store.putRotation({
        secretId: SECRET,
        rotationId,
        trigger: "manual",
        phase: "started",
        startedAt: startedAt.toISOString(),
        updatedAt: startedAt.toISOString(),
      });
    }

    expect(await store.getSettings(SECRET)).toEqual(settings);
    expect(await store.getVersions(SECRET)).toEqual(versions);
    // In order of start, not of rotation id (the sort key).
    expect((await store.listRotations(SECRET)).map((r) => r.rotationId)).toEqual(["rot-b", "rot-a"]);
    expect((await store.listSettings()).map((s) => s.secretId).sort()).toEqual([SECRET, `${SECRET}-2`]);
    expect(await store.getRotation(SECRET, "rot-missing")).toBeUndefined();
  });
});

describe("DynamoRevocationLedger", () => {
  const entry = (n: number, nextAttemptAt: Date = at(300)): LedgerEntry => ({
    entryId: `acme#key-${n}`,
    secretId: SECRET,
    exchangeAccount: "acme",
    keyId: `key-${n}`,
    versionId: `v-${n}`,
    rotationId: "rot-1",
    status: "pending",
    attempts: 0,
    needsOperator: false,
    createdAt: T0.toISOString(),
    updatedAt: T0.toISOString(),
    nextAttemptAt: nextAttemptAt.toISOString(),
  });
  const ids = (entries: LedgerEntry[]) => entries.map((e) => e.entryId);

  it("opens a pending entry once and never resets it", async () => {
    const { ledger } = await fresh();
    const opened = await ledger.openPending(entry(1));
    await ledger.markFailed("acme#key-1", {
      at: at(10),
      error: "ExchangeRetryableError: 503",
      nextAttemptAt: at(20),
      needsOperator: false,
    });

    const reopened = await ledger.openPending(entry(1));

    expect(opened).toEqual(entry(1));
    expect(reopened).toMatchObject({
      status: "failed",
      attempts: 1,
      lastError: "ExchangeRetryableError: 503",
    });
    expect(await ledger.get("acme#key-1")).toEqual(reopened);
  });

  it("moves pending → failed → revoked, and revoked never goes back", async () => {
    const { ledger } = await fresh();
    await ledger.openPending(entry(1));

    const failed = await ledger.markFailed("acme#key-1", {
      at: at(10),
      error: "timeout",
      nextAttemptAt: at(20),
      needsOperator: false,
    });
    const revoked = await ledger.markRevoked("acme#key-1", at(30));
    const failAfter = await ledger.markFailed("acme#key-1", {
      at: at(40),
      error: "late failure from a slow Lambda",
      nextAttemptAt: at(50),
      needsOperator: true,
    });
    const revokeAgain = await ledger.markRevoked("acme#key-1", at(60));

    expect(failed).toMatchObject({
      status: "failed",
      attempts: 1,
      lastError: "timeout",
      nextAttemptAt: at(20).toISOString(),
    });
    expect(revoked).toMatchObject({ status: "revoked", attempts: 2, revokedAt: at(30).toISOString() });
    expect(revoked.nextAttemptAt).toBeUndefined();
    expect(failAfter).toEqual(revoked);
    expect(revokeAgain).toEqual(revoked);
    expect(await ledger.get("acme#key-1")).toEqual(revoked);
    expect(await ledger.listDue(at(10_000), 100)).toEqual([]);
  });

  it("lists only due entries, in order of their next attempt", async () => {
    const { ledger } = await fresh();
    await ledger.openPending(entry(1, at(300)));
    await ledger.openPending(entry(2, at(100)));
    await ledger.openPending(entry(3, at(200)));
    await ledger.openPending(entry(4, at(900)));
    await ledger.markRevoked("acme#key-3", at(1));

    expect(ids(await ledger.listDue(at(99), 10))).toEqual([]);
    expect(ids(await ledger.listDue(at(100), 10))).toEqual(["acme#key-2"]);
    expect(ids(await ledger.listDue(at(300), 10))).toEqual(["acme#key-2", "acme#key-1"]);
    expect(ids(await ledger.listDue(at(300), 1))).toEqual(["acme#key-2"]);
  });

  it("drops an entry from listDue when it fails without a next attempt, and requeue brings it back", async () => {
    const { ledger } = await fresh();
    await ledger.openPending(entry(1, at(100)));

    const flagged = await ledger.markFailed("acme#key-1", {
      at: at(110),
      error: "ExchangePermanentError: 403",
      nextAttemptAt: undefined,
      needsOperator: true,
    });
    const dueWhileFlagged = await ledger.listDue(at(1_000_000), 10);
    const all = await ledger.listAll();
    const requeued = await ledger.requeue("acme#key-1", at(200));

    expect(flagged).toMatchObject({ status: "failed", attempts: 1, needsOperator: true });
    expect(flagged.nextAttemptAt).toBeUndefined();
    expect(dueWhileFlagged).toEqual([]);
    expect(ids(all)).toEqual(["acme#key-1"]);
    expect(requeued).toMatchObject({
      status: "failed",
      needsOperator: false,
      nextAttemptAt: at(200).toISOString(),
    });
    expect(ids(await ledger.listDue(at(200), 10))).toEqual(["acme#key-1"]);
  });

  it("refuses to requeue a revoked entry and never creates one from markFailed", async () => {
    const { ledger } = await fresh();
    await ledger.openPending(entry(1));
    const revoked = await ledger.markRevoked("acme#key-1", at(5));

    const requeue = await caught(ledger.requeue("acme#key-1", at(10)));
    const ghost = await caught(
      ledger.markFailed("acme#key-404", {
        at: at(10),
        error: "x",
        nextAttemptAt: at(20),
        needsOperator: false,
      }),
    );

    // A domain error naming the entry, not the SDK's "The conditional request failed".
    expect([requeue.name, requeue.message]).toEqual([
      "OperatorActionRejectedError",
      "ledger entry acme#key-1 is already revoked: nothing to retry",
    ]);
    const unknown = await caught(ledger.requeue("acme#key-nope", at(10)));
    expect([unknown.name, unknown.message]).toEqual([
      "InvalidInputError",
      "no ledger entry acme#key-nope: see `keyshift revocations list`",
    ]);
    expect(await ledger.get("acme#key-nope")).toBeUndefined();
    expect(await ledger.get("acme#key-1")).toEqual(revoked);
    expect(ghost.message).toContain("acme#key-404");
    expect(await ledger.get("acme#key-404")).toBeUndefined();
  });

  it("pages through the sweep index past 1 MB: 150 due entries, all listed or cut at the limit", async () => {
    const { ledger, db } = await fresh();
    // Big last errors make the index pass DynamoDB's 1 MB page with only 150 entries.
    const bulky = "e".repeat(8 * 1024);
    for (let n = 0; n < 150; n++) {
      await ledger.openPending(entry(n, at(1000 + n)));
      await ledger.markFailed(`acme#key-${n}`, {
        at: at(1),
        error: bulky,
        nextAttemptAt: at(1000 + n),
        needsOperator: false,
      });
    }
    await ledger.openPending(entry(999, at(5000)));
    const send = vi.spyOn(db, "send");
    const queries = () => send.mock.calls.filter(([command]) => command instanceof QueryCommand).length;

    const due = await ledger.listDue(at(2000), 500);
    const pagesForAll = queries();
    send.mockClear();
    const cut = await ledger.listDue(at(2000), 120);
    send.mockRestore();

    const expected = Array.from({ length: 150 }, (_, n) => `acme#key-${n}`);
    expect(pagesForAll).toBeGreaterThan(1);
    expect(ids(due)).toEqual(expected);
    expect(ids(cut)).toEqual(expected.slice(0, 120));
  });
});

describe("DynamoConsumerRegistry", () => {
  it("resolves principals through the sparse index, per secret, and keeps instances apart", async () => {
    const { consumers, db, tables } = await fresh();
    const registration = {
      secretId: SECRET,
      consumerId: "engine",
      principalArn: "arn:aws:iam::111122223333:role/engine",
      cacheTtlSeconds: 30,
      heartbeatIntervalSeconds: 10,
      required: true,
      registeredAt: T0.toISOString(),
    };
    await consumers.register(registration);
    await consumers.register({
      ...registration,
      consumerId: "gateway",
      principalArn: "arn:aws:iam::1:role/gw",
    });
    const instance = {
      secretId: SECRET,
      consumerId: "engine",
      instanceId: "engine-1",
      fingerprint: "fp1_0123456789abcdef",
      firstSeenAt: T0.toISOString(),
      lastSeenAt: at(30).toISOString(),
    };
    await consumers.putInstance(instance);

    const raw = await db.send(
      new GetCommand({
        TableName: tables.consumers,
        Key: { secretId: SECRET, sk: "INSTANCE#engine#engine-1" },
      }),
    );

    expect(await consumers.findByPrincipal(registration.principalArn, SECRET)).toEqual([registration]);
    expect(await consumers.findByPrincipal(registration.principalArn, `${SECRET}-other`)).toEqual([]);
    expect((await consumers.listConsumers(SECRET)).map((c) => c.consumerId)).toEqual(["engine", "gateway"]);
    expect(await consumers.listInstances(SECRET)).toEqual([instance]);
    expect(await consumers.getInstance(SECRET, "engine", "engine-1")).toEqual(instance);
    expect(await consumers.getInstance(SECRET, "gateway", "engine-1")).toBeUndefined();
    // Retention for DynamoDB TTL: epoch seconds a week after the last heartbeat.
    expect(raw.Item?.expiresAt).toBe(Math.floor(at(30).getTime() / 1000) + 7 * 24 * 3600);
  });

  it("deregisters one consumer: its registration and instances, not those of an id it prefixes", async () => {
    const { consumers } = await fresh();
    const registration = (consumerId: string) => ({
      secretId: SECRET,
      consumerId,
      principalArn: `arn:aws:iam::111122223333:role/${consumerId}`,
      cacheTtlSeconds: 30,
      heartbeatIntervalSeconds: 10,
      required: true,
      registeredAt: T0.toISOString(),
    });
    const instance = (consumerId: string, instanceId: string) => ({
      secretId: SECRET,
      consumerId,
      instanceId,
      fingerprint: "fp1_0123456789abcdef",
      firstSeenAt: T0.toISOString(),
      lastSeenAt: T0.toISOString(),
    });
    for (const id of ["engine", "engine-2"]) await consumers.register(registration(id));
    for (const i of ["a", "b", "c"]) await consumers.putInstance(instance("engine", i));
    await consumers.putInstance(instance("engine-2", "a"));

    const out = await consumers.deregister(SECRET, "engine");
    const again = await consumers.deregister(SECRET, "engine");

    expect(out).toEqual({ instancesRemoved: 3 });
    expect(again).toEqual({ instancesRemoved: 0 });
    expect((await consumers.listConsumers(SECRET)).map((c) => c.consumerId)).toEqual(["engine-2"]);
    expect(await consumers.listInstances(SECRET)).toEqual([instance("engine-2", "a")]);
    expect(await consumers.findByPrincipal("arn:aws:iam::111122223333:role/engine", SECRET)).toEqual([]);
  });
});

describe("DynamoAuditLog", () => {
  async function rawEntries(db: DynamoDBDocumentClient, table: string, stream: string) {
    const out = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "#st = :s",
        ExpressionAttributeNames: { "#st": "stream" },
        ExpressionAttributeValues: { ":s": stream },
        ConsistentRead: true,
      }),
    );
    // Entries only: the head record is the partition's seq 0.
    return ((out.Items ?? []) as Array<AuditEntry & { stream: string }>).filter((e) => e.seq > 0);
  }

  /** The adapter over a client that dies at one write of an append: the crash the protocol must survive. */
  function crashingAt(db: DynamoDBDocumentClient, step: "entry" | "commit"): DynamoDBDocumentClient {
    let armed = true;
    const send = async (command: unknown) => {
      const item = command instanceof PutCommand ? command.input.Item : undefined;
      const hit = step === "entry" ? Number(item?.seq) > 0 : item?.seq === 0 && item.committed === true;
      if (armed && hit) {
        armed = false;
        throw new Error(`crashed before the ${step} write`);
      }
      return db.send(command as PutCommand);
    };
    return { send } as unknown as DynamoDBDocumentClient;
  }

  it("turns 20 concurrent appends into seq 1..20 with a chain that verifies", async () => {
    const { audit } = await fresh({ now: () => new Date() });

    const appended = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        audit.append({
          secretId: SECRET,
          actor: `writer-${i}`,
          action: "heartbeat-rejected",
          details: { i },
        }),
      ),
    );
    const listed = await audit.list(SECRET);

    expect(appended.map((e) => e.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(listed.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(listed.map((e) => e.actor).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `writer-${i}`).sort(),
    );
    expect(listed[0]?.prevHash).toBe(AUDIT_GENESIS_HASH);
    expect(verifyAuditChain(listed)).toEqual({ ok: true, entries: 20 });
    expect(await audit.head(SECRET)).toMatchObject({ seq: 20, hash: listed[19]?.hash, committed: true });
    expect(verifyAuditTrail(listed, await audit.head(SECRET))).toEqual({ ok: true, entries: 20 });
  });

  it("keeps one chain per secret", async () => {
    const { audit } = await fresh();

    await audit.append({ secretId: SECRET, actor: "op", action: "secret-enrolled" });
    await audit.append({ secretId: SECRET, actor: "op", action: "consumer-registered" });
    const other = await audit.append({ secretId: "keyshift/other", actor: "op", action: "secret-enrolled" });

    expect(other).toMatchObject({ seq: 1, prevHash: AUDIT_GENESIS_HASH });
    expect(verifyAuditChain(await audit.list(SECRET))).toEqual({ ok: true, entries: 2 });
    expect(verifyAuditChain(await audit.list("keyshift/other"))).toEqual({ ok: true, entries: 1 });
  });

  it("detects an entry overwritten in the table, even with a recomputed hash", async () => {
    const { audit, db, tables } = await fresh();
    for (let i = 1; i <= 6; i++) {
      await audit.append({ secretId: SECRET, actor: "rotation:r1", action: `step-${i}`, details: { n: i } });
    }
    const stored = await rawEntries(db, tables.audit, SECRET);
    const fifth = stored.find((e) => e.seq === 5);
    if (!fifth) throw new Error("no entry 5");

    await db.send(new PutCommand({ TableName: tables.audit, Item: { ...fifth, actor: "operator:mallory" } }));
    const edited = verifyAuditChain(await audit.list(SECRET));
    const { hash: _old, stream: _stream, ...body } = { ...fifth, actor: "operator:mallory" };
    await db.send(
      new PutCommand({ TableName: tables.audit, Item: { ...fifth, ...body, hash: auditHash(body) } }),
    );
    const rehashed = verifyAuditChain(await audit.list(SECRET));

    expect(verifyAuditChain(stored.map(({ stream: _s, ...e }) => e))).toEqual({ ok: true, entries: 6 });
    expect(edited).toMatchObject({ ok: false, brokenAt: { seq: 5, reason: "content does not match hash" } });
    expect(rehashed).toMatchObject({ ok: false, brokenAt: { seq: 6, reason: "prevHash does not link" } });
  });
  it("break 12: a trail whose last entries, or all entries, were deleted from the table does not verify", async () => {
    const { audit, db, tables } = await fresh();
    for (let i = 1; i <= 5; i++) await audit.append({ secretId: SECRET, actor: "op", action: `step-${i}` });
    const remove = (seq: number) =>
      db.send(new DeleteCommand({ TableName: tables.audit, Key: { stream: SECRET, seq } }));
    const verify = async () => verifyAuditTrail(await audit.list(SECRET), await audit.head(SECRET));

    const whole = await verify();
    await remove(5);
    const lastGone = await verify();
    for (const seq of [1, 2, 3, 4]) await remove(seq);
    const allGone = await verify();

    expect(whole).toEqual({ ok: true, entries: 5 });
    expect(lastGone).toMatchObject({ ok: false, brokenAt: { seq: 5 } });
    expect(allGone).toMatchObject({ ok: false, entries: 0, brokenAt: { seq: 1 } });
    expect(await audit.head("keyshift/nobody")).toBeUndefined();
    expect(await audit.list("keyshift/nobody")).toEqual([]);
  });

  it("break 12: an overwritten last entry with a recomputed hash does not match the head", async () => {
    const { audit, db, tables } = await fresh();
    for (let i = 1; i <= 3; i++) await audit.append({ secretId: SECRET, actor: "op", action: `step-${i}` });
    const [, , third] = await rawEntries(db, tables.audit, SECRET);
    if (!third) throw new Error("no entry 3");
    const { hash: _old, stream: _stream, ...body } = { ...third, actor: "operator:mallory" };
    await db.send(
      new PutCommand({ TableName: tables.audit, Item: { ...third, ...body, hash: auditHash(body) } }),
    );

    expect(verifyAuditChain(await audit.list(SECRET)).ok).toBe(true);
    expect(verifyAuditTrail(await audit.list(SECRET), await audit.head(SECRET))).toMatchObject({
      ok: false,
      brokenAt: { seq: 3, reason: "entry does not match the head" },
    });
  });

  it("break 12: a crash between the head and the entry write verifies (entry pending in the head) and the next append stores it", async () => {
    const { audit, db, tables } = await fresh();
    await audit.append({ secretId: SECRET, actor: "op", action: "step-1" });
    const crashing = new DynamoAuditLog(crashingAt(db, "entry"), tables.audit, { now: () => T0 });

    const crash = await caught(crashing.append({ secretId: SECRET, actor: "op", action: "step-2" }));
    const afterCrash = verifyAuditTrail(await audit.list(SECRET), await audit.head(SECRET));
    const storedAfterCrash = (await audit.list(SECRET)).length;
    await audit.append({ secretId: SECRET, actor: "op", action: "step-3" });
    const listed = await audit.list(SECRET);

    expect(crash.message).toContain("crashed before the entry write");
    expect(afterCrash).toEqual({ ok: true, entries: 2, pending: 2 });
    expect(storedAfterCrash).toBe(1);
    expect(listed.map((e) => [e.seq, e.action])).toEqual([
      [1, "step-1"],
      [2, "step-2"],
      [3, "step-3"],
    ]);
    expect(verifyAuditTrail(listed, await audit.head(SECRET))).toEqual({ ok: true, entries: 3 });
  });

  it("break 12: a crash before the head is committed verifies; a committed head then catches the last entry's removal", async () => {
    const { audit, db, tables } = await fresh();
    await audit.append({ secretId: SECRET, actor: "op", action: "step-1" });
    const crashing = new DynamoAuditLog(crashingAt(db, "commit"), tables.audit, { now: () => T0 });

    await caught(crashing.append({ secretId: SECRET, actor: "op", action: "step-2" }));
    const afterCrash = verifyAuditTrail(await audit.list(SECRET), await audit.head(SECRET));
    const headAfterCrash = await audit.head(SECRET);
    await audit.append({ secretId: SECRET, actor: "op", action: "step-3" });
    await db.send(new DeleteCommand({ TableName: tables.audit, Key: { stream: SECRET, seq: 3 } }));

    expect(afterCrash).toEqual({ ok: true, entries: 2 });
    expect(headAfterCrash).toMatchObject({ seq: 2, committed: false });
    expect(verifyAuditTrail(await audit.list(SECRET), await audit.head(SECRET))).toMatchObject({
      ok: false,
      brokenAt: { seq: 3 },
    });
  });

  it("issue 14 break 8: the stream register lists every stream of a secret, written with its first entry only", async () => {
    const { audit, consumers, db, tables } = await fresh();
    const stream = instanceAuditStream(SECRET, "engine", "e1");
    const send = vi.spyOn(db, "send");
    await audit.append({ secretId: SECRET, actor: "op", action: "secret-enrolled" });
    await audit.append({ secretId: SECRET, stream, actor: "engine", action: "instance-fingerprint-changed" });
    // The register is append-only like the entries: one put per stream into its own partition.
    const registerWrites = () => send.mock.calls.filter(([c]) => isRegisterPut(c)).length;
    const kinds = () =>
      new Set(send.mock.calls.map(([c]) => (c as { constructor: { name: string } }).constructor.name));
    const afterFirst = registerWrites();
    await audit.append({ secretId: SECRET, stream, actor: "engine", action: "instance-fingerprint-changed" });
    const afterSecond = registerWrites();
    const sent = kinds();
    send.mockRestore();

    expect(afterFirst).toBe(2);
    expect(afterSecond).toBe(2);
    // Query and PutItem only: what the appending roles (the heartbeat's included) are granted.
    expect([...sent].sort()).toEqual(["PutCommand", "QueryCommand"]);
    expect(await audit.streams(SECRET)).toEqual([SECRET, stream].sort());
    expect(await audit.streams("keyshift/nobody")).toEqual([]);
    // A register written before it became append-only (one string set at seq 0) still counts.
    const older = instanceAuditStream(SECRET, "engine", "e0");
    await db.send(
      new PutCommand({
        TableName: tables.audit,
        Item: { stream: `${SECRET}#streams`, seq: 0, streams: new Set([older]) },
      }),
    );
    expect(await audit.streams(SECRET)).toEqual([SECRET, older, stream].sort());
    await db.send(
      new DeleteCommand({ TableName: tables.audit, Key: { stream: `${SECRET}#streams`, seq: 0 } }),
    );
    // No instance row at all (removed, or gone by TTL): verify still finds the stream, and its truncation.
    expect(await verifySecretAudit(SECRET, { audit, consumers })).toMatchObject({
      ok: true,
      instanceStreams: 1,
    });
    await db.send(new DeleteCommand({ TableName: tables.audit, Key: { stream, seq: 2 } }));
    const truncated = await verifySecretAudit(SECRET, { audit, consumers });
    expect(truncated.ok).toBe(false);
    expect(truncated.broken[stream]?.brokenAt?.seq).toBe(2);
  });

  it("issue 14 break 15: a stream deleted whole, head included, is not restarted at genesis, and verify fails", async () => {
    const { audit, consumers, db, tables } = await fresh();
    for (let i = 1; i <= 3; i++) await audit.append({ secretId: SECRET, actor: "op", action: `step-${i}` });
    for (const seq of [0, 1, 2, 3]) {
      await db.send(new DeleteCommand({ TableName: tables.audit, Key: { stream: SECRET, seq } }));
    }

    const refused = await caught(audit.append({ secretId: SECRET, actor: "op", action: "step-4" }));
    const verdict = await verifySecretAudit(SECRET, { audit, consumers });

    expect(refused).toBeInstanceOf(AuditChainBrokenError);
    expect(refused.message).toContain("deleted whole");
    expect(await audit.list(SECRET)).toEqual([]);
    expect(await audit.head(SECRET)).toBeUndefined();
    expect(verdict.ok).toBe(false);
    expect(verdict.secret.brokenAt?.reason).toContain("deleted whole");
  });

  it("issue 14 break 15: a crash between the first head and the register leaves no false break; the next append registers", async () => {
    const { audit, consumers, db, tables } = await fresh();
    let armed = true;
    const flaky = {
      send: async (command: unknown) => {
        if (armed && isRegisterPut(command)) {
          armed = false;
          throw new Error("crashed before the register write");
        }
        return db.send(command as PutCommand);
      },
    } as unknown as DynamoDBDocumentClient;
    const crashing = new DynamoAuditLog(flaky, tables.audit, { now: () => T0 });

    await caught(crashing.append({ secretId: SECRET, actor: "op", action: "step-1" }));
    const afterCrash = await verifySecretAudit(SECRET, { audit, consumers });
    await audit.append({ secretId: SECRET, actor: "op", action: "step-2" });

    expect(afterCrash.secret).toEqual({ ok: true, entries: 1, pending: 1 });
    expect(await audit.streams(SECRET)).toEqual([SECRET]);
    expect((await verifySecretAudit(SECRET, { audit, consumers })).ok).toBe(true);
  });

  it("break 12: refuses to append to entries that have no head (not written by this log, or the head was deleted)", async () => {
    const { audit, db, tables } = await fresh();
    await audit.append({ secretId: SECRET, actor: "op", action: "step-1" });
    await db.send(new DeleteCommand({ TableName: tables.audit, Key: { stream: SECRET, seq: 0 } }));

    const refused = await caught(audit.append({ secretId: SECRET, actor: "op", action: "step-2" }));

    expect(refused).toBeInstanceOf(AuditChainBrokenError);
    expect(refused.message).toContain("no head record");
    expect(await audit.list(SECRET)).toHaveLength(1);
    expect(verifyAuditTrail(await audit.list(SECRET), await audit.head(SECRET))).toMatchObject({ ok: false });
  });
});

/** A write of the audit stream register (`<secretId>#streams`). */
function isRegisterPut(command: unknown): boolean {
  if (!(command instanceof PutCommand)) return false;
  const stream = (command.input.Item as { stream?: unknown } | undefined)?.stream;
  return typeof stream === "string" && stream.endsWith("#streams");
}
