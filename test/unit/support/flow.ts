import { heartbeat } from "../../../src/core/consumers/heartbeat";
import { fingerprint } from "../../../src/core/fingerprint";
import { STAGE } from "../../../src/core/model";
import { beginRotation } from "../../../src/core/rotation/begin-rotation";
import { createNext } from "../../../src/core/rotation/create-next";
import { promoteCurrent } from "../../../src/core/rotation/promote-current";
import type { FakeDeps, SeededConsumer } from "../fakes";

/** The state machine's BeginRotation for a new manual rotation named `rotationId`. */
export function startRotation(deps: FakeDeps, secretId: string, rotationId: string) {
  return beginRotation(
    { secretId, trigger: "manual", mode: "rotate", executionName: rotationId, actor: "operator:test" },
    deps,
  );
}

/** The state machine's BeginRotation resuming the stalled rotation in execution `executionName`. */
export function resumeRotation(deps: FakeDeps, secretId: string, executionName: string) {
  return beginRotation(
    { secretId, trigger: "manual", mode: "resume", executionName, actor: "operator:test" },
    deps,
  );
}

/** BeginRotation → CreateNext → PromoteCurrent. */
export async function rotateToPromoted(deps: FakeDeps, secretId: string, rotationId: string) {
  const begun = await startRotation(deps, secretId, rotationId);
  const created = await createNext({ secretId, rotationId }, deps);
  const promoted = await promoteCurrent({ secretId, rotationId }, deps);
  return { begun, created, promoted };
}

/** What a consumer computes after fetching the secret's AWSCURRENT value. */
export async function currentFingerprint(deps: FakeDeps, secretId: string): Promise<string> {
  const { value } = await deps.secrets.getValue(secretId, { stage: STAGE.current });
  return fingerprint(value);
}

/** One heartbeat from `consumer`'s instance. */
export function report(
  deps: FakeDeps,
  secretId: string,
  consumer: SeededConsumer,
  instanceId: string,
  fp: string,
) {
  return heartbeat({ callerArn: consumer.callerArn, secretId, fingerprint: fp, instanceId }, deps);
}
