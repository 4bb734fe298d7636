/**
 * The `SecretStore` port: Secrets Manager's staging labels as the rotation steps use them —
 * putPending with the production `versionTokenFor` token (a retry is harmless, another value under
 * the same token is `ResourceExistsException`), the promotion and rollback label moves, AWSPENDING's
 * removal, and the reads the steps decide on. Errors are compared by `name`, which is what the core
 * matches (create-next.ts, abort-rotation.ts).
 *
 * Values are random and never printed: they are compared by fingerprint (src/core/fingerprint.ts),
 * and "not in the message" is checked as a boolean, so a failure cannot echo one either.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { fingerprint } from "../../../src/core/fingerprint";
import { STAGE } from "../../../src/core/model";
import type { SecretStore } from "../../../src/core/ports";
import { versionTokenFor } from "../../../src/core/tokens";
import { type PortTarget, refusal as refused } from "./support";

export interface SecretStoreTarget extends PortTarget<SecretStore> {
  /** A run-unique secret with one AWSCURRENT version holding `value` (CreateSecret). */
  createSecret(label: string, value: string): Promise<{ name: string; v1: string }>;
  /** Every version the secret has, labelled or not (the port lists only labelled ones). */
  allVersionIds(name: string): Promise<string[]>;
}

const { current: AWSCURRENT, previous: AWSPREVIOUS, next: AWSPENDING } = STAGE;

/** A random exchange-key secret value, shaped like production's (`ExchangeKeySecret`). */
function secretValue(): string {
  return JSON.stringify({
    account: "acme",
    keyId: `key-${randomBytes(4).toString("hex")}`,
    secret: randomBytes(24).toString("base64url"),
    permissions: ["trade"],
  });
}

/** A run-unique rotation id and the token production derives from it. */
function rotation(): { rotationId: string; token: string } {
  const rotationId = `rot-${randomUUID()}`;
  return { rotationId, token: versionTokenFor(rotationId) };
}

export function secretStoreContract(target: SecretStoreTarget): void {
  describe(`SecretStore (${target.name})`, () => {
    let store: SecretStore;
    beforeEach(() => {
      store = target.make();
    });
    const enrolledSecret = (label: string, value = secretValue()) => target.createSecret(label, value);
    const allVersionIds = async (name: string) => (await target.allVersionIds(name)).sort();

    /** The labelled versions as the adapter lists them: versionId → sorted stages. */
    async function stagesOf(name: string): Promise<Record<string, string[]>> {
      const out: Record<string, string[]> = {};
      for (const v of await store.listVersions(name)) out[v.versionId] = [...v.stages].sort();
      return out;
    }

    /** A refused call: an error with the AWS exception's name (what the core matches on). */
    async function refusal(call: Promise<unknown>): Promise<Error> {
      const error = await refused(call);
      expect(error.name).toMatch(/Exception$/);
      return error;
    }

    /** Labels are eventually consistent on AWS for some reads; local targets get one attempt. */
    async function expectStages(name: string, expected: Record<string, string[]>): Promise<void> {
      await target.eventually(async () => expect(await stagesOf(name)).toEqual(expected));
    }

    /** The rotation's forward path as promote-current.ts runs it: AWSCURRENT to `to`, then AWSPENDING off it. */
    async function promote(name: string, to: string, from: string): Promise<void> {
      await store.moveStage(name, AWSCURRENT, { to, from });
      await store.moveStage(name, AWSPENDING, { from: to });
    }

    describe("putPending with the production token", () => {
      it("adds an AWSPENDING version whose id is versionTokenFor(rotationId), leaving AWSCURRENT in place", async () => {
        const current = secretValue();
        const next = secretValue();
        const { name, v1 } = await enrolledSecret("pending", current);
        const { token } = rotation();

        const put = await store.putPending(name, token, next);

        expect(token).toMatch(/^[0-9a-f]{40}$/);
        expect(put).toEqual({ versionId: token });
        expect(await stagesOf(name)).toEqual({ [v1]: [AWSCURRENT], [token]: [AWSPENDING] });
        const byStage = await store.getValue(name, { stage: AWSPENDING });
        const byId = await store.getValue(name, { versionId: token });
        const stillCurrent = await store.getValue(name, { stage: AWSCURRENT });
        expect(byStage.versionId).toBe(token);
        expect(fingerprint(byStage.value)).toBe(fingerprint(next));
        expect(fingerprint(byId.value)).toBe(fingerprint(next));
        expect(stillCurrent.versionId).toBe(v1);
        expect(fingerprint(stillCurrent.value)).toBe(fingerprint(current));
      });

      it("retried with the same value is harmless: the same version id, no new version, labels unchanged", async () => {
        const next = secretValue();
        const { name } = await enrolledSecret("pending-retry");
        const { token } = rotation();
        const first = await store.putPending(name, token, next);
        const stages = await stagesOf(name);
        const versions = await allVersionIds(name);

        const retried = await store.putPending(name, token, next);

        expect(retried).toEqual(first);
        expect(await stagesOf(name)).toEqual(stages);
        expect(await allVersionIds(name)).toEqual(versions);
      });

      it("a different value under the same token is refused with the SDK's ResourceExistsException; the first value stays", async () => {
        const first = secretValue();
        const second = secretValue();
        const { name } = await enrolledSecret("pending-other-value");
        const { token } = rotation();
        await store.putPending(name, token, first);
        const stages = await stagesOf(name);

        const error = await refusal(store.putPending(name, token, second));

        // The adapter does not wrap it: the step's error is the SDK's, by name.
        expect(error.name).toBe("ResourceExistsException");
        expect(error.message.includes(first)).toBe(false);
        expect(error.message.includes(second)).toBe(false);
        expect(await stagesOf(name)).toEqual(stages);
        const stored = await store.getValue(name, { versionId: token });
        expect(fingerprint(stored.value)).toBe(fingerprint(first));
      });

      it("retried after the version was promoted is still harmless and never puts AWSPENDING back", async () => {
        // AWS documents PutSecretValue with an existing ClientRequestToken and the same value as ignored
        // (no new version, labels untouched) — so a CreateNext retried late cannot re-stage the key.
        const next = secretValue();
        const { name, v1 } = await enrolledSecret("pending-after-promotion");
        const { token } = rotation();
        await store.putPending(name, token, next);

        // Crash between the two label moves: AWSCURRENT moved, AWSPENDING still on the new current.
        await store.moveStage(name, AWSCURRENT, { to: token, from: v1 });
        await expectStages(name, { [v1]: [AWSPREVIOUS], [token]: [AWSCURRENT, AWSPENDING] });
        const midway = await store.putPending(name, token, next);
        await expectStages(name, { [v1]: [AWSPREVIOUS], [token]: [AWSCURRENT, AWSPENDING] });

        await store.moveStage(name, AWSPENDING, { from: token });
        await expectStages(name, { [v1]: [AWSPREVIOUS], [token]: [AWSCURRENT] });
        const late = await store.putPending(name, token, next);

        expect(midway).toEqual({ versionId: token });
        expect(late).toEqual({ versionId: token });
        await expectStages(name, { [v1]: [AWSPREVIOUS], [token]: [AWSCURRENT] });
        expect(await allVersionIds(name)).toEqual([v1, token].sort());
        const noPending = await refusal(store.getValue(name, { stage: AWSPENDING }));
        expect(noPending.name).toBe("ResourceNotFoundException");
      });
    });

    describe("moveStage", () => {
      it("promotion: AWSCURRENT to the pending version puts AWSPREVIOUS on the version it left; AWSPENDING stays until removed", async () => {
        const { name, v1 } = await enrolledSecret("promote");
        const { token } = rotation();
        await store.putPending(name, token, secretValue());

        await store.moveStage(name, AWSCURRENT, { to: token, from: v1 });
        const moved = await stagesOf(name);
        await store.moveStage(name, AWSPENDING, { from: token });

        expect(moved).toEqual({ [v1]: [AWSPREVIOUS], [token]: [AWSCURRENT, AWSPENDING] });
        // Removing AWSPENDING from the version that is now AWSCURRENT leaves it just AWSCURRENT.
        await expectStages(name, { [v1]: [AWSPREVIOUS], [token]: [AWSCURRENT] });
      });

      it("rollback: AWSCURRENT back to the previous version puts AWSPREVIOUS on the version it left", async () => {
        const { name, v1 } = await enrolledSecret("rollback");
        const { token } = rotation();
        await store.putPending(name, token, secretValue());
        await promote(name, token, v1);
        await expectStages(name, { [v1]: [AWSPREVIOUS], [token]: [AWSCURRENT] });

        // As operator-actions.ts rolls back: `moveStage(AWSCURRENT, { to: previous, from: current })`.
        await store.moveStage(name, AWSCURRENT, { to: v1, from: token });

        await expectStages(name, { [v1]: [AWSCURRENT], [token]: [AWSPREVIOUS] });
        expect(await allVersionIds(name)).toEqual([v1, token].sort());
      });

      it("a wrong `from` is refused and changes nothing (AWSCURRENT and AWSPENDING alike)", async () => {
        const { name, v1 } = await enrolledSecret("wrong-from");
        const { token } = rotation();
        const other = rotation().token;
        await store.putPending(name, token, secretValue());
        const before = await stagesOf(name);

        // AWSCURRENT is on v1, not on the pending version.
        const wrongCurrent = await refusal(store.moveStage(name, AWSCURRENT, { to: token, from: token }));
        // AWSPENDING is on the pending version, not on v1.
        const wrongPending = await refusal(store.moveStage(name, AWSPENDING, { from: v1 }));
        // A token that never became a version (abort-rotation's candidates may include one).
        const neverWritten = await refusal(store.moveStage(name, AWSPENDING, { from: other }));

        expect(wrongCurrent.name).toBe("InvalidParameterException");
        expect(wrongPending.name).toBe("InvalidParameterException");
        // abort-rotation.ts ignores exactly these two names for a label that is not attached.
        expect(["InvalidParameterException", "ResourceNotFoundException"]).toContain(neverWritten.name);
        expect(await stagesOf(name)).toEqual(before);
      });
    });

    describe("moveStage without `from`", () => {
      it("moving a label another version holds, without naming it in `from`, is InvalidParameterException and changes nothing", async () => {
        const { name } = await enrolledSecret("move-no-from");
        const { token } = rotation();
        await store.putPending(name, token, secretValue());
        const before = await stagesOf(name);

        const error = await refusal(store.moveStage(name, AWSCURRENT, { to: token }));

        expect(error.name).toBe("InvalidParameterException");
        await expectStages(name, before);
      });
    });

    describe("getValue after a label move", () => {
      it("AWSCURRENT returns the new version right after promotion, and the old one again after rollback", async () => {
        const current = secretValue();
        const next = secretValue();
        const { name, v1 } = await enrolledSecret("read-after-move", current);
        const { token } = rotation();
        await store.putPending(name, token, next);

        await promote(name, token, v1);
        const promoted = await target.eventually(async () => {
          const read = await store.getValue(name, { stage: AWSCURRENT });
          expect(read.versionId).toBe(token);
          return read;
        });
        const previous = await store.getValue(name, { stage: AWSPREVIOUS });
        await store.moveStage(name, AWSCURRENT, { to: v1, from: token });
        const rolledBack = await target.eventually(async () => {
          const read = await store.getValue(name, { stage: AWSCURRENT });
          expect(read.versionId).toBe(v1);
          return read;
        });

        expect(fingerprint(promoted.value)).toBe(fingerprint(next));
        expect(previous.versionId).toBe(v1);
        expect(fingerprint(previous.value)).toBe(fingerprint(current));
        expect(fingerprint(rolledBack.value)).toBe(fingerprint(current));
      });
    });

    describe("listVersions", () => {
      it("lists every labelled version with its stages; a version that lost its last label is left out", async () => {
        const { name, v1 } = await enrolledSecret("list");
        const first = rotation().token;
        const second = rotation().token;
        await store.putPending(name, first, secretValue());
        // A second rotation's pending replaces the first: the first loses its only label.
        await store.putPending(name, second, secretValue());

        const listed = await store.listVersions(name);

        expect(listed.map((v) => v.versionId).sort()).toEqual([v1, second].sort());
        expect(await stagesOf(name)).toEqual({ [v1]: [AWSCURRENT], [second]: [AWSPENDING] });
        expect(await allVersionIds(name)).toEqual([v1, first, second].sort());
      });
    });

    describe("unknown secrets and versions", () => {
      it("every call on a secret that does not exist is ResourceNotFoundException", async () => {
        const name = target.id("missing");

        const errors = await Promise.all([
          refusal(store.listVersions(name)),
          refusal(store.getValue(name, { stage: AWSCURRENT })),
          refusal(store.putPending(name, rotation().token, secretValue())),
          refusal(store.moveStage(name, AWSPENDING, { from: rotation().token })),
        ]);

        expect(errors.map((e) => e.name)).toEqual(Array(4).fill("ResourceNotFoundException"));
      });

      it("a version id that does not exist is ResourceNotFoundException; a stage not on that version is refused", async () => {
        const { name, v1 } = await enrolledSecret("missing-version");

        const noVersion = await refusal(store.getValue(name, { versionId: rotation().token }));
        const wrongStage = await refusal(store.getValue(name, { versionId: v1, stage: AWSPENDING }));
        const both = await store.getValue(name, { versionId: v1, stage: AWSCURRENT });

        expect(noVersion.name).toBe("ResourceNotFoundException");
        expect(wrongStage.name).toBe("InvalidRequestException");
        expect(both.versionId).toBe(v1);
      });
    });
  });
}
