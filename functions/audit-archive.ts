import middy from "@middy/core";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { auditStreamRecords } from "../src/adapters/dynamodb/audit-stream";
import { loadConfig } from "../src/commons/config";
import { logger } from "../src/commons/logger";
import { stepLogging } from "../src/commons/middleware";
import { alerts, auditArchive, compose } from "../src/commons/wiring";
import { archiveAuditRecords } from "../src/core/audit/archive";

// Throws at cold start without KEYSHIFT_AUDIT_ARCHIVE_BUCKET: nothing to archive to.
const deps = compose(loadConfig(), { archive: auditArchive, alerts });

/**
 * The audit table's stream (NEW_IMAGE, infra/audit-archive.cjs) to the Object Lock archive, in
 * order. A failed record is reported (ReportBatchItemFailures) and Lambda redelivers the batch from
 * it, so no entry is archived after one that is not; a redelivered entry finds its own bytes there.
 */
export async function auditArchiveBatch(
  event: DynamoDBStreamEvent,
  d: Parameters<typeof archiveAuditRecords>[1] = deps,
): Promise<DynamoDBBatchResponse> {
  const outcome = await archiveAuditRecords(auditStreamRecords(event), d);
  logger.info("audit archived", {
    archived: outcome.archived,
    alreadyArchived: outcome.alreadyArchived,
    skipped: outcome.skipped,
    conflicts: outcome.conflicts.length,
    failedAt: outcome.failedAt,
    failure: outcome.failure,
  });
  if (outcome.conflicts.length > 0) logger.error("audit archive conflict", { conflicts: outcome.conflicts });
  return { batchItemFailures: outcome.failedAt ? [{ itemIdentifier: outcome.failedAt }] : [] };
}

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(stepLogging("audit-archive"))
  .handler((event) => auditArchiveBatch(event));
