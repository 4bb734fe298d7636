/**
 * dynalite in a process of its own, for measurements: the server's CPU must not share an event
 * loop with the client being timed, or every microsecond the client spends is also a microsecond
 * the server waits. Started by `startDynamoProcess` (./heartbeat-throughput.ts); table names come
 * in `BENCH_TABLES` (JSON), the endpoint goes back over IPC; it exits when its parent goes away.
 */
import type { TableNames } from "../../src/adapters/dynamodb/client";
import { startDynamo } from "../local/dynamodb";

const names = JSON.parse(process.env.BENCH_TABLES ?? "{}") as TableNames;
const dynamo = await startDynamo({ names });
process.send?.({ endpoint: dynamo.endpoint });
process.on("disconnect", () => {
  void dynamo.close().finally(() => process.exit(0));
});
