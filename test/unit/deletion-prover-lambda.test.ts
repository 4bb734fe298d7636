import type { InvokeCommand, InvokeCommandOutput } from "@aws-sdk/client-lambda";
import { describe, expect, it } from "vitest";
import { LambdaDeletionProver, type LambdaInvoker } from "../../src/adapters/deletion-prover";
import { operatorApiProver } from "../../src/commons/wiring-prover";
import { DeletionProofUnavailableError, ManualTaskRefusedError } from "../../src/core/manual/errors";
import type { LedgerEntry } from "../../src/core/model";

/** The operator API's prover: a synchronous Invoke of the prove-deleted function, never a key on the wire. */

const KEY_SECRET = "kraken-private-key-VALUE-never-sent";
const entry: LedgerEntry = {
  entryId: "kraken-1#KEY-OLD",
  secretId: "keyshift/exchange/kraken-1/trading",
  exchangeAccount: "kraken-1",
  keyId: "KEY-OLD",
  versionId: "v-1",
  rotationId: "rot-1",
  status: "awaiting-operator",
  attempts: 0,
  needsOperator: false,
  createdAt: "2030-01-01T00:00:00.000Z",
  updatedAt: "2030-01-01T00:00:00.000Z",
};

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** A fake Lambda client: records every Invoke and answers with `answer` (or throws it). */
function fakeLambda(answer: { FunctionError?: string; Payload?: Uint8Array } | Error) {
  const sent: InvokeCommand[] = [];
  const lambda: LambdaInvoker = {
    send: async (command) => {
      sent.push(command);
      if (answer instanceof Error) throw answer;
      // The SDK wraps Payload in a Uint8Array with string helpers; the adapter reads the bytes only.
      return { $metadata: {}, StatusCode: 200, ...answer } as unknown as InvokeCommandOutput;
    },
  };
  return { lambda, sent };
}

describe("LambdaDeletionProver", () => {
  it("invokes the named function synchronously with the ledger entry id only, and returns its proof", async () => {
    const { lambda, sent } = fakeLambda({ Payload: bytes({ verified: "exchange" }) });

    expect(await new LambdaDeletionProver(lambda, "keyshift-dev-proveDeleted").prove(entry)).toBe("exchange");

    expect(sent).toHaveLength(1);
    const input = sent[0]?.input;
    expect([input?.FunctionName, input?.InvocationType]).toEqual([
      "keyshift-dev-proveDeleted",
      "RequestResponse",
    ]);
    const payload = new TextDecoder().decode(input?.Payload as Uint8Array);
    expect(JSON.parse(payload)).toEqual({ entryId: entry.entryId });
    expect(payload).not.toContain(KEY_SECRET);
    expect(payload).not.toContain(entry.versionId);
  });

  it("passes the person's-word proof through as such", async () => {
    const { lambda } = fakeLambda({ Payload: bytes({ verified: "operator" }) });
    expect(await new LambdaDeletionProver(lambda, "f").prove(entry)).toBe("operator");
  });

  it("turns the function's refusal into the refusal the CLI shows", async () => {
    const { lambda } = fakeLambda({
      Payload: bytes({ refused: "key KEY-OLD on kraken-1 still authenticates" }),
    });
    const out = new LambdaDeletionProver(lambda, "f").prove(entry);
    await expect(out).rejects.toThrow(ManualTaskRefusedError);
    await expect(out).rejects.toThrow("key KEY-OLD on kraken-1 still authenticates");
  });

  it.each([
    [
      "a function error",
      {
        FunctionError: "Unhandled",
        Payload: bytes({ errorType: "AccessDeniedException", errorMessage: "x" }),
      },
    ],
    [
      "a verified-looking function error",
      { FunctionError: "Unhandled", Payload: bytes({ verified: "exchange" }) },
    ],
    ["an answer that is not JSON", { Payload: new TextEncoder().encode("<html>") }],
    ["an answer that is neither proof nor refusal", { Payload: bytes({ verified: "yes" }) }],
    ["no answer at all", {}],
  ])("%s is an error that says to retry, never a proof", async (_what, answer) => {
    const { lambda } = fakeLambda(answer);
    const out = new LambdaDeletionProver(lambda, "f").prove(entry);
    await expect(out).rejects.toThrow(DeletionProofUnavailableError);
    await expect(out).rejects.toThrow(/run `keyshift keys confirm-deleted` again/);
  });

  it("a call that fails or times out is an error that says to retry, and is not retried (a second ask could lock the account)", async () => {
    const timeout = Object.assign(new Error("socket timed out"), { name: "TimeoutError" });
    const { lambda, sent } = fakeLambda(timeout);
    const out = new LambdaDeletionProver(lambda, "f").prove(entry);
    await expect(out).rejects.toThrow(DeletionProofUnavailableError);
    await expect(out).rejects.toThrow(/TimeoutError/);
    expect(sent).toHaveLength(1);
  });
});

describe("the operator API's prover", () => {
  const config = { AWS_REGION: "eu-west-1" } as Parameters<typeof operatorApiProver>[0];

  it("asks the function the stack names, with a client that never retries an invoke", async () => {
    const prover = operatorApiProver({
      ...config,
      KEYSHIFT_PROVE_DELETED_FUNCTION: "keyshift-dev-proveDeleted",
    });
    expect(prover).toBeInstanceOf(LambdaDeletionProver);
    const client = (prover as unknown as { lambda: { config: { maxAttempts: () => Promise<number> } } })
      .lambda;
    expect(await client.config.maxAttempts()).toBe(1);
  });

  it("without one the operator API does not start: in its own process it could only record the person's word", () => {
    expect(() => operatorApiProver(config)).toThrow(/KEYSHIFT_PROVE_DELETED_FUNCTION is required/);
  });
});
