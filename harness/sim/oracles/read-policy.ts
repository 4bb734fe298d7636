/**
 * The read policy equals the registry (BRIEF: "Only registered consumers (and keyshift's own roles)
 * may read an enrolled secret: its resource policy is kept equal to the registry"), judged at
 * quiescence by reading the raw policy document as IAM would: one explicit Deny of
 * `secretsmanager:GetSecretValue` to every principal whose `aws:PrincipalArn` matches none of the
 * exception patterns. The readers are the patterns' principals; the product's builder is not used.
 */
import type { Violation } from "../world";

const v = (signature: string, message: string): Violation => ({
  invariant: "I9",
  signature: `I9: ${signature}`,
  message,
});

interface Statement {
  Effect?: string;
  Principal?: unknown;
  Action?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** The principals a document lets read the value, or undefined when it denies nobody (no guard). */
export function readersOf(document: string | undefined): Set<string> | undefined {
  if (!document) return undefined;
  let statements: Statement[];
  try {
    const parsed = JSON.parse(document) as { Statement?: Statement | Statement[] };
    statements = Array.isArray(parsed.Statement)
      ? parsed.Statement
      : parsed.Statement
        ? [parsed.Statement]
        : [];
  } catch {
    return undefined;
  }
  for (const s of statements) {
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    const denyAll = s.Effect === "Deny" && s.Principal === "*";
    if (!denyAll || !actions.some((a) => a === "secretsmanager:GetSecretValue" || a === "secretsmanager:*"))
      continue;
    const except = s.Condition?.ArnNotLike?.["aws:PrincipalArn"];
    const patterns = Array.isArray(except) ? except : except ? [except] : [];
    // `role/*/NAME` is the same role under any path: it names the reader `role/NAME`.
    return new Set(patterns.map((p) => p.replace(/:role\/\*\//, ":role/").replace(/:user\/\*\//, ":user/")));
  }
  return undefined;
}

/** The policy on `secretId` lets exactly the registered principals and keyshift's readers read. */
export function checkReadPolicy(
  secretId: string,
  document: string | undefined,
  registered: readonly string[],
  keyshiftReaders: readonly string[],
): Violation[] {
  const readers = readersOf(document);
  if (!readers) {
    return [v("read policy guards nothing", `${secretId} has no Deny of GetSecretValue: anyone may read it`)];
  }
  const expected = new Set([...registered, ...keyshiftReaders]);
  const extra = [...readers].filter((p) => !expected.has(p) || p.includes("*"));
  const missing = [...expected].filter((p) => !readers.has(p));
  if (extra.length === 0 && missing.length === 0) return [];
  return [
    v(
      "read policy differs from the registry",
      `${secretId}: may read but not registered: [${extra.join(", ")}]; registered but denied: [${missing.join(", ")}]`,
    ),
  ];
}
