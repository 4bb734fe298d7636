import { LambdaClient } from "@aws-sdk/client-lambda";
import { LambdaDeletionProver } from "../adapters/deletion-prover";
import { ConfigurationError } from "../core/errors";
import type { DeletionProver } from "../core/ports";
import type { Config } from "./config";

/**
 * Above the prove-deleted function's own timeout (infra/functions.yml): the function ends first,
 * and its answer, even a timeout, reaches the operator API rather than a half-read socket.
 */
const INVOKE_TIMEOUT_MS = 40_000;

/**
 * The operator API's prover: the prove-deleted function the stack names
 * (KEYSHIFT_PROVE_DELETED_FUNCTION: set by infra/functions.yml, pinned by
 * test/deploy/template.test.ts; the local stack names its own, behind harness/local/lambda-invoke.ts).
 * Unset, the operator API does not start: proving in its own process could only ever record the
 * person's word, since its role is no reader. Its own module, so that no other handler bundles the
 * Lambda client.
 */
export function operatorApiProver(config: Config): DeletionProver {
  const functionName = config.KEYSHIFT_PROVE_DELETED_FUNCTION;
  if (!functionName) {
    throw new ConfigurationError(
      "KEYSHIFT_PROVE_DELETED_FUNCTION is required by the operator API (the prove-deleted function's name): " +
        "it proves a manually deleted key gone, which the operator API, no reader of key values, cannot",
    );
  }
  // maxAttempts 1: a retried invoke would ask the exchange again with a deleted key (lock-out).
  const lambda = new LambdaClient({
    region: config.AWS_REGION,
    endpoint: config.KEYSHIFT_ENDPOINT_LAMBDA,
    maxAttempts: 1,
    requestHandler: { requestTimeout: INVOKE_TIMEOUT_MS },
  });
  return new LambdaDeletionProver(lambda, functionName);
}
