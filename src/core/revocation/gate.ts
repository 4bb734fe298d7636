import type { Deps } from "../deps";
import type { SecretSettings } from "../model";
import { evaluateReadiness, type Readiness } from "./readiness";

/**
 * The revocation gate as of `now`: the secret's registered consumers and their instances,
 * judged against the recorded current fingerprint and promotion time. Both the wait loop and
 * RevokePrevious ask this one question.
 */
export async function readinessOf(
  deps: Pick<Deps, "consumers">,
  input: {
    secretId: string;
    currentFingerprint: string;
    promotedAt: string;
    settings: SecretSettings;
    now: Date;
  },
): Promise<Readiness> {
  const [consumers, instances] = await Promise.all([
    deps.consumers.listConsumers(input.secretId),
    deps.consumers.listInstances(input.secretId),
  ]);
  return evaluateReadiness({
    consumers,
    instances,
    currentFingerprint: input.currentFingerprint,
    promotedAt: new Date(input.promotedAt),
    settings: input.settings,
    now: input.now,
  });
}
