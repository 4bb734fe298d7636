/**
 * The DynamoDB behaviour keyshift's adapters rely on, written against the real SDK clients only
 * (@aws-sdk/client-dynamodb + lib-dynamodb) and keyshift's own table definitions, as AWS documents
 * it. Runs against dynalite by default; with KEYSHIFT_CONTRACT_DYNAMODB_ENDPOINT set, against that
 * endpoint (real AWS or another implementation) with region from AWS_REGION and credentials from the
 * SDK's default chain: tables get run-unique names and are deleted afterwards (dynamodb-target.ts).
 */
import { createHash, randomBytes } from "node:crypto";
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  DynamoDBServiceException,
  TransactWriteItemsCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dynamoTarget } from "./dynamodb-target";

const target = dynamoTarget();
const { external, runId, tables, partition, eventually } = target;

let raw: DynamoDBClient;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  ({ raw, db } = await target.open());
}, 360_000);

afterAll(() => target.close(), 120_000);

async function rejection(call: Promise<unknown>): Promise<DynamoDBServiceException> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, "expected the call to be rejected").toBeInstanceOf(DynamoDBServiceException);
  return error as DynamoDBServiceException;
}

async function conditionFailure(call: Promise<unknown>): Promise<void> {
  const error = await rejection(call);
  expect(error).toBeInstanceOf(ConditionalCheckFailedException);
  expect(error.name).toBe("ConditionalCheckFailedException");
  expect(error.$metadata.httpStatusCode).toBe(400);
}

/** Follows LastEvaluatedKey to the end, keeping every page. */
async function pages(input: QueryCommandInput) {
  const all: Array<{ items: Record<string, unknown>[]; last?: Record<string, unknown> }> = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new QueryCommand({ ...input, ExclusiveStartKey }));
    all.push({ items: page.Items ?? [], last: page.LastEvaluatedKey });
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return all;
}

const getLedger = async (entryId: string) =>
  (await db.send(new GetCommand({ TableName: tables.ledger, Key: { entryId }, ConsistentRead: true }))).Item;

describe("conditional writes", () => {
  it("PutItem with attribute_not_exists fails with ConditionalCheckFailedException and changes nothing", async () => {
    const entryId = partition("put");
    const put = (status: string) =>
      db.send(
        new PutCommand({
          TableName: tables.ledger,
          Item: { entryId, status, attempts: 0 },
          ConditionExpression: "attribute_not_exists(entryId)",
        }),
      );

    await put("pending");
    await conditionFailure(put("failed"));

    expect(await getLedger(entryId)).toEqual({ entryId, status: "pending", attempts: 0 });
  });

  it("PutItem on a composite key: attribute_not_exists(<sort key>) tests the item with that exact key", async () => {
    const stream = partition("audit");
    const append = (seq: number, actor: string) =>
      db.send(
        new PutCommand({
          TableName: tables.audit,
          Item: { stream, seq, actor },
          ConditionExpression: "attribute_not_exists(seq)",
        }),
      );

    await append(1, "a");
    await append(2, "b");
    await conditionFailure(append(2, "c"));

    const out = await db.send(
      new GetCommand({ TableName: tables.audit, Key: { stream, seq: 2 }, ConsistentRead: true }),
    );
    expect(out.Item).toEqual({ stream, seq: 2, actor: "b" });
  });

  it("UpdateItem with IN, <> and attribute_exists, returning ALL_NEW", async () => {
    const entryId = partition("update");
    await db.send(
      new PutCommand({
        TableName: tables.ledger,
        Item: { entryId, status: "pending", attempts: 0, sweep: "due", sweepAt: "2030-01-01T00:00:00.000Z" },
      }),
    );
    const revoke = () =>
      db.send(
        new UpdateCommand({
          TableName: tables.ledger,
          Key: { entryId },
          UpdateExpression: "SET #s = :revoked, attempts = attempts + :one REMOVE sweep, sweepAt",
          ConditionExpression: "#s IN (:pending, :failed)",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: {
            ":revoked": "revoked",
            ":pending": "pending",
            ":failed": "failed",
            ":one": 1,
          },
          ReturnValues: "ALL_NEW",
        }),
      );
    const fail = (id: string) =>
      db.send(
        new UpdateCommand({
          TableName: tables.ledger,
          Key: { entryId: id },
          UpdateExpression: "SET #s = :failed",
          ConditionExpression: "attribute_exists(entryId) AND #s <> :revoked",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: { ":failed": "failed", ":revoked": "revoked" },
          ReturnValues: "ALL_NEW",
        }),
      );

    const failed = await fail(entryId);
    const revoked = await revoke();
    await conditionFailure(fail(entryId));
    await conditionFailure(revoke());
    const missing = partition("missing");
    await conditionFailure(fail(missing));

    expect(failed.Attributes).toMatchObject({ entryId, status: "failed", attempts: 0, sweep: "due" });
    // ALL_NEW is the whole item after the update: removed attributes are gone from it.
    expect(revoked.Attributes).toEqual({ entryId, status: "revoked", attempts: 1 });
    expect(await getLedger(entryId)).toEqual({ entryId, status: "revoked", attempts: 1 });
    // Without attribute_exists an UpdateItem would have created the item: the condition prevents it.
    expect(await getLedger(missing)).toBeUndefined();
  });

  it("UpdateItem without a condition creates the item (why every ledger update carries one)", async () => {
    const entryId = partition("upsert");

    await db.send(
      new UpdateCommand({
        TableName: tables.ledger,
        Key: { entryId },
        UpdateExpression: "SET #s = :failed",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":failed": "failed" },
      }),
    );

    expect(await getLedger(entryId)).toEqual({ entryId, status: "failed" });
  });

  // The rotation lock's own conditions (acquire, renew, markStalled, resume, operator hold, release)
  // are not copied here: ports.dynamodb.contract.test.ts drives the production DynamoRotationStore
  // (and DynamoRevocationLedger) against this same target, so a condition can never drift from what
  // is tested. The cases below pin only the DynamoDB semantics those conditions are built on.

  it("DeleteItem with a condition: a refused delete changes nothing; on a missing item the condition sees no attributes", async () => {
    const secretId = partition("delete");
    const remove = (condition: string, owner: string) =>
      db.send(
        new DeleteCommand({
          TableName: tables.rotations,
          Key: { secretId, sk: "ITEM" },
          ConditionExpression: condition,
          ExpressionAttributeNames: { "#o": "owner" },
          ExpressionAttributeValues: { ":o": owner },
        }),
      );
    const get = async () =>
      (
        await db.send(
          new GetCommand({
            TableName: tables.rotations,
            Key: { secretId, sk: "ITEM" },
            ConsistentRead: true,
          }),
        )
      ).Item;
    await db.send(
      new PutCommand({ TableName: tables.rotations, Item: { secretId, sk: "ITEM", owner: "a" } }),
    );

    await conditionFailure(remove("#o = :o", "b"));
    const afterRefused = await get();
    await remove("#o = :o", "a");
    const afterDeleted = await get();
    // A comparison against a missing item is false; only attribute_not_exists makes it pass.
    await conditionFailure(remove("#o = :o", "a"));
    await remove("attribute_not_exists(secretId) OR #o = :o", "a");

    expect(afterRefused).toEqual({ secretId, sk: "ITEM", owner: "a" });
    expect(afterDeleted).toBeUndefined();
  });

  it("conditions compare ISO timestamps as strings (strictly with <) and booleans by value and type", async () => {
    const entryId = partition("compare");
    await db.send(
      new PutCommand({
        TableName: tables.ledger,
        Item: { entryId, isSet: false, spelled: "false", endsAt: "2030-01-01T00:10:00.000Z" },
      }),
    );
    const touch = (condition: string, values: Record<string, unknown>) =>
      db.send(
        new UpdateCommand({
          TableName: tables.ledger,
          Key: { entryId },
          UpdateExpression: "SET touched = if_not_exists(touched, :zero) + :one",
          ConditionExpression: condition,
          ExpressionAttributeValues: { ":zero": 0, ":one": 1, ...values },
          ReturnValues: "ALL_NEW",
        }),
      );

    await conditionFailure(touch("endsAt < :now", { ":now": "2030-01-01T00:09:59.999Z" }));
    await conditionFailure(touch("endsAt < :now", { ":now": "2030-01-01T00:10:00.000Z" }));
    await touch("endsAt < :now", { ":now": "2030-01-01T00:10:00.001Z" });
    await touch("isSet = :false", { ":false": false });
    await conditionFailure(touch("isSet = :true", { ":true": true }));
    // A boolean never equals the string that spells it.
    await conditionFailure(touch("spelled = :false", { ":false": false }));

    expect(await getLedger(entryId)).toMatchObject({ touched: 2 });
  });
});

describe("update expressions", () => {
  it("if_not_exists starts a counter; attempts + :one adds to a number", async () => {
    const entryId = partition("count");
    const bump = (expression: string) =>
      db.send(
        new UpdateCommand({
          TableName: tables.ledger,
          Key: { entryId },
          UpdateExpression: expression,
          ExpressionAttributeValues: expression.includes(":zero") ? { ":zero": 0, ":one": 1 } : { ":one": 1 },
          ReturnValues: "ALL_NEW",
        }),
      );

    const first = await bump("SET attempts = if_not_exists(attempts, :zero) + :one");
    const second = await bump("SET attempts = if_not_exists(attempts, :zero) + :one");
    const third = await bump("SET attempts = attempts + :one");

    expect([first.Attributes?.attempts, second.Attributes?.attempts, third.Attributes?.attempts]).toEqual([
      1, 2, 3,
    ]);
    expect(typeof third.Attributes?.attempts).toBe("number");
  });

  it("attempts + :one on an item without attempts is a ValidationException, not 0 + 1", async () => {
    const entryId = partition("no-attempts");
    await db.send(new PutCommand({ TableName: tables.ledger, Item: { entryId, status: "pending" } }));

    const error = await rejection(
      db.send(
        new UpdateCommand({
          TableName: tables.ledger,
          Key: { entryId },
          UpdateExpression: "SET attempts = attempts + :one",
          ExpressionAttributeValues: { ":one": 1 },
        }),
      ),
    );

    expect(error.name).toBe("ValidationException");
    expect(await getLedger(entryId)).toEqual({ entryId, status: "pending" });
  });
});

describe("sparse global secondary indexes", () => {
  const dueAt = (sweep: string, now: string) =>
    db.send(
      new QueryCommand({
        TableName: tables.ledger,
        IndexName: "by-sweep",
        KeyConditionExpression: "sweep = :due AND sweepAt <= :now",
        ExpressionAttributeValues: { ":due": sweep, ":now": now },
      }),
    );

  it("REMOVE of the index keys makes an item vanish from the index; items without them never appear", async () => {
    const sweep = partition("sweep");
    const entryId = partition("entry");
    await db.send(
      new PutCommand({
        TableName: tables.ledger,
        Item: { entryId, status: "failed", sweep, sweepAt: "2030-01-01T00:00:00.000Z" },
      }),
    );
    await db.send(
      new PutCommand({ TableName: tables.ledger, Item: { entryId: `${entryId}-x`, status: "revoked" } }),
    );
    const listed = await eventually(async () => {
      const out = await dueAt(sweep, "2030-01-02T00:00:00.000Z");
      expect(out.Items).toHaveLength(1);
      return out.Items;
    });

    await db.send(
      new UpdateCommand({
        TableName: tables.ledger,
        Key: { entryId },
        UpdateExpression: "REMOVE sweep, sweepAt",
      }),
    );

    expect(listed).toEqual([{ entryId, status: "failed", sweep, sweepAt: "2030-01-01T00:00:00.000Z" }]);
    await eventually(async () => expect((await dueAt(sweep, "2030-01-02T00:00:00.000Z")).Items).toEqual([]));
    expect(await getLedger(entryId)).toEqual({ entryId, status: "failed" });
  });

  it("every item of one index key is in the index, whatever its table key (dynalite's 24-bit index-key defect, mended)", async () => {
    // Two table keys whose md5("Outliers" + key) share their first six hex digits: dynalite 4.0.0
    // gave both the same index entry, so the second write hid the first (harness/local/dynalite-loader.ts).
    const seen = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const entryId = `${partition("collide")}#${i}`;
      const prefix = createHash("md5").update("Outliers").update(entryId).digest("hex").slice(0, 6);
      const earlier = seen.get(prefix);
      if (earlier) pair = [earlier, entryId];
      else seen.set(prefix, entryId);
    }
    const sweep = partition("same-key");
    for (const entryId of pair) {
      await db.send(
        new PutCommand({
          TableName: tables.ledger,
          Item: { entryId, status: "pending", sweep, sweepAt: "2030-01-01T00:00:00.000Z" },
        }),
      );
    }

    await eventually(async () => {
      const out = await dueAt(sweep, "2030-01-02T00:00:00.000Z");
      expect((out.Items ?? []).map((i) => i.entryId).sort()).toEqual([...pair].sort());
    });
  });

  it("a range condition <= on a string sort key returns only the due items, in ascending order", async () => {
    const sweep = partition("range");
    const times = ["2030-01-01T00:00:03.000Z", "2030-01-01T00:00:01.000Z", "2030-01-01T00:00:02.000Z"];
    for (const [i, sweepAt] of times.entries()) {
      await db.send(
        new PutCommand({ TableName: tables.ledger, Item: { entryId: `${sweep}#${i}`, sweep, sweepAt } }),
      );
    }

    const due = await eventually(async () => {
      const out = await dueAt(sweep, "2030-01-01T00:00:02.000Z");
      expect(out.Items).toHaveLength(2);
      return out.Items;
    });

    expect(due?.map((i) => i.sweepAt)).toEqual(["2030-01-01T00:00:01.000Z", "2030-01-01T00:00:02.000Z"]);
  });

  it("a registration with principalArn is found by-principal; an instance without it is not", async () => {
    const secretId = partition("consumers");
    const principalArn = `arn:aws:iam::111122223333:role/${randomBytes(4).toString("hex")}`;
    await db.send(
      new PutCommand({
        TableName: tables.consumers,
        Item: { secretId, sk: "CONSUMER#engine", consumerId: "engine", principalArn },
      }),
    );
    await db.send(
      new PutCommand({
        TableName: tables.consumers,
        Item: { secretId, sk: "INSTANCE#engine#1", consumerId: "engine", instanceId: "1" },
      }),
    );

    const found = await eventually(async () => {
      const out = await db.send(
        new QueryCommand({
          TableName: tables.consumers,
          IndexName: "by-principal",
          KeyConditionExpression: "principalArn = :p AND secretId = :s",
          ExpressionAttributeValues: { ":p": principalArn, ":s": secretId },
        }),
      );
      expect(out.Items).toHaveLength(1);
      return out.Items;
    });

    expect(found).toEqual([{ secretId, sk: "CONSUMER#engine", consumerId: "engine", principalArn }]);
  });

  it("ConsistentRead on a global secondary index is a ValidationException", async () => {
    const error = await rejection(
      db.send(
        new QueryCommand({
          TableName: tables.ledger,
          IndexName: "by-sweep",
          KeyConditionExpression: "sweep = :due",
          ExpressionAttributeValues: { ":due": "due" },
          ConsistentRead: true,
        }),
      ),
    );

    expect(error.name).toBe("ValidationException");
  });
});

describe("queries and scans", () => {
  it("begins_with on the sort key selects one kind of item, ordered by sort key", async () => {
    const secretId = partition("kinds");
    for (const sk of ["INSTANCE#b#1", "CONSUMER#b", "CONSUMER#a", "INSTANCE#a#1", "CONSUMERS"]) {
      await db.send(new PutCommand({ TableName: tables.consumers, Item: { secretId, sk } }));
    }

    const out = await db.send(
      new QueryCommand({
        TableName: tables.consumers,
        KeyConditionExpression: "secretId = :s AND begins_with(sk, :p)",
        ExpressionAttributeValues: { ":s": secretId, ":p": "CONSUMER#" },
        ConsistentRead: true,
      }),
    );

    expect(out.Items?.map((i) => i.sk)).toEqual(["CONSUMER#a", "CONSUMER#b"]);
  });

  it("ScanIndexForward false + Limit 1 returns the highest numeric sort key, with a LastEvaluatedKey", async () => {
    const stream = partition("last");
    for (const seq of [2, 10, 9, 1]) {
      await db.send(new PutCommand({ TableName: tables.audit, Item: { stream, seq } }));
    }

    const out = await db.send(
      new QueryCommand({
        TableName: tables.audit,
        KeyConditionExpression: "#st = :s",
        ExpressionAttributeNames: { "#st": "stream" },
        ExpressionAttributeValues: { ":s": stream },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );

    // Numbers sort as numbers (10 > 9), not as strings.
    expect(out.Items).toEqual([{ stream, seq: 10 }]);
    expect(out.LastEvaluatedKey).toEqual({ stream, seq: 10 });
  });

  it("a table Query paginates with Limit and LastEvaluatedKey, every item exactly once", async () => {
    const stream = partition("pages");
    for (let seq = 1; seq <= 7; seq++) {
      await db.send(new PutCommand({ TableName: tables.audit, Item: { stream, seq } }));
    }

    const got = await pages({
      TableName: tables.audit,
      KeyConditionExpression: "#st = :s",
      ExpressionAttributeNames: { "#st": "stream" },
      ExpressionAttributeValues: { ":s": stream },
      Limit: 3,
      ConsistentRead: true,
    });

    expect(got.slice(0, 2).map((p) => p.items.length)).toEqual([3, 3]);
    expect(got[0]?.last).toEqual({ stream, seq: 3 });
    expect(got.flatMap((p) => p.items.map((i) => i.seq))).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("a table Query stops a page at 1 MB and says where to go on", async () => {
    const secretId = partition("big");
    const blob = "x".repeat(300 * 1024);
    for (let i = 0; i < 5; i++) {
      await db.send(
        new PutCommand({ TableName: tables.rotations, Item: { secretId, sk: `ROTATION#${i}`, blob } }),
      );
    }

    const got = await pages({
      TableName: tables.rotations,
      KeyConditionExpression: "secretId = :s",
      ExpressionAttributeValues: { ":s": secretId },
      ConsistentRead: true,
    });

    expect(got.length).toBeGreaterThan(1);
    expect(got[0]?.items.length).toBeLessThan(5);
    expect(got[0]?.last).toMatchObject({ secretId });
    expect(got.flatMap((p) => p.items.map((i) => i.sk))).toEqual([0, 1, 2, 3, 4].map((i) => `ROTATION#${i}`));
  });

  it("a GSI Query paginates; its LastEvaluatedKey holds the index and the table keys", async () => {
    const sweep = partition("gsi-pages");
    for (let i = 0; i < 5; i++) {
      await db.send(
        new PutCommand({
          TableName: tables.ledger,
          Item: { entryId: `${sweep}#${i}`, sweep, sweepAt: `2030-01-01T00:00:0${i}.000Z` },
        }),
      );
    }

    const got = await eventually(async () => {
      const all = await pages({
        TableName: tables.ledger,
        IndexName: "by-sweep",
        KeyConditionExpression: "sweep = :due AND sweepAt <= :now",
        ExpressionAttributeValues: { ":due": sweep, ":now": "2031-01-01T00:00:00.000Z" },
        Limit: 2,
      });
      expect(all.flatMap((p) => p.items)).toHaveLength(5);
      return all;
    });

    expect(got[0]?.items).toHaveLength(2);
    expect(got[0]?.last).toEqual({ entryId: `${sweep}#1`, sweep, sweepAt: "2030-01-01T00:00:01.000Z" });
    expect(got.flatMap((p) => p.items.map((i) => i.entryId))).toEqual(
      [0, 1, 2, 3, 4].map((i) => `${sweep}#${i}`),
    );
  });

  it("a Scan with a FilterExpression must be followed to the end: Limit counts items read, not matched", async () => {
    const secretIds = [partition("scan-a"), partition("scan-b"), partition("scan-c")];
    for (const secretId of secretIds) {
      for (const sk of ["SETTINGS", "VERSIONS", "LOCK", "ROTATION#1"]) {
        await db.send(new PutCommand({ TableName: tables.rotations, Item: { secretId, sk, runId } }));
      }
    }
    const scanned: Array<{ count: number; more: boolean }> = [];
    const settings: string[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;

    do {
      const page = await db.send(
        new ScanCommand({
          TableName: tables.rotations,
          FilterExpression: "sk = :s AND runId = :run",
          ExpressionAttributeValues: { ":s": "SETTINGS", ":run": runId },
          Limit: 2,
          ExclusiveStartKey,
          ConsistentRead: true,
        }),
      );
      scanned.push({ count: page.Items?.length ?? 0, more: Boolean(page.LastEvaluatedKey) });
      settings.push(...(page.Items ?? []).map((i) => String(i.secretId)));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);

    expect(settings.sort()).toEqual([...secretIds].sort());
    // Pages that matched nothing still carried a LastEvaluatedKey: stopping there would lose items.
    expect(scanned.some((p) => p.count === 0 && p.more)).toBe(true);
  });

  it("ConsistentRead on the table sees a write at once (GetItem and Query)", async () => {
    const secretId = partition("consistent");
    await db.send(new PutCommand({ TableName: tables.rotations, Item: { secretId, sk: "VERSIONS", n: 1 } }));
    await db.send(new PutCommand({ TableName: tables.rotations, Item: { secretId, sk: "VERSIONS", n: 2 } }));

    const got = await db.send(
      new GetCommand({
        TableName: tables.rotations,
        Key: { secretId, sk: "VERSIONS" },
        ConsistentRead: true,
      }),
    );
    const queried = await db.send(
      new QueryCommand({
        TableName: tables.rotations,
        KeyConditionExpression: "secretId = :s",
        ExpressionAttributeValues: { ":s": secretId },
        ConsistentRead: true,
      }),
    );

    expect(got.Item?.n).toBe(2);
    expect(queried.Items).toEqual([{ secretId, sk: "VERSIONS", n: 2 }]);
  });
});

describe("attribute types round-trip through the document client", () => {
  it("numbers stay numbers, nulls stay null, string lists and nested maps survive, undefined is dropped", async () => {
    const stream = partition("types");
    const item = {
      stream,
      seq: 1,
      attempts: 3,
      ratio: 0.25,
      negative: -7,
      details: {
        from: null,
        to: "fp1_0123456789abcdef",
        lagging: ["engine", "gateway"],
        empty: [],
        count: 2,
        ok: true,
        later: undefined,
      },
      needsOperator: false,
    };
    await db.send(new PutCommand({ TableName: tables.audit, Item: item }));

    const out = await db.send(
      new GetCommand({ TableName: tables.audit, Key: { stream, seq: 1 }, ConsistentRead: true }),
    );

    const { later: _dropped, ...details } = item.details;
    expect(out.Item).toStrictEqual({ ...item, details });
    expect(typeof out.Item?.attempts).toBe("number");
    expect(out.Item?.details.from).toBeNull();
  });
});

describe.skipIf(Boolean(external))("dynalite's gaps, which keyshift's design stays clear of", () => {
  it("TransactWriteItems is not implemented: the lock, ledger and audit use single-item conditions", async () => {
    const error = await rejection(
      raw.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: tables.ledger,
                Item: { entryId: { S: partition("tx") } },
                ConditionExpression: "attribute_not_exists(entryId)",
              },
            },
          ],
        }),
      ),
    );

    expect(error.name).toBe("UnknownOperationException");
  });

  it("UpdateTimeToLive is not implemented: TTL is only clean-up, set by CloudFormation, never relied on", async () => {
    const error = await rejection(
      raw.send(
        new UpdateTimeToLiveCommand({
          TableName: tables.consumers,
          TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
        }),
      ),
    );

    expect(error.name).toBe("UnknownOperationException");
  });
});
