import { describe, expect, it } from "vitest";
import { ConfigurationError, ReadPolicyTooLargeError } from "../../src/core/errors";
import { detectPolicyDrift } from "../../src/core/read-policy/drift";
import {
  buildReadPolicy,
  GUARD_SID,
  MAX_RESOURCE_POLICY_CHARS,
  READ_POLICY_SID,
  readerPatterns,
} from "../../src/core/read-policy/policy";

const KEYSHIFT = "arn:aws:iam::123456789012:role/keyshift-prod-createNext";
const role = (name: string, account = "111122223333") => `arn:aws:iam::${account}:role/${name}`;
const base = { secretId: "keyshift/exchange/acme/trading", keyshift: [KEYSHIFT] };

describe("buildReadPolicy: the registry as one explicit Deny", () => {
  it("denies GetSecretValue to everyone but the readers, by aws:PrincipalArn with ArnNotLike", () => {
    const policy = buildReadPolicy({ ...base, consumers: [role("trading-engine")] });

    expect(JSON.parse(policy.document)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: READ_POLICY_SID,
          Effect: "Deny",
          Principal: "*",
          Action: ["secretsmanager:GetSecretValue"],
          Resource: "*",
          Condition: {
            ArnNotLike: {
              "aws:PrincipalArn": [
                "arn:aws:iam::111122223333:role/trading-engine",
                "arn:aws:iam::111122223333:role/*/trading-engine",
                KEYSHIFT,
                "arn:aws:iam::123456789012:role/*/keyshift-prod-createNext",
              ],
            },
          },
        },
        {
          Sid: GUARD_SID,
          Effect: "Deny",
          Principal: "*",
          Action: [
            "secretsmanager:DeleteResourcePolicy",
            "secretsmanager:PutResourcePolicy",
            "secretsmanager:PutSecretValue",
            "secretsmanager:UpdateSecret",
          ],
          Resource: "*",
          Condition: {
            ArnNotLike: {
              "aws:PrincipalArn": [KEYSHIFT, "arn:aws:iam::123456789012:role/*/keyshift-prod-createNext"],
            },
          },
        },
      ],
    });
    expect(policy.readers).toEqual(["arn:aws:iam::111122223333:role/trading-engine", KEYSHIFT]);
    expect(policy.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("lets a role through with or without a path, but no other role, and a session by its role", () => {
    // aws:PrincipalArn of a session of role /trading/engine is arn:...:role/trading/engine.
    const [plain, pathed] = readerPatterns("arn:aws:sts::111122223333:assumed-role/engine/i-1");

    expect(plain).toBe("arn:aws:iam::111122223333:role/engine");
    expect(pathed).toBe("arn:aws:iam::111122223333:role/*/engine");
    expect(readerPatterns("arn:aws:iam::111122223333:role/trading/engine")).toEqual([plain, pathed]);
  });

  it("gives the same bytes for the same registry in any order, and counts each reader once", () => {
    const a = buildReadPolicy({ ...base, consumers: [role("b"), role("a"), role("a")] });
    const b = buildReadPolicy({ ...base, consumers: [role("a"), role("trading/b")] });

    expect(a.document).toBe(b.document);
    expect(a.readers).toHaveLength(3);
  });

  it("refuses to build a policy that would lock keyshift's own CreateNext out", () => {
    expect(() => buildReadPolicy({ ...base, keyshift: [], consumers: [role("a")] })).toThrow(
      ConfigurationError,
    );
    expect(() => buildReadPolicy({ ...base, keyshift: [], consumers: [] })).toThrow(
      /KEYSHIFT_READER_ROLE_ARNS/,
    );
  });

  it("fails clearly past Secrets Manager's 20,480 characters, and fits right up to it", () => {
    const consumers = (n: number) =>
      Array.from({ length: n }, (_, i) => role(`svc-${String(i).padStart(4, "0")}`));
    const builds = (n: number) => {
      try {
        return buildReadPolicy({ ...base, consumers: consumers(n) }).document.length;
      } catch {
        return undefined;
      }
    };
    let fits = 0;
    while (builds(fits + 1) !== undefined) fits += 1;
    // ~230 roles with 31-character ARNs; the last one that fits is within one reader of the limit.
    expect(fits).toBeGreaterThan(200);
    expect(builds(fits)).toBeGreaterThan(MAX_RESOURCE_POLICY_CHARS - 90);

    const over = () => buildReadPolicy({ ...base, consumers: consumers(fits + 1) });
    expect(over).toThrow(ReadPolicyTooLargeError);
    expect(over).toThrow(/over Secrets Manager's 20480/);
    expect(over).toThrow(`for ${fits + 2} readers`);
  });
});

describe("detectPolicyDrift", () => {
  const expected = buildReadPolicy({ ...base, consumers: [role("engine"), role("gateway")] });
  const edit = (change: (doc: { Statement: Record<string, unknown>[] }) => void): string => {
    const doc = JSON.parse(expected.document) as { Statement: Record<string, unknown>[] };
    change(doc);
    return JSON.stringify(doc, null, 2);
  };
  const exceptionsOf = (doc: { Statement: Record<string, unknown>[] }) =>
    (doc.Statement[0] as { Condition: { ArnNotLike: { "aws:PrincipalArn": string[] } } }).Condition
      .ArnNotLike["aws:PrincipalArn"];
  const kinds = (actual: string | undefined) => detectPolicyDrift(actual, expected).map((f) => f.kind);

  it("finds nothing when the policy is keyshift's, whatever its formatting", () => {
    expect(detectPolicyDrift(expected.document, expected)).toEqual([]);
    expect(
      detectPolicyDrift(
        edit(() => undefined),
        expected,
      ),
    ).toEqual([]);
  });

  it("reports a missing or unreadable policy", () => {
    expect(kinds(undefined)).toEqual(["policy-missing"]);
    expect(kinds("{not json")).toEqual(["policy-unreadable"]);
    expect(kinds(JSON.stringify({ Version: "2012-10-17" }))).toEqual(["policy-unreadable"]);
  });

  it("reports a principal let through that the registry does not know, naming it", () => {
    const findings = detectPolicyDrift(
      edit((doc) => exceptionsOf(doc).push("arn:aws:iam::999988887777:role/intruder")),
      expected,
    );

    expect(findings).toEqual([
      expect.objectContaining({
        kind: "extra-reader",
        severity: "high",
        pattern: "arn:aws:iam::999988887777:role/intruder",
        fix: expect.stringContaining("keyshift enroll"),
      }),
    ]);
  });

  it("reports a registered consumer the policy denies", () => {
    const findings = detectPolicyDrift(
      edit((doc) => {
        const list = exceptionsOf(doc);
        list.splice(list.indexOf("arn:aws:iam::111122223333:role/gateway"), 1);
      }),
      expected,
    );

    expect(findings.map((f) => [f.kind, f.pattern])).toEqual([
      ["reader-denied", "arn:aws:iam::111122223333:role/gateway"],
    ]);
  });

  it("reports the Deny removed or weakened, and a condition it cannot check", () => {
    expect(kinds(edit((doc) => doc.Statement.shift()))).toEqual(["deny-missing"]);
    expect(kinds(edit((doc) => Object.assign(doc.Statement[0] ?? {}, { Effect: "Allow" })))).toEqual([
      "deny-missing",
    ]);
    expect(
      kinds(
        edit((doc) => Object.assign(doc.Statement[0] ?? {}, { Action: ["secretsmanager:DescribeSecret"] })),
      ),
    ).toEqual(["action-not-denied"]);
    expect(
      kinds(
        edit((doc) =>
          Object.assign(doc.Statement[0] ?? {}, {
            Condition: { StringNotEquals: { "aws:PrincipalAccount": "111122223333" } },
          }),
        ),
      ),
    ).toEqual(["condition-changed"]);
  });

  it("reports a policy that no longer guards itself: the guard gone, weakened, or letting others write", () => {
    const guard = (doc: { Statement: Record<string, unknown>[] }) => doc.Statement[1] ?? {};
    expect(kinds(edit((doc) => doc.Statement.pop()))).toEqual(["guard-missing"]);
    expect(kinds(edit((doc) => Object.assign(guard(doc), { Effect: "Allow" })))).toEqual(["guard-missing"]);
    const withoutDelete = detectPolicyDrift(
      edit((doc) => Object.assign(guard(doc), { Action: ["secretsmanager:PutSecretValue"] })),
      expected,
    );
    expect(withoutDelete).toEqual([
      expect.objectContaining({
        kind: "guard-missing",
        severity: "high",
        message: expect.stringContaining(
          "secretsmanager:DeleteResourcePolicy, secretsmanager:PutResourcePolicy",
        ),
      }),
    ]);
    const exceptions = (doc: { Statement: Record<string, unknown>[] }) =>
      (guard(doc) as { Condition: { ArnNotLike: { "aws:PrincipalArn": string[] } } }).Condition.ArnNotLike[
        "aws:PrincipalArn"
      ];
    expect(kinds(edit((doc) => exceptions(doc).push("arn:aws:iam::123456789012:role/admin")))).toEqual([
      "guard-changed",
    ]);
    // A wildcard covers the actions: still guarded.
    expect(kinds(edit((doc) => Object.assign(guard(doc), { Action: "secretsmanager:*" })))).toEqual([]);
  });

  it("lets keyshift's writers through the guard, and only through the guard", () => {
    const OPERATOR_API = "arn:aws:iam::123456789012:role/keyshift-prod-operatorApi";
    const policy = buildReadPolicy({ ...base, consumers: [role("engine")], writers: [OPERATOR_API] });
    expect(policy.writers).toEqual([KEYSHIFT, OPERATOR_API].sort());
    expect(policy.patterns).not.toContain(OPERATOR_API);
    expect(policy.writerPatterns).toContain(OPERATOR_API);
    expect(policy.writerPatterns).not.toContain(role("engine"));
    // The registry's policy without the writer lets the operator API through: drift.
    expect(detectPolicyDrift(policy.document, expected).map((f) => f.kind)).toContain("guard-changed");
  });

  it("reports Allow statements (public ones apart) and other Deny statements", () => {
    const extra = (statement: Record<string, unknown>) => edit((doc) => doc.Statement.push(statement));

    expect(
      kinds(extra({ Effect: "Allow", Principal: "*", Action: "secretsmanager:*", Resource: "*" })),
    ).toEqual(["public-allow"]);
    expect(
      kinds(
        extra({
          Effect: "Allow",
          Principal: { AWS: role("x") },
          Action: "secretsmanager:GetSecretValue",
          Resource: "*",
        }),
      ),
    ).toEqual(["allow-statement"]);
    const other = detectPolicyDrift(
      extra({ Sid: "Extra", Effect: "Deny", Principal: "*", Action: "*", Resource: "*" }),
      expected,
    );
    expect(other.map((f) => [f.kind, f.severity])).toEqual([["extra-statement", "low"]]);
  });
});
