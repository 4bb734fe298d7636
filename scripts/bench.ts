import { performance } from "node:perf_hooks";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { documentClient } from "../src/adapters/dynamodb/client";
import { fingerprint } from "../src/core/fingerprint";
import { ledgerEntryId } from "../src/core/tokens";
import { heartbeat } from "../src/core/use-cases/heartbeat";
import { newLedgerEntry } from "../src/core/use-cases/revocation";
import { SimulatedInstance } from "../src/local/consumers";
import { defaultConsumers, enrollLocalSecret, registerConsumers } from "../src/local/scenario";
import { captureLambdaLogs } from "../src/local/secret-scan";
import { startLocalStack } from "../src/local/stack";

/**
 * Benchmarks, measured side by side in one run (ratios, not absolute targets: the machine is shared).
 * 1. Heartbeat: a simulated consumer's cycle (SigV4-signed HTTP → API → middy handler → DynamoDB,
 *    plus one signed exchange call) vs the heartbeat use case in-process against the same DynamoDB.
 * 2. Sweeper: finding due revocations through the sparse `by-sweep` index vs a filtered Scan of the
 *    whole ledger, with many settled entries — why the index exists.
 */
const json = process.argv.includes("--json");
const logs = captureLambdaLogs();
const stack = await startLocalStack();
const enrolled = await enrollLocalSecret(stack);
const [spec] = defaultConsumers(enrolled.secretId, 1);
if (!spec) throw new Error("no consumer spec");
await registerConsumers(enrolled, [spec]);

async function timed(label: string, n: number, fn: (i: number) => Promise<unknown>) {
  for (let i = 0; i < Math.min(20, n); i++) await fn(i); // warm-up
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  const ms = performance.now() - start;
  return { label, n, totalMs: Math.round(ms), perOpMs: +(ms / n).toFixed(3) };
}

const N = 300;
const instance = new SimulatedInstance(stack, { ...spec, instances: 1 }, "bench-1");
const fp =
  (await enrolled.deps.store.getVersions(enrolled.secretId))?.current?.fingerprint ?? fingerprint("x");
const http = await timed("consumer cycle: SigV4 heartbeat + trade", N, () => instance.tick());
const direct = await timed("heartbeat use case in-process", N, () =>
  heartbeat(
    {
      callerArn: `arn:aws:sts::111122223333:assumed-role/${spec.consumerId}/bench-2`,
      secretId: enrolled.secretId,
      fingerprint: fp,
      instanceId: "bench-2",
    },
    enrolled.deps,
  ),
);

const SETTLED = 3000;
const DUE = 20;
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
const index = await timed("due revocations via sparse index", 30, () =>
  enrolled.deps.ledger.listDue(new Date(), 100),
);
const scan = await timed("due revocations via filtered Scan", 30, async () => {
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

await instance.stop();
db.destroy();
logs.restore();
await stack.close();

const report = {
  heartbeat: { http, direct, httpOverDirect: +(http.perOpMs / direct.perOpMs).toFixed(2) },
  sweeper: {
    settled: SETTLED,
    due: DUE,
    index,
    scan,
    scanOverIndex: +(scan.perOpMs / index.perOpMs).toFixed(1),
  },
};
if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
else {
  for (const r of [http, direct, index, scan])
    process.stdout.write(`${r.label.padEnd(40)} ${String(r.perOpMs).padStart(9)} ms/op  (n=${r.n})\n`);
  process.stdout.write(
    `consumer cycle (signed HTTP heartbeat through the API + one exchange call) costs ${report.heartbeat.httpOverDirect}x the bare heartbeat use case\n`,
  );
  process.stdout.write(
    `sweeper: filtered Scan costs ${report.sweeper.scanOverIndex}x the sparse index at ${SETTLED} settled + ${DUE} due entries\n`,
  );
}
process.exit(0);
