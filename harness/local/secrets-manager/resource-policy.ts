/**
 * Resource policies as the emulator understands them. It enforces only what keyshift's read policy
 * can contain — `Deny` statements to every principal (`"*"`), on actions and resources given by name
 * or wildcard, with no condition or with `ArnNotLike` / `StringNotLike` on `aws:PrincipalArn` — and
 * refuses every other document at PutResourcePolicy rather than store a policy it would not enforce.
 *
 * IAM semantics followed: an explicit Deny wins; several values of one negated operator are a NOR
 * (true only when the principal matches none); several operators in one Condition are an AND; action
 * names and condition keys are case-insensitive; ARN matching compares each of the six `:`-separated
 * parts separately with `*` and `?` wildcards, case-sensitively.
 */
import { ServiceError } from "./errors";

export interface DenyStatement {
  actions: string[];
  resources: string[];
  /** Every entry must hold for the statement to apply; empty: applies to everyone. */
  conditions: Array<{ operator: "arnnotlike" | "stringnotlike"; values: string[] }>;
}

const VERSIONS = ["2012-10-17", "2008-10-17"];
const OPERATORS = new Set(["arnnotlike", "stringnotlike"]);

export const malformedPolicy = (message: string): ServiceError =>
  new ServiceError("MalformedPolicyDocumentException", message);

export const publicPolicy = (): ServiceError =>
  new ServiceError(
    "PublicPolicyException",
    "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.",
  );

/** The emulator's own refusal: the document is valid IAM, but not something it can enforce. */
const cannotEnforce = (what: string): ServiceError =>
  malformedPolicy(
    `The local Secrets Manager emulator cannot enforce ${what}; it enforces only Deny statements with ` +
      'Principal "*" and no condition or ArnNotLike/StringNotLike on aws:PrincipalArn, and refuses other ' +
      "policies rather than ignore them.",
  );

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

const isEveryone = (p: unknown): boolean =>
  p === "*" ||
  (typeof p === "object" &&
    p !== null &&
    !Array.isArray(p) &&
    asList((p as Record<string, unknown>).AWS).includes("*"));

function strings(v: unknown, member: string): string[] {
  const list = asList(v);
  if (v === undefined || list.length === 0 || !list.every((x) => typeof x === "string")) {
    throw malformedPolicy(
      `This resource policy contains a syntax error: ${member} must be a string or a list of strings.`,
    );
  }
  return list as string[];
}

function statementsOf(text: string): Record<string, unknown>[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformedPolicy("This resource policy contains a syntax error: it is not valid JSON.");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw malformedPolicy("This resource policy contains a syntax error: it must be a JSON object.");
  }
  const { Version, Statement } = doc as Record<string, unknown>;
  if (Version !== undefined && !VERSIONS.includes(String(Version))) {
    throw malformedPolicy(`This resource policy contains an unsupported Version: ${String(Version)}.`);
  }
  const list = asList(Statement);
  if (
    Statement === undefined ||
    list.length === 0 ||
    !list.every((s) => typeof s === "object" && s !== null)
  ) {
    throw malformedPolicy("This resource policy contains a syntax error: Statement is missing or empty.");
  }
  return list as Record<string, unknown>[];
}

function conditionsOf(raw: unknown, at: string): DenyStatement["conditions"] {
  if (raw === undefined) return [];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw malformedPolicy(`This resource policy contains a syntax error: ${at} Condition must be an object.`);
  }
  return Object.entries(raw as Record<string, unknown>).map(([operator, keys]) => {
    const op = operator.toLowerCase();
    if (!OPERATORS.has(op)) throw cannotEnforce(`the ${operator} condition of ${at}`);
    const entries = typeof keys === "object" && keys !== null ? Object.entries(keys) : [];
    const [entry, ...more] = entries;
    if (!entry || more.length > 0 || entry[0].toLowerCase() !== "aws:principalarn") {
      throw cannotEnforce(`a ${operator} condition on keys other than aws:PrincipalArn (${at})`);
    }
    return { operator: op as "arnnotlike" | "stringnotlike", values: strings(entry[1], `${at} ${operator}`) };
  });
}

/**
 * Validates a document for PutResourcePolicy and returns the statements the emulator enforces.
 * Syntax errors are `MalformedPolicyDocumentException`; an Allow to everyone with
 * `BlockPublicPolicy` is `PublicPolicyException`, as AWS answers; anything else the emulator cannot
 * enforce is refused as malformed, saying so.
 */
export function compilePolicy(text: string, blockPublicPolicy: boolean): DenyStatement[] {
  const statements = statementsOf(text);
  for (const s of statements) {
    if (s.Effect === "Allow" && blockPublicPolicy && isEveryone(s.Principal)) throw publicPolicy();
  }
  return statements.map((s, i) => {
    const at = `statement ${typeof s.Sid === "string" ? s.Sid : i + 1}`;
    if (s.Effect !== "Allow" && s.Effect !== "Deny") {
      throw malformedPolicy(
        `This resource policy contains a syntax error: ${at} Effect must be Allow or Deny.`,
      );
    }
    if (s.Effect === "Allow") throw cannotEnforce(`an Allow statement (${at})`);
    for (const not of ["NotPrincipal", "NotAction", "NotResource"]) {
      if (s[not] !== undefined) throw cannotEnforce(`${not} (${at})`);
    }
    if (!isEveryone(s.Principal)) throw cannotEnforce(`a Deny to named principals (${at})`);
    return {
      actions: strings(s.Action, `${at} Action`).map((a) => a.toLowerCase()),
      resources: strings(s.Resource, `${at} Resource`),
      conditions: conditionsOf(s.Condition, at),
    };
  });
}

/** `*` any run of characters, `?` one; everything else literal. */
function glob(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`, ignoreCase ? "is" : "s").test(value);
}

function arnLike(pattern: string, arn: string): boolean {
  const split = (s: string) => {
    const parts = s.split(":");
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(":")];
  };
  const p = split(pattern);
  const a = split(arn);
  return !!p && !!a && p.every((part, i) => glob(part, a[i] ?? ""));
}

/**
 * True when a statement denies `action` on the secret at `resourceArn` to a caller whose
 * `aws:PrincipalArn` is `principalArn` (undefined: a caller without one, such as a service
 * principal, for whom a negated condition holds, as IAM evaluates a missing key: fails closed).
 */
export function denies(
  statements: DenyStatement[],
  request: { action: string; resourceArn: string; principalArn: string | undefined },
): boolean {
  return statements.some(
    (s) =>
      s.actions.some((a) => glob(a, request.action, true)) &&
      s.resources.some((r) => r === "*" || glob(r, request.resourceArn)) &&
      s.conditions.every(({ operator, values }) => {
        const principal = request.principalArn;
        if (principal === undefined) return true;
        const like = operator === "arnnotlike" ? arnLike : glob;
        return !values.some((v) => like(v, principal));
      }),
  );
}

/** Whether an identity policy's action pattern (`secretsmanager:*`, `secretsmanager:Get*`) covers `action`. */
export const actionMatches = (pattern: string, action: string): boolean => glob(pattern, action, true);
