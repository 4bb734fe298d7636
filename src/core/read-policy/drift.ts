/**
 * Drift between a secret's actual resource policy and the one the registry calls for (pure).
 * `keyshift status` and the hygiene audit report these findings; re-enrolling the secret
 * (`keyshift enroll <secret>`, which re-applies the read policy) fixes every one of them.
 */
import {
  DENIED_READ_ACTIONS,
  GUARD_SID,
  GUARDED_ACTIONS,
  READ_POLICY_SID,
  READER_CONDITION,
  type ReadPolicy,
} from "./policy";

export type PolicyDriftKind =
  /** No resource policy at all: anyone an identity policy allows can read the key. */
  | "policy-missing"
  /** Not a JSON policy document keyshift can read. */
  | "policy-unreadable"
  /** keyshift's Deny statement is gone (or no longer a Deny to everyone on this secret). */
  | "deny-missing"
  /** An action keyshift denies is no longer in the statement. */
  | "action-not-denied"
  /** The statement's condition is not the single ArnNotLike on aws:PrincipalArn keyshift writes. */
  | "condition-changed"
  /** A principal not in the registry is let through the Deny: it can read without being waited for. */
  | "extra-reader"
  /** A registered consumer (or keyshift's own role) is denied: it will fail to read the new key. */
  | "reader-denied"
  /** An Allow statement to any principal ("*"): the broad access BlockPublicPolicy is there to refuse. */
  | "public-allow"
  /** Another Allow statement: access granted outside the registry (cross-account, say). */
  | "allow-statement"
  /** Another Deny statement: narrows access further; reported so nobody is surprised by it. */
  | "extra-statement"
  /**
   * keyshift's guard (GUARD_SID) is gone, no longer denies everyone, or no longer denies one of the
   * guarded actions: whoever an identity policy lets remove the policy can remove it and then read.
   */
  | "guard-missing"
  /** The guard lets through a principal that is not keyshift's writer, or denies one that is. */
  | "guard-changed";

export type DriftSeverity = "high" | "medium" | "low";

export interface PolicyDriftFinding {
  kind: PolicyDriftKind;
  severity: DriftSeverity;
  message: string;
  /** The `aws:PrincipalArn` pattern concerned, for extra-reader / reader-denied. */
  pattern?: string;
  fix: string;
}

interface Statement {
  Sid?: unknown;
  Effect?: unknown;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: unknown;
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const isEveryone = (p: unknown): boolean =>
  p === "*" ||
  (typeof p === "object" && p !== null && asList((p as Record<string, unknown>).AWS).includes("*"));

function statementsOf(text: string): Statement[] | undefined {
  try {
    const doc = JSON.parse(text) as { Statement?: unknown };
    if (typeof doc !== "object" || doc === null || doc.Statement === undefined) return undefined;
    const list = asList(doc.Statement);
    return list.every((s) => typeof s === "object" && s !== null) ? (list as Statement[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The exception patterns of keyshift's statement, or why they cannot be read. Condition operator
 * and key names are matched case-insensitively, as IAM does.
 */
function exceptions(statement: Statement): string[] | undefined {
  const condition = statement.Condition;
  if (typeof condition !== "object" || condition === null) return undefined;
  const operators = Object.entries(condition as Record<string, unknown>);
  if (operators.length !== 1) return undefined;
  const [[operator, keys] = ["", undefined]] = operators;
  if (operator.toLowerCase() !== READER_CONDITION.operator.toLowerCase()) return undefined;
  if (typeof keys !== "object" || keys === null) return undefined;
  const entries = Object.entries(keys as Record<string, unknown>);
  if (entries.length !== 1) return undefined;
  const [[key, values] = ["", undefined]] = entries;
  if (key.toLowerCase() !== READER_CONDITION.key.toLowerCase()) return undefined;
  const list = asList(values);
  return list.every((v) => typeof v === "string") ? (list as string[]) : undefined;
}

/**
 * Compares the policy on the secret (`actual`, undefined when there is none) with the one the
 * registry calls for. Returns one finding per difference; none means the policy is what keyshift
 * would write, whatever its formatting.
 */
export function detectPolicyDrift(actual: string | undefined, expected: ReadPolicy): PolicyDriftFinding[] {
  if (actual === undefined) {
    return [
      {
        kind: "policy-missing",
        severity: "high",
        message: "the secret has no resource policy: every principal an identity policy allows can read it",
        fix: FIX,
      },
    ];
  }
  const statements = statementsOf(actual);
  if (!statements) {
    return [
      {
        kind: "policy-unreadable",
        severity: "high",
        message: "the resource policy is not a policy document",
        fix: FIX,
      },
    ];
  }
  const ours = statements.find((s) => s.Sid === READ_POLICY_SID);
  const guard = statements.find((s) => s.Sid === GUARD_SID);
  const findings = [
    ...otherStatements(statements.filter((s) => s !== ours && s !== guard)),
    ...guardFindings(guard, expected),
  ];
  if (!ours || !deniesEveryone(ours)) {
    findings.push({
      kind: "deny-missing",
      severity: "high",
      message: `keyshift's Deny statement (${READ_POLICY_SID}) is missing or no longer denies everyone on this secret`,
      fix: FIX,
    });
    return findings;
  }
  findings.push(...actionsNotDenied(ours));
  const patterns = exceptions(ours);
  if (!patterns) {
    findings.push({
      kind: "condition-changed",
      severity: "high",
      message: `the Deny's condition is not one ${READER_CONDITION.operator} on ${READER_CONDITION.key}: who it lets through cannot be checked`,
      fix: FIX,
    });
    return findings;
  }
  findings.push(...readersDiffering(patterns, expected.patterns));
  return findings;
}

const FIX = "keyshift enroll <secretId> (re-applies the read policy from the registry)";

/** Is each of `wanted` among `actions` (or covered by a wildcard)? The missing ones. */
function notCovered(actions: unknown, wanted: readonly string[]): string[] {
  const have = asList(actions).map((a) => String(a).toLowerCase());
  return wanted.filter(
    (a) => !have.includes(a.toLowerCase()) && !have.includes("secretsmanager:*") && !have.includes("*"),
  );
}

/** The guard must deny everyone its actions, with exactly keyshift's writers let through. */
function guardFindings(guard: Statement | undefined, expected: ReadPolicy): PolicyDriftFinding[] {
  const missing = (why: string): PolicyDriftFinding[] => [
    {
      kind: "guard-missing",
      severity: "high",
      message: `keyshift's guard (${GUARD_SID}) ${why}: a principal allowed to remove or replace the policy can then read the key`,
      fix: FIX,
    },
  ];
  if (!guard) return missing("is missing");
  if (!deniesEveryone(guard)) return missing("no longer denies everyone on this secret");
  const open = notCovered(guard.Action, GUARDED_ACTIONS);
  if (open.length > 0) return missing(`no longer denies ${open.join(", ")}`);
  const patterns = exceptions(guard);
  const want = new Set(expected.writerPatterns);
  const changed = patterns
    ? [
        ...patterns.filter((p) => !want.has(p)).map((p) => `${p} may write the secret or its policy`),
        ...expected.writerPatterns
          .filter((p) => !patterns.includes(p))
          .map((p) => `keyshift's ${p} is denied`),
      ]
    : ["its condition is not one ArnNotLike on aws:PrincipalArn"];
  return changed.map((why) => ({
    kind: "guard-changed",
    severity: "high",
    message: `guard ${GUARD_SID}: ${why}`,
    fix: FIX,
  }));
}

/** Statements that are not keyshift's: an Allow grants access outside the registry; a Deny only narrows it. */
function otherStatements(others: Statement[]): PolicyDriftFinding[] {
  return others.map((s) => {
    if (s.Effect === "Allow") {
      const everyone = isEveryone(s.Principal);
      return {
        kind: everyone ? "public-allow" : "allow-statement",
        severity: "high",
        message: `statement ${String(s.Sid ?? "(no Sid)")} allows ${everyone ? "every principal" : "principals outside the registry"}`,
        fix: FIX,
      };
    }
    return {
      kind: "extra-statement",
      severity: "low",
      message: `statement ${String(s.Sid ?? "(no Sid)")} is not keyshift's; it can only deny more`,
      fix: "review it; keyshift leaves other Deny statements out of its policy",
    };
  });
}

/** keyshift's statement still denies everyone, on this secret, with no Not* escape hatch. */
function deniesEveryone(ours: Statement): boolean {
  return (
    ours.Effect === "Deny" &&
    isEveryone(ours.Principal) &&
    ours.NotPrincipal === undefined &&
    ours.NotAction === undefined &&
    ours.NotResource === undefined &&
    asList(ours.Resource).includes("*")
  );
}

/** Each read action keyshift denies must still be in the statement (or covered by a wildcard). */
function actionsNotDenied(ours: Statement): PolicyDriftFinding[] {
  return notCovered(ours.Action, DENIED_READ_ACTIONS).map((action) => ({
    kind: "action-not-denied",
    severity: "high",
    message: `${action} is no longer denied`,
    fix: FIX,
  }));
}

/** Readers let through that the registry does not list, then registered readers the policy denies. */
function readersDiffering(patterns: string[], expected: string[]): PolicyDriftFinding[] {
  const want = new Set(expected);
  const have = new Set(patterns);
  return [
    ...patterns
      .filter((p) => !want.has(p))
      .map(
        (p): PolicyDriftFinding => ({
          kind: "extra-reader",
          severity: "high",
          pattern: p,
          message: `${p} may read the secret but is not a registered consumer nor a keyshift role`,
          fix: FIX,
        }),
      ),
    ...expected
      .filter((p) => !have.has(p))
      .map(
        (p): PolicyDriftFinding => ({
          kind: "reader-denied",
          severity: "high",
          pattern: p,
          message: `${p} is registered but the policy denies it: it cannot read the key`,
          fix: FIX,
        }),
      ),
  ];
}
