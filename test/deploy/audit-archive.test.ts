import { describe, expect, it } from "vitest";
import { auditArchiveResources, MIN_RETENTION_DAYS } from "../../infra/audit-archive.cjs";
import { checkTemplate, describeProblems } from "./cfn-spec";
import type { Template } from "./packaged";

const build = (retentionDays: string | number) =>
  auditArchiveResources({ retentionDays, stackName: "keyshift-dev" });
const retentionOf = (days: string | number) =>
  (
    (build(days).Resources.AuditArchiveBucket as { Properties: Record<string, unknown> }).Properties
      .ObjectLockConfiguration as {
      Rule: { DefaultRetention: { Mode: string; Days: number } };
    }
  ).Rule.DefaultRetention;

describe("--param auditRetentionDays (infra/audit-archive.cjs)", () => {
  it("takes a retention of 90 days or more, in COMPLIANCE mode", () => {
    expect(retentionOf("90")).toEqual({ Mode: "COMPLIANCE", Days: 90 });
    expect(retentionOf(2555)).toEqual({ Mode: "COMPLIANCE", Days: 2555 });
  });

  it("refuses less than the source article's 90 days, and anything not a whole number of days", () => {
    expect(MIN_RETENTION_DAYS).toBe(90);
    for (const bad of ["89", "0", "-90", "90.5", "ninety", "", "36501"]) {
      expect(() => build(bad), bad).toThrow(/auditRetentionDays must be a whole number of days from 90/);
    }
  });
});

describe("the audit archive's resources against the CloudFormation spec", () => {
  // The fragment alone: a mistyped property fails here without packaging the whole stack.
  it("knows every type and property, each value of its type", () => {
    const problems = checkTemplate({ Resources: build(90).Resources } as unknown as Template);
    expect(problems, describeProblems(problems)).toEqual([]);
    // Can fail: a misspelled property is a problem.
    const typo = build(90).Resources;
    (typo.AuditArchiveBucket as { Properties: Record<string, unknown> }).Properties.ObjectLockEnable = true;
    expect(checkTemplate({ Resources: typo } as unknown as Template)).not.toEqual([]);
  });
});
