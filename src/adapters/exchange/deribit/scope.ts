/**
 * Deribit's `max_scope` ↔ keyshift's normalized `permissions`.
 *
 * `max_scope` is a space-separated string of `<group>:<level>` tokens
 * (`account:read trade:read_write wallet:none block_trade:read`); `permissions` is the sorted
 * list of those tokens, verbatim. A new key is created with exactly the tokens of the key it
 * replaces: nothing is added, dropped or widened, and anything that is not one token per group
 * with a known level is refused rather than guessed at.
 */
const TOKEN = /^([a-z][a-z_]*):(read|read_write|none)$/;

/** The normalized permissions of a key as Deribit lists it. */
export function permissionsFromScope(maxScope: string): string[] {
  return maxScope
    .split(/\s+/)
    .filter((token) => token.length > 0)
    .sort();
}

/**
 * The `max_scope` string for `permissions`, or a reason it cannot be expressed exactly (the
 * reason names tokens, which are not secret).
 */
export function scopeFromPermissions(
  permissions: readonly string[],
): { scope: string } | { problem: string } {
  if (permissions.length === 0) {
    return { problem: "no permissions given: Deribit would create a key with scope none" };
  }
  const groups = new Set<string>();
  for (const token of permissions) {
    const match = TOKEN.exec(token);
    if (!match?.[1]) {
      return {
        problem: `permission ${JSON.stringify(token)} is not a Deribit scope token <group>:<read|read_write|none>`,
      };
    }
    if (groups.has(match[1])) return { problem: `scope group ${match[1]} appears twice` };
    groups.add(match[1]);
  }
  return { scope: [...permissions].sort().join(" ") };
}

/** True when two permission lists name the same tokens (order aside). */
export function samePermissions(a: readonly string[], b: readonly string[]): boolean {
  const left = [...a].sort();
  const right = [...b].sort();
  return left.length === right.length && left.every((token, i) => token === right[i]);
}

const RANK: Record<string, number> = { none: 0, read: 1, read_write: 2 };

/**
 * How a created key's `max_scope` compares with the one asked for, group by group. A group absent
 * from a scope is `none` ("If scope is not provided, its value is set as none" — the `max_scope`
 * parameter, OpenAPI), so Deribit dropping or echoing a `<group>:none` token changes nothing.
 * `broader` names the grants above what was asked (never accepted), `narrower` what fell short
 * (a key the consumers could not use); a token that is not `<group>:<level>` counts as broader.
 */
export function compareScopes(
  asked: readonly string[],
  granted: readonly string[],
): { broader: string[]; narrower: string[] } {
  const want = levels(asked);
  const got = levels(granted);
  const broader = [...got.unknown];
  const narrower: string[] = [];
  for (const group of new Set([...want.levels.keys(), ...got.levels.keys()])) {
    const a = want.levels.get(group) ?? 0;
    const g = got.levels.get(group) ?? 0;
    if (g > a) broader.push(granted.find((t) => t.startsWith(`${group}:`)) ?? group);
    if (g < a) narrower.push(asked.find((t) => t.startsWith(`${group}:`)) ?? group);
  }
  return { broader: broader.sort(), narrower: narrower.sort() };
}

function levels(tokens: readonly string[]): { levels: Map<string, number>; unknown: string[] } {
  const out = new Map<string, number>();
  const unknown: string[] = [];
  for (const token of tokens) {
    const match = TOKEN.exec(token);
    const rank = match?.[2] === undefined ? undefined : RANK[match[2]];
    if (!match?.[1] || rank === undefined || out.has(match[1])) unknown.push(token);
    else out.set(match[1], rank);
  }
  return { levels: out, unknown };
}
