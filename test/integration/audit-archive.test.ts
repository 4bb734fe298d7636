/**
 * The audit archive end to end on the local stack: a real rotation appends its entries, the local
 * stream hands each to the shipping auditArchive handler, which writes them to the local S3's Object
 * Lock bucket. Then an operator with write access to the audit table rewrites a trail — head and
 * entries together, a forgery the hash chain alone cannot see — and `keyshift audit verify` names the
 * trail and the first differing seq. The archive itself refuses to be overwritten or deleted.
 */
import { createHash } from "node:crypto";
import { DeleteObjectCommand, PutObjectCommand, S3Client, type S3ServiceException } from "@aws-sdk/client-s3";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBStreamEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Enrolled, enrollLocalSecret } from "../../harness/local/scenario";
import { type LocalStack, startLocalStack } from "../../harness/local/stack";
import { runRotation } from "../../harness/local/workflow-runner";
import { InMemoryAlerts, InMemoryAuditArchive } from "../../harness/memory";
import { documentClient } from "../../src/adapters/dynamodb/client";
import { archiveBody, archiveKey } from "../../src/core/audit/archive";
import { auditHeadFor, nextAuditEntry } from "../../src/core/audit/chain";
import type { AuditEntry } from "../../src/core/model";
import { keyshiftProcess } from "./support/keyshift-process";

let stack: LocalStack;
let enrolled: Enrolled;
beforeAll(async () => {
  stack = await startLocalStack({ seed: 18 });
  enrolled = await enrollLocalSecret(stack, { account: "archive-acct" });
  const result = await runRotation({ secretId: enrolled.secretId, trigger: "manual" } as never, {
    waitMs: 150,
    retryMs: 20,
  });
  expect(result.status).toBe("SUCCEEDED");
}, 60_000);
afterAll(async () => {
  await stack.close();
});

const keyshift = (...args: string[]) => keyshiftProcess(stack, args);

describe("the audit archive on the local stack", () => {
  it("holds every entry of the rotation, in order, byte for byte what the table holds", async () => {
    const entries = await enrolled.deps.audit.list(enrolled.secretId);
    expect(entries.map((e) => e.action)).toContain("rotation-completed");
    for (const entry of entries) {
      expect(
        await stack.archive.s3.buckets
          .read(stack.archive.bucket, archiveKey(enrolled.secretId, entry.seq))
          .body.toString(),
        `seq ${entry.seq}`,
      ).toBe(archiveBody(entry));
    }
    expect(stack.archive.stream.stuck).toEqual([]);

    const verified = await keyshift("audit", "verify", enrolled.secretId, "--json");
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout).archive).toMatchObject({
      ok: true,
      matching: entries.length,
      findings: [],
    });
  });

  it("the handler reads DynamoDB stream records and reports the first failed one by its sequence number", async () => {
    const { auditArchiveBatch } = await import("../../functions/audit-archive");
    const entries = (await enrolled.deps.audit.list(enrolled.secretId)).slice(0, 3);
    const event = {
      Records: entries.map((entry, i) => ({
        eventName: "INSERT",
        dynamodb: {
          SequenceNumber: String(100 + i),
          NewImage: marshall({ ...entry, stream: enrolled.secretId }, { removeUndefinedValues: true }),
        },
      })),
    } as unknown as DynamoDBStreamEvent;
    const archive = new InMemoryAuditArchive();
    archive.failing.add(archiveKey(enrolled.secretId, entries[1]?.seq ?? 0));

    const answer = await auditArchiveBatch(event, { archive, alerts: new InMemoryAlerts() });

    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: "101" }] });
    // The one before it is archived byte for byte as the table holds it; nothing after it.
    expect([...archive.objects.values()]).toEqual([archiveBody(entries[0] as AuditEntry)]);
  });

  it("refuses to overwrite or delete an archived entry", async () => {
    const s3 = new S3Client({
      region: stack.region,
      endpoint: stack.endpoints.s3,
      forcePathStyle: true,
      credentials: {
        accessKeyId: stack.env.AWS_ACCESS_KEY_ID ?? "",
        secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY ?? "",
        sessionToken: stack.env.AWS_SESSION_TOKEN,
      },
    });
    const Key = archiveKey(enrolled.secretId, 1);
    const forged = '{"forged":true}\n';
    const ChecksumSHA256 = createHash("sha256").update(forged).digest("base64");
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => "accepted",
        (e: S3ServiceException) => `${e.$metadata.httpStatusCode} ${e.name}`,
      );
    const Bucket = stack.archive.bucket;
    expect(await refusal(s3.send(new PutObjectCommand({ Bucket, Key, Body: forged, ChecksumSHA256 })))).toBe(
      "403 AccessDenied",
    );
    expect(
      await refusal(
        s3.send(new PutObjectCommand({ Bucket, Key, Body: forged, ChecksumSHA256, IfNoneMatch: "*" })),
      ),
    ).toBe("412 PreconditionFailed");
    expect(await refusal(s3.send(new DeleteObjectCommand({ Bucket, Key })))).toBe("403 AccessDenied");
    s3.destroy();
  });

  it("audit verify reports a trail rewritten in the table, head and entries together, at its first differing seq", async () => {
    const entries = await enrolled.deps.audit.list(enrolled.secretId);
    const keep = 2;
    // The forger rebuilds a consistent chain from seq 3 on and moves the head with it.
    const forged: AuditEntry[] = entries.slice(0, keep);
    for (const original of entries.slice(keep)) {
      const { seq: _s, at: _a, prevHash: _p, hash: _h, ...event } = original;
      const quieter =
        original.action === "rotation-completed" ? { ...event, action: "nothing-happened" } : event;
      forged.push(nextAuditEntry(forged.at(-1), quieter, new Date(original.at)));
    }
    const db = documentClient({
      endpoint: stack.endpoints.dynamodb,
      region: stack.region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const table = stack.tables.audit;
    for (const entry of forged.slice(keep)) {
      await db.send(new PutCommand({ TableName: table, Item: { ...entry, stream: enrolled.secretId } }));
    }
    const last = forged.at(-1) as AuditEntry;
    const head = auditHeadFor(last, true);
    await db.send(
      new PutCommand({
        TableName: table,
        Item: {
          stream: enrolled.secretId,
          seq: 0,
          headSeq: head.seq,
          headHash: head.hash,
          committed: true,
          entry: last,
        },
      }),
    );
    db.destroy();
    const firstChanged = forged.find((e, i) => e.hash !== entries[i]?.hash)?.seq;

    const verified = await keyshift("audit", "verify", enrolled.secretId, "--json");
    const text = await keyshift("audit", "verify", enrolled.secretId);

    expect(verified.code).toBe(3);
    const report = JSON.parse(verified.stdout);
    // The chain and its head agree with each other: only the archive tells.
    expect(report.ok).toBe(true);
    expect(report.archive.findings).toEqual([
      expect.objectContaining({ stream: enrolled.secretId, seq: firstChanged, kind: "differs" }),
    ]);
    expect(text.code).toBe(3);
    expect(text.stdout).toContain(`ARCHIVE MISMATCH: ${enrolled.secretId} at seq ${firstChanged}: differs`);
    // The stream delivered the rewrite too: alerted, and the archive kept the original.
    expect(stack.sns.messages().some((m) => JSON.stringify(m).includes("audit-archive-conflict"))).toBe(true);
    const archived = stack.archive.s3.buckets.read(
      stack.archive.bucket,
      archiveKey(enrolled.secretId, firstChanged ?? 0),
    );
    expect(archived.body.toString()).toBe(archiveBody(entries[(firstChanged ?? 0) - 1] as AuditEntry));
  });
});
