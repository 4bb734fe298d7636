import { InvokeCommand, type InvokeCommandOutput } from "@aws-sdk/client-lambda";
import { DeletionProofUnavailableError, ManualTaskRefusedError } from "../core/manual/errors";
import type { ProveDeletedAnswer } from "../core/manual/prove";
import type { LedgerEntry } from "../core/model";
import type { DeletionProof, DeletionProver } from "../core/ports";

/** The one SDK call this adapter sends (a LambdaClient; a fake in tests). */
export interface LambdaInvoker {
  send(command: InvokeCommand): Promise<InvokeCommandOutput>;
}

/**
 * The operator API's prover: it may not read key values, so it asks the prove-deleted function
 * (one of keyshift's readers) with a synchronous Invoke whose payload is the ledger entry id only.
 * The client must not retry (`maxAttempts: 1`): a retried invoke would ask the exchange again with
 * a deleted key, and repeated invalid-key answers lock the account out. Whatever is not a clear
 * answer — a function error, a timeout, a throttle, a payload keyshift does not understand — is
 * `DeletionProofUnavailableError` (retry the command), never a proof.
 */
export class LambdaDeletionProver implements DeletionProver {
  constructor(
    private readonly lambda: LambdaInvoker,
    private readonly functionName: string,
  ) {}

  async prove(entry: LedgerEntry): Promise<DeletionProof> {
    const answer = parseAnswer(entry.entryId, await this.invoke(entry.entryId));
    if ("refused" in answer) throw new ManualTaskRefusedError(answer.refused);
    return answer.verified;
  }

  private async invoke(entryId: string): Promise<InvokeCommandOutput> {
    try {
      return await this.lambda.send(
        new InvokeCommand({
          FunctionName: this.functionName,
          InvocationType: "RequestResponse",
          Payload: new TextEncoder().encode(JSON.stringify({ entryId })),
        }),
      );
    } catch (err) {
      throw unavailable(
        entryId,
        `the call failed (${err instanceof Error ? err.name : "unknown error"})`,
        err,
      );
    }
  }
}

function parseAnswer(entryId: string, out: InvokeCommandOutput): ProveDeletedAnswer {
  if (out.FunctionError) {
    // The function's own error message stays in its log: only its type is named here.
    const type = errorTypeOf(out.Payload);
    throw unavailable(entryId, `the function failed (${out.FunctionError}${type ? `: ${type}` : ""})`);
  }
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(out.Payload ?? new Uint8Array()));
  } catch {
    throw unavailable(entryId, "its answer is not JSON");
  }
  const answer = body as Partial<{ verified: unknown; refused: unknown }> | null;
  if (answer && (answer.verified === "exchange" || answer.verified === "operator")) {
    return { verified: answer.verified };
  }
  if (answer && typeof answer.refused === "string" && answer.refused.length > 0) {
    return { refused: answer.refused };
  }
  throw unavailable(entryId, "its answer is neither a proof nor a refusal");
}

function errorTypeOf(payload: Uint8Array | undefined): string | undefined {
  try {
    const type = (JSON.parse(new TextDecoder().decode(payload)) as { errorType?: unknown }).errorType;
    return typeof type === "string" ? type.slice(0, 100) : undefined;
  } catch {
    return undefined;
  }
}

function unavailable(entryId: string, why: string, cause?: unknown): DeletionProofUnavailableError {
  return new DeletionProofUnavailableError(
    `could not prove key ${entryId} deleted: ${why}. Nothing was recorded (the entry still awaits ` +
      "the deletion); run `keyshift keys confirm-deleted` again, and if it keeps failing see the prove-deleted function's log",
    cause === undefined ? undefined : { cause },
  );
}
