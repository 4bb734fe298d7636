import asl from "../../statemachines/rotation.asl.json" with { type: "json" };
import type { WorkflowLimits } from "../core/enrollment";

/**
 * The rotation state machine's `TimeoutSeconds`, bundled with the code that judges an enrollment
 * file someone sent (the operator API has no checkout to read the ASL from; the CLI reads it from
 * disk, `workflowLimits` in enrollment-file.ts). Same file, same number.
 */
export const BUNDLED_WORKFLOW_LIMITS: WorkflowLimits = { executionTimeoutSeconds: asl.TimeoutSeconds };
