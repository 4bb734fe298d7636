import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsCall, recordAwsCalls } from "../../harness/local/aws-calls";
import { enrollLocalSecret } from "../../harness/local/scenario";
import { captureLambdaLogs } from "../../harness/local/secret-scan";
import {
  LOCAL_PROVE_DELETED_FUNCTION,
  type LocalStack,
  operatorEnv,
  startLocalStack,
} from "../../harness/local/stack";
import { LambdaDeletionProver } from "../../src/adapters/deletion-prover";
import type { AppDeps } from "../../src/commons/deps";
import { DeletionProofUnavailableError } from "../../src/core/manual/errors";
import { newLedgerEntry } from "../../src/core/revocation/through-ledger";
import { ledgerEntryId } from "../../src/core/tokens";
import { keyshiftProcess } from "./support/keyshift-process";

/**
 * `keys confirm-deleted` through the operator API, as deployed: the operator API (no reader of key
 * values) invokes ProveDeleted through the local Lambda Invoke API (harness/local/lambda-invoke.ts),
 * which reads the old key and asks the Kraken simulator once; the operator API then records the
 * confirmation. Every AWS call is attributed to the function that made it.
 */
const ACCOUNT = "kraken-prove";

let stack: LocalStack;
let logs: ReturnType<typeof captureLambdaLogs>;
let deps: AppDeps;
let keyId = "";
let entryId = "";
let secretId = "";
beforeAll(async () => {
  logs = captureLambdaLogs();
  stack = await startLocalStack({ seed: 17 });
  const enrolled = await enrollLocalSecret(stack, { exchange: "kraken", account: ACCOUNT });
  ({ deps, secretId } = enrolled);
  // The key keyshift asked a person to delete (as RevokePrevious does for a manual account).
  const current = (await deps.store.getVersions(secretId))?.current;
  if (!current) throw new Error("enrolled secret has no current version");
  keyId = current.exchangeKeyId;
  entryId = ledgerEntryId(ACCOUNT, keyId);
  const now = new Date();
  await deps.ledger.openPending(
    newLedgerEntry(
      {
        secretId,
        exchangeAccount: ACCOUNT,
        keyId,
        versionId: current.versionId,
        rotationId: "r-1",
        kind: "previous",
      },
      entryId,
      now,
    ),
  );
  await deps.ledger.markAwaitingOperator(entryId, { at: now });
}, 60_000);
afterAll(async () => {
  logs.restore();
  await stack.close();
});

const confirm = () =>
  keyshiftProcess(stack, ["keys", "confirm-deleted", entryId, "--json"], {
    ...process.env,
    ...operatorEnv(stack, stack.operators.a),
  });

const secretReadsBy = (calls: AwsCall[]) =>
  calls
    .filter((c) => c.action === "secretsmanager:GetSecretValue" && c.resource.includes("keyshift/exchange/"))
    .map((c) => c.functionName);

describe("keys confirm-deleted through the operator API", () => {
  it("is refused while the old key authenticates: ProveDeleted asked, nothing recorded", async () => {
    const recorder = recordAwsCalls();
    const refused = await confirm().finally(recorder.stop);

    expect(refused.code).not.toBe(0);
    expect(`${refused.stdout}${refused.stderr}`).toContain(`key ${keyId} on ${ACCOUNT} still authenticates`);
    expect((await deps.ledger.get(entryId))?.status).toBe("awaiting-operator");
    const confirmed = (await deps.audit.list(secretId)).filter((e) => e.action === "key-deletion-confirmed");
    expect(confirmed).toEqual([]);
    // The old key is read by the reader function only, never by the operator API.
    expect(secretReadsBy(recorder.calls)).toEqual(["ProveDeleted"]);
  });

  it("is proved by the exchange once a person deleted the key, and recorded as the signer", async () => {
    stack.webUi.kraken.deleteKey(ACCOUNT, keyId);
    const recorder = recordAwsCalls();
    const done = await confirm().finally(recorder.stop);

    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ entryId, keyId, verified: "exchange" });
    expect((await deps.ledger.get(entryId))?.status).toBe("revoked");
    const confirmed = (await deps.audit.list(secretId)).filter((e) => e.action === "key-deletion-confirmed");
    expect(confirmed.map((e) => [e.actor, e.details?.verified])).toEqual([
      [`operator:${stack.operators.a.arn}`, "exchange"],
    ]);
    expect(secretReadsBy(recorder.calls)).toEqual(["ProveDeleted"]);
    expect(
      new Set(recorder.calls.filter((c) => c.functionName === "ProveDeleted").map((c) => c.action)),
    ).toEqual(new Set(["dynamodb:GetItem", "secretsmanager:GetSecretValue"]));
  });

  it("the local Invoke API answers as Lambda: a function error is FunctionError, which the prover reports as 'retry'", async () => {
    const lambda = (c: { accessKeyId: string; secretAccessKey: string; sessionToken: string }) =>
      new LambdaClient({
        region: stack.region,
        endpoint: stack.env.KEYSHIFT_ENDPOINT_LAMBDA,
        credentials: c,
        maxAttempts: 1,
      });
    const keyshift = lambda({
      accessKeyId: stack.env.AWS_ACCESS_KEY_ID ?? "",
      secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY ?? "",
      sessionToken: stack.env.AWS_SESSION_TOKEN ?? "",
    });
    const payload = new TextEncoder().encode(JSON.stringify({ entryId: "not-an-entry-id" }));

    const failed = await keyshift.send(
      new InvokeCommand({ FunctionName: LOCAL_PROVE_DELETED_FUNCTION, Payload: payload }),
    );
    expect(failed.FunctionError).toBe("Unhandled");
    expect(JSON.parse(new TextDecoder().decode(failed.Payload))).toMatchObject({
      errorType: "InvalidInputError",
    });
    const prover = new LambdaDeletionProver(keyshift, LOCAL_PROVE_DELETED_FUNCTION);
    const entry = (await deps.ledger.get(entryId)) ?? (undefined as never);
    await expect(prover.prove({ ...entry, entryId: "not-an-entry-id" })).rejects.toThrow(
      DeletionProofUnavailableError,
    );
    // A role not allowed lambda:InvokeFunction (an operator: the function URL only) never runs it.
    await expect(
      lambda(stack.operators.a).send(
        new InvokeCommand({ FunctionName: LOCAL_PROVE_DELETED_FUNCTION, Payload: payload }),
      ),
    ).rejects.toMatchObject({ name: "AccessDeniedException" });
    await expect(
      keyshift.send(new InvokeCommand({ FunctionName: "keyshift-local-Nothing" })),
    ).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });
});
