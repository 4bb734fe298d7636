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
  const resolve = (node: Json, state?: string): Json => {
    if (Array.isArray(node)) return node.map((n) => resolve(n, state));
    if (node === null || typeof node !== "object") return node;
    const getAtt = node["Fn::GetAtt"];
    if (Array.isArray(getAtt) && getAtt[1] === "Arn" && typeof getAtt[0] === "string") {
      if (state) taskFunctions[state] = getAtt[0];
      return arnFor(getAtt[0]);
    }
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [
        key,
        // The children of a "States" map are named states: remember whose Resource this is.
        key === "States" && value !== null && typeof value === "object" && !Array.isArray(value)
          ? Object.fromEntries(Object.entries(value).map(([name, child]) => [name, resolve(child, name)]))
          : resolve(value, state),
      ]),
    );
  };
  return { definition: resolve(raw as Json) as Record<string, unknown>, taskFunctions };
}

/** The checked-in definition with local Lambda ARNs (`keyshift-local-<LogicalId>`). */
export function loadLocalDefinition() {
  const raw = JSON.parse(readFileSync(DEFINITION_PATH, "utf8"));
  return resolveDefinition(
    raw,
    (logicalId) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:keyshift-local-${logicalId}`,
  );
}
