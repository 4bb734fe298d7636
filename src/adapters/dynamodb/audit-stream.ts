import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBStreamEvent } from "aws-lambda";
import type { AuditStreamRecord } from "../../core/audit/archive";

/**
 * The audit table's stream records (view type NEW_IMAGE) as the core reads them: the sequence
 * number a batch failure names, the change, and the new item as plain JSON. A record without a
 * sequence number cannot be reported back and is not one Lambda delivers.
 */
export function auditStreamRecords(event: DynamoDBStreamEvent): AuditStreamRecord[] {
  return event.Records.map((record, index) => {
    const image = record.dynamodb?.NewImage;
    return {
      id: record.dynamodb?.SequenceNumber ?? `#${index}`,
      eventName: record.eventName ?? "INSERT",
      ...(image ? { image: unmarshall(image as Record<string, AttributeValue>) } : {}),
    };
  });
}
