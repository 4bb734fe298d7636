import { type Deps, requireSettings } from "../deps";
import { ReadPolicyOutOfSyncError } from "../errors";
import type { ConsumerRegistration } from "../model";
import type { SecretPolicyStore } from "../ports";
import { detectPolicyDrift, type PolicyDriftFinding } from "./drift";
import { buildReadPolicy, policyDigest, type ReadPolicy } from "./policy";

/** What keeping a secret's read policy equal to the registry needs besides the registry itself. */
export interface ReadPolicyDeps {
  policies: SecretPolicyStore;
  /** keyshift's own roles that read exchange key values (CreateNext's), from KEYSHIFT_READER_ROLE_ARNS. */
  keyshiftReaders: readonly string[];
  /**
   * keyshift's other roles that write a secret's policy (KEYSHIFT_POLICY_WRITER_ROLE_ARNS): let
   * through the policy's guard with the readers (see `GUARDED_ACTIONS`).
   */
  keyshiftWriters?: readonly string[];
}

type SyncDeps = Pick<Deps, "store" | "consumers" | "audit"> & ReadPolicyDeps;

export interface ReadPolicySync {
  secretId: string;
  /** False when the policy on the secret already was the one the registry calls for. */
  changed: boolean;
  digest: string;
  readers: string[];
}

/** Writes raced by another sync or a registry change are re-done at most this many times. */
const MAX_SYNC_PASSES = 3;

/**
 * The read policy the registry calls for now, plus `extra` principals about to be registered. Throws
 * before anything is written when it cannot be applied (no keyshift reader, over the size limit).
 */
export async function planReadPolicy(
  deps: Pick<Deps, "consumers"> & ReadPolicyDeps,
  secretId: string,
  extra: readonly string[] = [],
): Promise<ReadPolicy> {
  const consumers = await deps.consumers.listConsumers(secretId);
  return buildReadPolicy({
    secretId,
    consumers: [...consumers.map((c) => c.principalArn), ...extra],
    keyshift: deps.keyshiftReaders,
    writers: deps.keyshiftWriters ?? [],
  });
}

/**
 * Keep a secret's resource policy equal to the registry.
 *
 * Input: an enrolled secret and who asks. Output: whether the policy changed, its digest, the readers.
 * 1. Build the policy from the registered consumers and keyshift's own readers (pure; fails on size).
 * 2. Read the policy on the secret; when it already says the same (no drift), write nothing.
 * 3. Otherwise put it (`BlockPublicPolicy`), and audit its digest and readers — never the JSON.
 * 4. Read the registry and the policy on the secret again: a registration, removal or older sync
 *    that raced this one may have changed either, so the pass repeats until the policy on the
 *    secret is the one the registry last read calls for. Success is never reported otherwise:
 *    after `MAX_SYNC_PASSES`, `ReadPolicyOutOfSyncError` names the drift and the fix (a removed
 *    consumer's role that can still read must not hide behind a command that said it succeeded).
 */
export async function syncReadPolicy(
  deps: SyncDeps,
  secretId: string,
  actor: string,
): Promise<ReadPolicySync> {
  await requireSettings(deps.store, secretId);
  let changed = false;
  let policy = await planReadPolicy(deps, secretId);
  let current = await deps.policies.getResourcePolicy(secretId);
  for (let pass = 1; ; pass++) {
    if (current === undefined || detectPolicyDrift(current, policy).length > 0) {
      await deps.policies.putResourcePolicy(secretId, policy.document);
      changed = true;
      await deps.audit.append({
        secretId,
        actor,
        action: "read-policy-synced",
        details: {
          digest: policy.digest,
          previousDigest: current === undefined ? null : policyDigest(current),
          readers: policy.readers,
          keyshiftReaders: deps.keyshiftReaders.length,
          chars: policy.document.length,
        },
      });
    }
    const after = await planReadPolicy(deps, secretId);
    current = await deps.policies.getResourcePolicy(secretId);
    const drift = detectPolicyDrift(current, after);
    if (current !== undefined && drift.length === 0) {
      return { secretId, changed, digest: after.digest, readers: after.readers };
    }
    if (pass >= MAX_SYNC_PASSES) {
      throw new ReadPolicyOutOfSyncError(
        `the read policy on ${secretId} still differs from the registry after ${pass} sync passes ` +
          `(${drift.map((f) => f.message).join("; ") || "no policy"}): the registry or the policy kept changing ` +
          "while it was written, so a removed consumer may still read the key or a registered one may be denied. " +
          "The registry change itself is stored. Once the other writer is done, re-run " +
          `\`keyshift enroll ${secretId}\` (it re-applies the policy from the registry) or the \`keyshift consumers register\` ` +
          "command; any later sync also repairs it (`keyshift status` shows the drift until then)",
      );
    }
    policy = after;
  }
}

/** How the policy on the secret differs from the registry (for `keyshift status` and the hygiene audit). */
export async function readPolicyDrift(
  deps: Pick<Deps, "consumers"> & ReadPolicyDeps,
  secretId: string,
): Promise<PolicyDriftFinding[]> {
  const expected = await planReadPolicy(deps, secretId);
  return detectPolicyDrift(await deps.policies.getResourcePolicy(secretId), expected);
}

/**
 * The same check given the secret's registrations already read (the hygiene audit has them): one
 * `GetResourcePolicy` per secret and no second read of the registry.
 */
export async function readPolicyDriftOf(
  deps: ReadPolicyDeps,
  secretId: string,
  consumers: readonly ConsumerRegistration[],
): Promise<PolicyDriftFinding[]> {
  const expected = buildReadPolicy({
    secretId,
    consumers: consumers.map((c) => c.principalArn),
    keyshift: deps.keyshiftReaders,
  });
  return detectPolicyDrift(await deps.policies.getResourcePolicy(secretId), expected);
}
