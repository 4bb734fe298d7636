"use strict";
/**
 * The audit archive: every audit entry, copied in order from the audit table's stream by the
 * auditArchive function (functions/audit-archive.ts) to an S3 bucket its writers cannot change.
 * - Object Lock in COMPLIANCE mode with a default retention (`--param auditRetentionDays=N`, 90 by
 *   default, refused below 90: the source article's 90-day retention is the floor): no one — the
 *   account's root included — can delete or shorten a retained version before it expires;
 * - versioning on (Object Lock needs it), public access blocked, bucket-owner-enforced ownership,
 *   encryption at rest, the bucket kept when the stack is deleted;
 * - the bucket policy: TLS only; a PutObject without `If-None-Match` is denied (condition key
 *   `s3:if-none-match`, "Enforce conditional writes"), so no key ever gets a second version; only
 *   the archive function's role may put; no one may delete an object or a version (a delete
 *   marker would hide an entry from a plain GET even though the version stays).
 * - alarms: the stream's iterator age (the archive falling behind) and the function's errors.
 *
 * CommonJS on purpose: osls `require()`s this file and the package is `"type": "module"`.
 */

const MIN_RETENTION_DAYS = 90;
/** S3 accepts up to 100 years of default retention. */
const MAX_RETENTION_DAYS = 36500;
const BUCKET = { Ref: "AuditArchiveBucket" };
const OBJECTS = { "Fn::Join": ["", [{ "Fn::GetAtt": ["AuditArchiveBucket", "Arn"] }, "/*"]] };
const WRITER_ROLE = { "Fn::GetAtt": ["AuditArchiveIamRoleLambdaExecution", "Arn"] };

/** The retention in days, or throws at package time: a typo must not ship a shorter retention. */
function retentionDays(value) {
  const text = String(value ?? "").trim();
  const days = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(days) || days < MIN_RETENTION_DAYS || days > MAX_RETENTION_DAYS) {
    throw new Error(
      `auditRetentionDays must be a whole number of days from ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS} ` +
        `(got "${text}"): compliance-mode retention can never be shortened once objects are written`,
    );
  }
  return days;
}

function bucketPolicy() {
  const everyone = { AWS: "*" };
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: everyone,
        Action: "s3:*",
        Resource: [{ "Fn::GetAtt": ["AuditArchiveBucket", "Arn"] }, OBJECTS],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "DenyPutWithoutIfNoneMatch",
        Effect: "Deny",
        Principal: everyone,
        Action: "s3:PutObject",
        Resource: OBJECTS,
        Condition: { Null: { "s3:if-none-match": "true" } },
      },
      {
        Sid: "OnlyTheArchiveFunctionWrites",
        Effect: "Deny",
        Principal: everyone,
        Action: "s3:PutObject",
        Resource: OBJECTS,
        Condition: { ArnNotEquals: { "aws:PrincipalArn": WRITER_ROLE } },
      },
      {
        Sid: "DenyDeletes",
        Effect: "Deny",
        Principal: everyone,
        Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
        Resource: OBJECTS,
      },
    ],
  };
}

function alarm(name, description, metric, threshold, statistic, stackName) {
  return {
    Type: "AWS::CloudWatch::Alarm",
    Properties: {
      AlarmName: `${stackName}-${name}`,
      AlarmDescription: description,
      Namespace: "AWS/Lambda",
      MetricName: metric,
      Dimensions: [{ Name: "FunctionName", Value: { Ref: "AuditArchiveLambdaFunction" } }],
      Statistic: statistic,
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: threshold,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
      AlarmActions: [{ Ref: "AlertTopic" }],
    },
  };
}

/**
 * @param {object} options
 * @param {string|number} options.retentionDays the default retention (`--param auditRetentionDays`)
 * @param {string} options.stackName `<service>-<stage>`, the prefix of the alarms' names
 */
function auditArchiveResources({ retentionDays: raw, stackName }) {
  const days = retentionDays(raw);
  return {
    Resources: {
      AuditArchiveBucket: {
        Type: "AWS::S3::Bucket",
        // The archive outlives the stack: deleting the stack must not be a way to lose the audit.
        DeletionPolicy: "Retain",
        UpdateReplacePolicy: "Retain",
        Properties: {
          ObjectLockEnabled: true,
          ObjectLockConfiguration: {
            ObjectLockEnabled: "Enabled",
            Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: days } },
          },
          VersioningConfiguration: { Status: "Enabled" },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } },
            ],
          },
        },
      },
      AuditArchiveBucketPolicy: {
        Type: "AWS::S3::BucketPolicy",
        Properties: { Bucket: BUCKET, PolicyDocument: bucketPolicy() },
      },
      AuditArchiveIteratorAgeAlarm: alarm(
        "audit-archive-behind",
        "The audit archive is more than 10 minutes behind the audit table's stream (records expire after 24 h): check the auditArchive function",
        "IteratorAge",
        600000,
        "Maximum",
        stackName,
      ),
      AuditArchiveErrorsAlarm: alarm(
        "audit-archive-errors",
        "The auditArchive function failed; the stream redelivers from the failed record",
        "Errors",
        1,
        "Sum",
        stackName,
      ),
    },
    Outputs: {
      KeyshiftAuditArchiveBucket: {
        Description:
          "The audit archive (Object Lock, compliance mode): KEYSHIFT_AUDIT_ARCHIVE_BUCKET for `keyshift audit verify`",
        Value: BUCKET,
      },
    },
  };
}

module.exports = {
  MIN_RETENTION_DAYS,
  retentionDays,
  auditArchiveResources,
  /** `${file(infra/audit-archive.cjs):resources}`: retention from `custom.auditArchive.retentionDays`. */
  resources: async ({ resolveVariable }) =>
    auditArchiveResources({
      retentionDays: await resolveVariable("self:custom.auditArchive.retentionDays"),
      stackName: `${await resolveVariable("self:service")}-${await resolveVariable("sls:stage")}`,
    }),
};
