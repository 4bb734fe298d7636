import { readFileSync } from "node:fs";
import { join } from "node:path";

export const DEFINITION_PATH = join(import.meta.dirname, "..", "..", "statemachines", "rotation.asl.json");

export const LOCAL_ACCOUNT = "000000000000";
export const LOCAL_REGION = "us-east-1";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * Resolves the `Fn::GetAtt: [<Name>LambdaFunction, Arn]` intrinsics of the one ASL file the
 * same way CloudFormation would, with `arnFor` giving each function's ARN. Returns the resolved
 * definition and, per Task state, the logical function name it invokes.
 */
export function resolveDefinition(
  raw: unknown,
  arnFor: (logicalId: string) => string,
): { definition: Record<string, unknown>; taskFunctions: Record<string, string> } {
  const taskFunctions: Record<string, string> = {};
  const walk = (node: Json, stateName?: string): Json => {
    if (Array.isArray(node)) return node.map((n) => walk(n, stateName));
    if (node && typeof node === "object") {
      const getAtt = node["Fn::GetAtt"];
      if (Array.isArray(getAtt) && getAtt[1] === "Arn" && typeof getAtt[0] === "string") {
        if (stateName) taskFunctions[stateName] = getAtt[0];
        return arnFor(getAtt[0]);
      }
      const out: { [k: string]: Json } = {};
      for (const [k, v] of Object.entries(node)) {
        // Direct children of "States" are state names.
        out[k] =
          v !== null && typeof v === "object" && !Array.isArray(v) && isStatesMap(node, v)
            ? walkStates(v)
            : walk(v, stateName);
      }
      return out;
    }
    return node;
  };
  const isStatesMap = (parent: { [k: string]: Json }, child: Json) => parent.States === child;
  const walkStates = (states: { [k: string]: Json }): Json => {
    const out: { [k: string]: Json } = {};
    for (const [name, state] of Object.entries(states)) out[name] = walk(state, name);
    return out;
  };
  const definition = walk(raw as Json) as Record<string, unknown>;
  return { definition, taskFunctions };
}

/** The checked-in definition with local Lambda ARNs (`keyshift-local-<LogicalId>`). */
export function loadLocalDefinition() {
  const raw = JSON.parse(readFileSync(DEFINITION_PATH, "utf8"));
  return resolveDefinition(
    raw,
    (logicalId) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:keyshift-local-${logicalId}`,
  );
}
