import { describe, expect, it } from "vitest";
import { resource, type Template } from "./packaged";

/**
 * The audit archive as packaged (infra/audit-archive.cjs, the auditArchive function): run by
 * test/deploy/template.test.ts on its one compiled template.
 */
export function auditArchiveSuites(compiled: () => Template): void {
  describe("audit archive: Object Lock bucket fed from the audit table's stream", () => {
    it("locks every object version in COMPLIANCE mode for 90 days by default, versioned, never public", () => {
      const bucket = resource(compiled(), "AuditArchiveBucket") as unknown as {
        DeletionPolicy: string;
        Properties: Record<string, unknown>;
      };
      expect(bucket.DeletionPolicy).toBe("Retain");
      expect(bucket.Properties).toMatchObject({
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: "Enabled",
          Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: 90 } },
        },
        VersioningConfiguration: { Status: "Enabled" },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      });
    });

    it("denies plain HTTP, a put without If-None-Match, a put by anyone but the archive function, and deletes", () => {
      const doc = resource(compiled(), "AuditArchiveBucketPolicy").Properties.PolicyDocument as {
        Statement: Array<Record<string, unknown>>;
      };
      const bySid = Object.fromEntries(doc.Statement.map((s) => [s.Sid, s]));
      expect(doc.Statement.every((s) => s.Effect === "Deny")).toBe(true);
      expect(bySid.DenyInsecureTransport?.Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
      expect(bySid.DenyPutWithoutIfNoneMatch).toMatchObject({
        Action: "s3:PutObject",
        Condition: { Null: { "s3:if-none-match": "true" } },
      });
      expect(bySid.OnlyTheArchiveFunctionWrites?.Condition).toEqual({
        ArnNotEquals: { "aws:PrincipalArn": { "Fn::GetAtt": ["AuditArchiveIamRoleLambdaExecution", "Arn"] } },
      });
      expect(bySid.DenyDeletes?.Action).toEqual(["s3:DeleteObject", "s3:DeleteObjectVersion"]);
    });

    it("streams the audit table's new images to the archive function, in order, reporting failed items", () => {
      const table = resource(compiled(), "AuditTable").Properties;
      expect(table.StreamSpecification).toEqual({ StreamViewType: "NEW_IMAGE" });
      const mapping = resource(compiled(), "AuditArchiveEventSourceMappingDynamodbAuditTable").Properties;
      expect(mapping).toMatchObject({
        EventSourceArn: { "Fn::GetAtt": ["AuditTable", "StreamArn"] },
        FunctionName: { "Fn::GetAtt": ["AuditArchiveLambdaFunction", "Arn"] },
        StartingPosition: "TRIM_HORIZON",
        ParallelizationFactor: 1,
        MaximumRetryAttempts: -1,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
      });
      const env = resource(compiled(), "AuditArchiveLambdaFunction").Properties.Environment as {
        Variables: Record<string, unknown>;
      };
      expect(env.Variables.KEYSHIFT_AUDIT_ARCHIVE_BUCKET).toEqual({ Ref: "AuditArchiveBucket" });
    });

    it("alarms when the archive falls behind or fails, and outputs the bucket for `audit verify`", () => {
      for (const id of ["AuditArchiveIteratorAgeAlarm", "AuditArchiveErrorsAlarm"]) {
        expect(resource(compiled(), id).Properties.AlarmActions, id).toEqual([{ Ref: "AlertTopic" }]);
      }
      expect(compiled().Outputs?.KeyshiftAuditArchiveBucket).toMatchObject({
        Value: { Ref: "AuditArchiveBucket" },
      });
    });
  });
}
