import { LambdaClient } from "@aws-sdk/client-lambda";
import { LambdaDeletionProver } from "../adapters/deletion-prover";
import type { DeletionProver } from "../core/ports";
import type { Config } from "./config";

/**
 * Above the prove-deleted function's own timeout (infra/functions.yml): the function ends first,
 * and its answer, even a timeout, reaches the operator API rather than a half-read socket.
 */
const INVOKE_TIMEOUT_MS = 40_000;

/**
 * The operator API's prover: the prove-deleted function, when the stack names it
 * (KEYSHIFT_PROVE_DELETED_FUNCTION, always set by infra/functions.yml and pinned by
 * test/deploy/template.test.ts). Unset — the local stack, whose operator API runs as keyshift's
 * reader role — `keys confirm-deleted` proves in-process. Its own module, so that no other
 * handler bundles the Lambda client.
 */
export function operatorApiProver(config: Config): { prover?: DeletionProver } {
  const functionName = config.KEYSHIFT_PROVE_DELETED_FUNCTION;
  if (!functionName) return {};
  // maxAttempts 1: a retried invoke would ask the exchange again with a deleted key (lock-out).
  const lambda = new LambdaClient({
    region: config.AWS_REGION,
    maxAttempts: 1,
    requestHandler: { requestTimeout: INVOKE_TIMEOUT_MS },
  });
  return { prover: new LambdaDeletionProver(lambda, functionName) };
}
