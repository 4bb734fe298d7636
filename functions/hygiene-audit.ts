import middy from "@middy/core";
import type { ScheduledEvent } from "aws-lambda";
import { loadConfig } from "../src/commons/config";
import { type AppDeps, buildDeps } from "../src/commons/deps";
import { stepLogging } from "../src/commons/middleware";
import { type HygieneReport, hygieneAudit } from "../src/core/hygiene/audit";
import { readPolicyDrift } from "../src/core/read-policy/sync";

const deps = buildDeps(loadConfig());

/**
 * The weekly credential hygiene audit (EventBridge, infra/hygiene.yml): every finding with its
 * severity and fix, one alert when any is high or medium. `keyshift hygiene` runs the same audit.
 */
export async function hygieneAuditStep(
  _event: ScheduledEvent | unknown,
  d: AppDeps = deps,
): Promise<HygieneReport> {
  return hygieneAudit({ alert: true }, { ...d, policyDrift: (secretId) => readPolicyDrift(d, secretId) });
}

export const handler = middy<unknown, HygieneReport>()
  .use(stepLogging("hygiene-audit"))
  .handler((event) => hygieneAuditStep(event));
