import { describe, expect, it } from "vitest";
import { compilePolicy, denies } from "../../harness/local/secrets-manager/resource-policy";
import { buildReadPolicy } from "../../src/core/read-policy/policy";

const SECRET = "arn:aws:secretsmanager:us-east-1:000000000000:secret:keyshift/exchange/a/t-AbCdEf";
const deny = (condition?: Record<string, unknown>, action: unknown = "secretsmanager:GetSecretValue") =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Effect: "Deny", Principal: { AWS: "*" }, Action: action, Resource: "*", Condition: condition },
    ],
  });
const check = (policy: string, principalArn: string | undefined, action = "secretsmanager:GetSecretValue") =>
  denies(compilePolicy(policy, true), { action, resourceArn: SECRET, principalArn });

describe("the emulator's policy evaluation (what keyshift's read policy can contain)", () => {
  it("enforces keyshift's own read policy: registered roles with any path read, others do not", () => {
    const { document } = buildReadPolicy({
      secretId: "keyshift/exchange/a/t",
      consumers: ["arn:aws:iam::111122223333:role/engine"],
      keyshift: ["arn:aws:iam::000000000000:role/keyshift-local-functions"],
    });

    expect(check(document, "arn:aws:iam::111122223333:role/trading/engine")).toBe(false);
    expect(check(document, "arn:aws:iam::111122223333:role/engine")).toBe(false);
    expect(check(document, "arn:aws:iam::000000000000:role/keyshift-local-functions")).toBe(false);
    expect(check(document, "arn:aws:iam::111122223333:role/engine-2")).toBe(true);
    expect(check(document, "arn:aws:iam::999988887777:role/engine")).toBe(true);
    expect(check(document, undefined)).toBe(true);
    // Only the action it names.
    expect(check(document, "arn:aws:iam::999988887777:role/x", "secretsmanager:DescribeSecret")).toBe(false);
  });

  it("matches ARNs part by part: a wildcard never spans a colon; StringNotLike does", () => {
    const arnPolicy = deny({ ArnNotLike: { "aws:PrincipalArn": "arn:aws:iam::1*" } });
    const stringPolicy = deny({ StringNotLike: { "aws:PrincipalArn": "arn:aws:iam::1*" } });

    expect(check(arnPolicy, "arn:aws:iam::123456789012:role/x")).toBe(true);
    expect(check(stringPolicy, "arn:aws:iam::123456789012:role/x")).toBe(false);
    expect(
      check(
        deny({ ArnNotLike: { "aws:PrincipalArn": "arn:aws:iam::12345678901?:role/x" } }),
        "arn:aws:iam::123456789012:role/x",
      ),
    ).toBe(false);
  });

  it("reads operators and keys case-insensitively, actions too; values case-sensitively", () => {
    const policy = deny(
      { arnnotlike: { "AWS:PRINCIPALARN": ["arn:aws:iam::1:role/Reader"] } },
      "SecretsManager:Get*",
    );

    expect(check(policy, "arn:aws:iam::1:role/Reader")).toBe(false);
    expect(check(policy, "arn:aws:iam::1:role/reader")).toBe(true);
  });

  it("ANDs several operators and NORs the values of one", () => {
    const policy = deny({
      ArnNotLike: { "aws:PrincipalArn": ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"] },
      StringNotLike: { "aws:PrincipalArn": "*:role/c" },
    });

    expect(check(policy, "arn:aws:iam::1:role/a")).toBe(false);
    expect(check(policy, "arn:aws:iam::1:role/c")).toBe(false);
    expect(check(policy, "arn:aws:iam::1:role/d")).toBe(true);
    expect(check(deny(), "arn:aws:iam::1:role/a")).toBe(true);
  });

  it.each([
    ["an operator it does not evaluate", deny({ StringEquals: { "aws:PrincipalArn": "x" } })],
    ["another condition key", deny({ ArnNotLike: { "aws:SourceArn": "x" } })],
    [
      "NotAction",
      JSON.stringify({ Statement: [{ Effect: "Deny", Principal: "*", NotAction: "x", Resource: "*" }] }),
    ],
    [
      "a Deny to a named principal",
      JSON.stringify({
        Statement: [
          { Effect: "Deny", Principal: { AWS: "arn:aws:iam::1:root" }, Action: "*", Resource: "*" },
        ],
      }),
    ],
    [
      "an Allow",
      JSON.stringify({
        Statement: [
          { Effect: "Allow", Principal: { AWS: "arn:aws:iam::1:root" }, Action: "*", Resource: "*" },
        ],
      }),
    ],
  ])("refuses %s instead of ignoring it", (_what, policy) => {
    expect(() => compilePolicy(policy, true)).toThrow(/cannot enforce/);
  });

  it("answers PublicPolicyException for an Allow to everyone only when asked to block it", () => {
    const everyone = JSON.stringify({
      Statement: [{ Effect: "Allow", Principal: "*", Action: "*", Resource: "*" }],
    });

    expect(() => compilePolicy(everyone, true)).toThrow(
      expect.objectContaining({ type: "PublicPolicyException" }),
    );
    expect(() => compilePolicy(everyone, false)).toThrow(
      expect.objectContaining({ type: "MalformedPolicyDocumentException" }),
    );
  });
});
