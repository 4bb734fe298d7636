/**
 * The production `SecretsManagerStore` against the same target as secrets-manager.contract.test.ts
 * (the local emulator by default; KEYSHIFT_CONTRACT_SECRETS_MANAGER_ENDPOINT for real AWS or another
 * implementation, see secrets-manager-target.ts), built as src/commons/deps.ts builds it over a
 * SecretsManagerClient. Every assertion is on what the adapter returns or raises: the calls the
 * rotation steps make (putPending with the production `versionTokenFor` token, the promotion and
 * rollback label moves, AWSPENDING's removal) and the reads they decide on.
 *
 * Values are random and never printed: they are compared by fingerprint (src/core/fingerprint.ts),
 * and "not in the message" is checked as a boolean, so a failure cannot echo one either.
 */
import { randomBytes, randomUUID } from "node:crypto";
import {
  CreateSecretCommand,
  ListSecretVersionIdsCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretsManagerStore } from "../../src/adapters/secrets-manager";
import { fingerprint } from "../../src/core/fingerprint";
import { STAGE } from "../../src/core/model";
import { detectPolicyDrift } from "../../src/core/read-policy/drift";
import { buildReadPolicy } from "../../src/core/read-policy/policy";
import { versionTokenFor } from "../../src/core/tokens";
import { eventually, openSecretsManagerTarget, type SecretsManagerTarget } from "./secrets-manager-target";

const { current: AWSCURRENT, previous: AWSPREVIOUS, next: AWSPENDING } = STAGE;

let target: SecretsManagerTarget;
let store: SecretsManagerStore;

beforeAll(async () => {
  target = await openSecretsManagerTarget();
  // As src/commons/deps.ts: `new SecretsManagerStore(new SecretsManagerClient({ region, endpoint }))`.
  store = new SecretsManagerStore(target.client);
});

afterAll(async () => {
  await target?.close();
});

/** A random exchange-key secret value, shaped like production's (`ExchangeKeySecret`). */
function secretValue(): string {
  return JSON.stringify({
    account: "acme",
    keyId: `key-${randomBytes(4).toString("hex")}`,
    secret: randomBytes(24).toString("base64url"),
    permissions: ["trade"],
  });
}

/** A run-unique secret with one AWSCURRENT version holding `value`. */
async function enrolledSecret(label: string, value = secretValue()): Promise<{ name: string; v1: string }> {
  const name = target.name(label);
  const v1 = randomUUID();
  await target.client.send(
    new CreateSecretCommand({ Name: name, SecretString: value, ClientRequestToken: v1 }),
  );
  return { name, v1 };
}

/** A run-unique rotation id and the token production derives from it. */
function rotation(): { rotationId: string; token: string } {
  const rotationId = `rot-${randomUUID()}`;
  return { rotationId, token: versionTokenFor(rotationId) };
}

/** The labelled versions as the adapter lists them: versionId → sorted stages. */
async function stagesOf(name: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const v of await store.listVersions(name)) out[v.versionId] = [...v.stages].sort();
  return out;
}

/** Every version the secret has, labelled or not (the adapter lists only labelled ones). */
async function allVersionIds(name: string): Promise<string[]> {
  const ids: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await target.client.send(
      new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true, NextToken }),
    );
    ids.push(...(page.Versions ?? []).map((v) => v.VersionId ?? ""));
    NextToken = page.NextToken;
  } while (NextToken);
  return ids.sort();
}

async function refusal(call: Promise<unknown>): Promise<SecretsManagerServiceException> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, "expected the call to be refused").toBeInstanceOf(SecretsManagerServiceException);
  expect((error as SecretsManagerServiceException).$metadata.httpStatusCode).toBe(400);
  return error as SecretsManagerServiceException;
}

/** Labels are eventually consistent on AWS for some reads; the emulator gets one attempt. */
async function expectStages(name: string, expected: Record<string, string[]>): Promise<void> {
  await eventually(async () => expect(await stagesOf(name)).toEqual(expected));
}

/** The rotation's forward path as promote-current.ts runs it: AWSCURRENT to `to`, then AWSPENDING off it. */
async function promote(name: string, to: string, from: string): Promise<void> {
  await store.moveStage(name, AWSCURRENT, { to, from });
  await store.moveStage(name, AWSPENDING, { from: to });
}

describe("SecretsManagerStore.putPending with the production token", () => {
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
    expect(error).toBeInstanceOf(ResourceExistsException);
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
    expect(noPending).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe("SecretsManagerStore.moveStage", () => {
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

describe("SecretsManagerStore.getValue after a label move", () => {
  it("AWSCURRENT returns the new version right after promotion, and the old one again after rollback", async () => {
    const current = secretValue();
    const next = secretValue();
    const { name, v1 } = await enrolledSecret("read-after-move", current);
    const { token } = rotation();
    await store.putPending(name, token, next);

    await promote(name, token, v1);
    const promoted = await eventually(async () => {
      const read = await store.getValue(name, { stage: AWSCURRENT });
      expect(read.versionId).toBe(token);
      return read;
    });
    const previous = await store.getValue(name, { stage: AWSPREVIOUS });
    await store.moveStage(name, AWSCURRENT, { to: v1, from: token });
    const rolledBack = await eventually(async () => {
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

describe("SecretsManagerStore.listVersions", () => {
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

describe("SecretsManagerStore as the SecretPolicyStore port", () => {
  it("puts keyshift's read policy (BlockPublicPolicy), reads it back as written, and deletes it", async () => {
    const { name } = await enrolledSecret("read-policy");
    const policy = buildReadPolicy({
      secretId: name,
      consumers: ["arn:aws:iam::111122223333:role/engine"],
      keyshift: ["arn:aws:iam::111122223333:role/keyshift-contract-createNext"],
    });

    const before = await store.getResourcePolicy(name);
    await store.putResourcePolicy(name, policy.document);
    const stored = await eventually(async () => {
      const read = await store.getResourcePolicy(name);
      expect(read).toBeDefined();
      return read;
    });
    await store.deleteResourcePolicy(name);
    const after = await eventually(async () => {
      const read = await store.getResourcePolicy(name);
      expect(read).toBeUndefined();
      return read;
    });

    expect(before).toBeUndefined();
    // What the service hands back is what keyshift wrote, whatever its formatting.
    expect(detectPolicyDrift(stored, policy)).toEqual([]);
    expect(after).toBeUndefined();
  });
});
