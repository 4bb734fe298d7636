import {
  asArray,
  type CfnResource,
  label,
  resource,
  roleStatements,
  type Statement,
  type Template,
} from "./packaged";

export const actionsOf = (s: Statement) => asArray(s.Action);
export const isLogs = (s: Statement) => actionsOf(s).every((a) => a.startsWith("logs:"));

/**
 * Per resource label, the sorted actions a role allows, its own-log-group statement excluded.
 * A Deny statement shows up as `Deny ` + action, so it cannot pass for a grant.
 */
export function grants(role: CfnResource): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const s of roleStatements(role).filter((st) => !isLogs(st))) {
    for (const r of asArray(s.Resource)) {
      const granted = out[label(r)] ?? new Set<string>();
      for (const a of actionsOf(s)) granted.add(s.Effect === "Allow" ? a : `${s.Effect} ${a}`);
      out[label(r)] = granted;
    }
  }
  return Object.fromEntries(Object.entries(out).map(([r, a]) => [r, [...a].sort()]));
}

/**
 * The state machine's DefinitionString as deployed, every function ARN written `<LogicalId>`.
 * serverless-step-functions stamps each state with a `QueryLanguage`; those stamps are removed
 * from the definition and returned apart so the caller can check they are the default.
 */
export function deployedDefinition(
  template: Template,
  stateMachineId = "RotationStateMachine",
): { definition: unknown; stamps: unknown[] } {
  const sub = resource(template, stateMachineId).Properties.DefinitionString as {
    "Fn::Sub": [string, Record<string, unknown>];
  };
  const [text, vars] = sub["Fn::Sub"];
  const resolved = text.replace(/\$\{([^}]+)\}/g, (_, v: string) => `<${label(vars[v])}>`);
  const definition = JSON.parse(resolved) as { States: Record<string, Record<string, unknown>> };
  const stamps: unknown[] = [];
  for (const state of Object.values(definition.States)) {
    stamps.push(state.QueryLanguage);
    delete state.QueryLanguage;
  }
  return { definition, stamps };
}
