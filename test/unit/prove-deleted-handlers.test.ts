import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { InMemoryManualTasks, InMemoryOperatorRequests } from "../../harness/memory";
import type { AppDeps } from "../../src/commons/deps";
import { InvalidInputError } from "../../src/core/errors";
import { ManualTaskRefusedError } from "../../src/core/manual/errors";
import type { LedgerEntry } from "../../src/core/model";
import type { DeletionProver, TaskCallbacks } from "../../src/core/ports";
import { newLedgerEntry } from "../../src/core/revocation/through-ledger";
import { ledgerEntryId } from "../../src/core/tokens";
import { type FakeDeps, makeDeps, type SeededSecret, seedSecret } from "./fakes";

/**
 * The two handlers of a deployed `keys confirm-deleted`: the operator API (no reader of key values)
 * records the confirmation only after its prover said the key is gone; the prove-deleted function
 * (a reader) answers a proof or a refusal, as values on the wire.
 */

/** Enough environment for the handlers' cold start (module-scope config); nothing is called. */
const ENV = {
  AWS_REGION: "eu-west-1",
  KEYSHIFT_TABLE_CONSUMERS: "t-consumers",
  KEYSHIFT_TABLE_ROTATIONS: "t-rotations",
  KEYSHIFT_TABLE_LEDGER: "t-ledger",
  KEYSHIFT_TABLE_AUDIT: "t-audit",
  KEYSHIFT_ALERT_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:t",
  KEYSHIFT_ADMIN_SECRET_PREFIX: "keyshift/admin/",
  KEYSHIFT_REVOCATION_MAX_ATTEMPTS: "3",
  KEYSHIFT_REVOCATION_BASE_SECONDS: "1",
  KEYSHIFT_REVOCATION_CAP_SECONDS: "2",
  KEYSHIFT_EXCHANGE_TIMEOUT_MS: "100",
  KEYSHIFT_APPROVAL_COMMANDS: "default",
  KEYSHIFT_PROVE_DELETED_FUNCTION: "keyshift-test-proveDeleted",
  POWERTOOLS_LOG_LEVEL: "SILENT",
};

let operatorApiRoute: typeof import("../../functions/operator-api").operatorApiRoute;
let proveDeletedStep: typeof import("../../functions/prove-deleted").proveDeletedStep;
beforeAll(async () => {
  for (const [k, v] of Object.entries(ENV)) vi.stubEnv(k, v);
  ({ operatorApiRoute } = await import("../../functions/operator-api"));
  ({ proveDeletedStep } = await import("../../functions/prove-deleted"));
});
afterAll(() => {
  vi.unstubAllEnvs();
});

const CALLER = "arn:aws:sts::123456789012:assumed-role/ops-a/alice";

async function awaitingDeletion(): Promise<{ deps: FakeDeps; seeded: SeededSecret; entry: LedgerEntry }> {
  const deps = makeDeps();
  const seeded = await seedSecret(deps, { account: "kraken-1" });
  deps.exchange.addManualAccount(seeded.account);
  const entryId = ledgerEntryId(seeded.account, seeded.keyId);
  await deps.ledger.openPending(
    newLedgerEntry(
      {
        secretId: seeded.secretId,
        exchangeAccount: seeded.account,
        keyId: seeded.keyId,
        versionId: seeded.versionId,
        rotationId: "rot-1",
        kind: "previous",
      },
      entryId,
      deps.clock.now(),
    ),
  );
  await deps.ledger.markAwaitingOperator(entryId, { at: deps.clock.now() });
  return { deps, seeded, entry: (await deps.ledger.get(entryId)) as LedgerEntry };
}

function confirmEvent(ref: string) {
  return {
    rawPath: "/commands",
    requestContext: { http: { method: "POST", path: "/commands" }, authorizer: { iam: { userArn: CALLER } } },
    body: JSON.stringify({ command: "keys confirm-deleted", args: [ref], idempotencyKey: "key-00000001" }),
    isBase64Encoded: false,
  } as unknown as Parameters<typeof operatorApiRoute>[0];
}

function appDeps(deps: FakeDeps, prover: DeletionProver): AppDeps {
  const callbacks: TaskCallbacks = { succeed: async () => "sent", fail: async () => "sent" };
  return {
    ...deps,
    requests: new InMemoryOperatorRequests(),
    tasks: new InMemoryManualTasks(),
    callbacks,
    prover,
  } as unknown as AppDeps;
}

describe("the operator API's keys confirm-deleted", () => {
  it("with a prover that refuses: the entry stays awaiting-operator and nothing is audited", async () => {
    const { deps, seeded, entry } = await awaitingDeletion();
    // The key IS gone at the exchange: only the prover's refusal can keep the entry awaiting.
    deps.exchange.webDeleteKey(seeded.account, seeded.keyId);
    const trail = await deps.audit.list(seeded.secretId);
    const refusing: DeletionProver = {
      prove: async () => {
        throw new ManualTaskRefusedError(`key ${seeded.keyId} on ${seeded.account} still authenticates`);
      },
    };

    const res = await operatorApiRoute(confirmEvent(entry.entryId), appDeps(deps, refusing));

    const answer = JSON.parse(String(res.body)) as { code: number; events: unknown[] };
    expect(res.statusCode).toBe(200);
    expect(answer.code).not.toBe(0);
    expect(JSON.stringify(answer.events)).toContain("still authenticates");
    expect((await deps.ledger.get(entry.entryId))?.status).toBe("awaiting-operator");
    expect(await deps.audit.list(seeded.secretId)).toEqual(trail);
    // The operator API never proves in its own process (it may not read the key).
    expect(deps.exchange.callsTo("keyStillExists")).toEqual([]);
  });

  it("records the prover's proof, as the authenticated principal, after asking it about this entry", async () => {
    const { deps, seeded, entry } = await awaitingDeletion();
    const asked: string[] = [];
    const prover: DeletionProver = {
      prove: async (e) => {
        asked.push(e.entryId);
        return "exchange";
      },
    };

    const res = await operatorApiRoute(confirmEvent(entry.entryId), appDeps(deps, prover));

    expect(JSON.parse(String(res.body))).toMatchObject({ code: 0 });
    expect(asked).toEqual([entry.entryId]);
    expect((await deps.ledger.get(entry.entryId))?.status).toBe("revoked");
    const confirmed = (await deps.audit.list(seeded.secretId)).filter(
      (e) => e.action === "key-deletion-confirmed",
    );
    expect(confirmed.map((e) => [e.actor, e.details?.verified])).toEqual([
      [`operator:${CALLER}`, "exchange"],
    ]);
  });
});

describe("the prove-deleted function", () => {
  it("answers a proof, or a refusal as a value (the caller tells it from a failure)", async () => {
    const { deps, seeded, entry } = await awaitingDeletion();

    expect(await proveDeletedStep({ entryId: entry.entryId }, deps)).toEqual({
      refused: expect.stringContaining(`key ${seeded.keyId} on ${seeded.account} still authenticates`),
    });
    deps.exchange.webDeleteKey(seeded.account, seeded.keyId);
    expect(await proveDeletedStep({ entryId: entry.entryId }, deps)).toEqual({ verified: "exchange" });
  });

  it("takes an entry id and nothing else, and lets any other failure be the function's error", async () => {
    const { deps, seeded, entry } = await awaitingDeletion();
    await expect(
      proveDeletedStep({ entryId: entry.entryId, secret: seeded.keySecret }, deps),
    ).rejects.toThrow(InvalidInputError);
    await expect(proveDeletedStep({ entryId: "no-hash" }, deps)).rejects.toThrow(InvalidInputError);
    deps.secrets.faults.failNext("getValue", 1, Error, "injected read failure");
    await expect(proveDeletedStep({ entryId: entry.entryId }, deps)).rejects.toThrow("injected read failure");
  });
});
