/**
 * The `SecretPolicyStore` port: a secret's resource policy as keyshift writes it (its read policy,
 * `BlockPublicPolicy`), read back equal to what was written, deleted; on a secret that does not
 * exist every call is `ResourceNotFoundException`.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { SecretPolicyStore } from "../../../src/core/ports";
import { detectPolicyDrift } from "../../../src/core/read-policy/drift";
import { buildReadPolicy } from "../../../src/core/read-policy/policy";
import { type PortTarget, refusal } from "./support";

export interface SecretPolicyStoreTarget extends PortTarget<SecretPolicyStore> {
  /** A run-unique secret (CreateSecret), its name returned. */
  createSecret(label: string, value: string): Promise<{ name: string }>;
  /**
   * The caller's principal where the policy is enforced (the emulator; AWS): let through the policy's
   * guard as a keyshift writer, or it could not delete the policy it put.
   */
  writer?(): string | undefined;
}

export function secretPolicyStoreContract(target: SecretPolicyStoreTarget): void {
  describe(`SecretPolicyStore (${target.name})`, () => {
    let store: SecretPolicyStore;
    beforeEach(() => {
      store = target.make();
    });
    const enrolledSecret = (label: string) => target.createSecret(label, JSON.stringify({ keyId: "k" }));

    it("puts keyshift's read policy (BlockPublicPolicy), reads it back as written, and deletes it", async () => {
      const { name } = await enrolledSecret("read-policy");
      const policy = buildReadPolicy({
        secretId: name,
        consumers: ["arn:aws:iam::111122223333:role/engine"],
        keyshift: ["arn:aws:iam::111122223333:role/keyshift-contract-createNext"],
        writers: [target.writer?.()].filter((w): w is string => w !== undefined),
      });

      const before = await store.getResourcePolicy(name);
      await store.putResourcePolicy(name, policy.document);
      const stored = await target.eventually(async () => {
        const read = await store.getResourcePolicy(name);
        expect(read).toBeDefined();
        return read;
      });
      await store.deleteResourcePolicy(name);
      const after = await target.eventually(async () => {
        const read = await store.getResourcePolicy(name);
        expect(read).toBeUndefined();
        return read;
      });

      expect(before).toBeUndefined();
      // What the service hands back is what keyshift wrote, whatever its formatting.
      expect(detectPolicyDrift(stored, policy)).toEqual([]);
      expect(after).toBeUndefined();
    });

    it("on a secret that does not exist, get, put and delete are ResourceNotFoundException", async () => {
      const name = target.id("missing");
      const policy = buildReadPolicy({
        secretId: name,
        consumers: ["arn:aws:iam::111122223333:role/engine"],
        keyshift: ["arn:aws:iam::111122223333:role/keyshift-contract-createNext"],
      });

      const errors = await Promise.all([
        refusal(store.getResourcePolicy(name)),
        refusal(store.putResourcePolicy(name, policy.document)),
        refusal(store.deleteResourcePolicy(name)),
      ]);

      expect(errors.map((e) => e.name)).toEqual(Array(3).fill("ResourceNotFoundException"));
    });
  });
}
