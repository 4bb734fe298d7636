import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { documentClient } from "../../src/adapters/dynamodb/client";
import { newLedgerEntry } from "../../src/core/revocation/through-ledger";
import { ledgerEntryId } from "../../src/core/tokens";
import type { Enrolled } from "../local/scenario";
import type { LocalStack } from "../local/stack";
import { round, throughput } from "./support";

/**
 * Finding due revocations through the sparse `by-sweep` index vs a filtered Scan of the whole
 * ledger, with many settled entries — why the index exists.
 */
export async function sweeperIndexVsScan(opts: {
  stack: LocalStack;
  enrolled: Enrolled;
  settled?: number;
  due?: number;
  calls?: number;
}) {
  const { stack, enrolled } = opts;
  const SETTLED = opts.settled ?? 3000;
  const DUE = opts.due ?? 20;
  const calls = opts.calls ?? 30;
  const now = new Date();
  for (let i = 0; i < SETTLED + DUE; i++) {
    const id = ledgerEntryId(enrolled.account, `k_bench${i}`);
    const entry = newLedgerEntry(
      {
        secretId: enrolled.secretId,
        exchangeAccount: enrolled.account,
        keyId: `k_bench${i}`,
        versionId: "v",
        rotationId: "bench",
      },
      id,
      new Date(now.getTime() - 3_600_000),
    );
    await enrolled.deps.ledger.openPending(entry);
    if (i < SETTLED) await enrolled.deps.ledger.markRevoked(id, now);
  }
  const db = documentClient({ region: stack.region, endpoint: stack.endpoints.dynamodb });
  const index = await throughput("due revocations via sparse index", calls, 1, () =>
    enrolled.deps.ledger.listDue(new Date(), 100),
  );
  const scan = await throughput("due revocations via filtered Scan", calls, 1, async () => {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    const due: unknown[] = [];
    do {
      const page = await db.send(
        new ScanCommand({
          TableName: stack.tables.ledger,
          FilterExpression: "#s <> :r AND needsOperator = :f AND nextAttemptAt <= :now",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: { ":r": "revoked", ":f": false, ":now": new Date().toISOString() },
          ExclusiveStartKey,
        }),
      );
      due.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    if (due.length !== DUE) throw new Error(`scan found ${due.length} due entries, expected ${DUE}`);
  });
  const found = await enrolled.deps.ledger.listDue(new Date(), 100);
  if (found.length !== DUE) throw new Error(`index found ${found.length} due entries, expected ${DUE}`);
  db.destroy();
  return {
    scanOverIndex: round(scan.perOpMs / index.perOpMs, 1),
    settled: SETTLED,
    due: DUE,
    indexMs: index.perOpMs,
    scanMs: scan.perOpMs,
  };
}
