/**
 * The operator commands a fleet needs, and the CLI's integrity under a clumsy operator, against
 * the local stack over its real protocols (each command is its own `keyshift` process).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionLocalSecret } from "../../harness/local/scenario";
import { captureLambdaLogs } from "../../harness/local/secret-scan";
import { type LocalStack, startLocalStack } from "../../harness/local/stack";
import { keyshiftProcess } from "./support/keyshift-process";

const CONFIG = "test/fixtures/enrollment/local-fast.yml";
const FAST = "keyshift/exchange/acme-fast/trading";
const FLAKY = "keyshift/exchange/acme-flaky/trading";
const ENGINE_ROLE = "arn:aws:iam::111122223333:role/trading-engine";

let stack: LocalStack;
let logs: ReturnType<typeof captureLambdaLogs>;
beforeAll(async () => {
  logs = captureLambdaLogs();
  stack = await startLocalStack();
  await provisionLocalSecret(stack, { account: "acme-fast", secretId: FAST });
  await provisionLocalSecret(stack, { account: "acme-flaky", secretId: FLAKY });
});
afterAll(async () => {
  logs.restore();
  await stack.close();
});

const keyshift = (...args: string[]) => keyshiftProcess(stack, args);
const register = (consumer: string, principal = ENGINE_ROLE, ...extra: string[]) =>
  keyshift(
    "consumers",
    "register",
    FAST,
    "--config",
    CONFIG,
    "--consumer",
    consumer,
    "--principal",
    principal,
    ...extra,
  );

describe("keyshift consumers", () => {
  it("registers, refuses the same principal under a second id, lists, and removes with a reason", async () => {
    expect((await keyshift("enroll", FAST, "--config", CONFIG)).code).toBe(0);
    expect((await register("trading-engine")).code).toBe(0);

    const twice = await register(
      "engine-2",
      "arn:aws:sts::111122223333:assumed-role/trading-engine/s1",
      "--json",
    );
    const oddId = await register("a#b c", "arn:aws:iam::111122223333:role/other");
    const listed = await keyshift("consumers", "list", FAST, "--json");

    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain(`is already registered for ${FAST} as consumer "trading-engine"`);
    expect(twice.stderr).toContain(`keyshift consumers remove ${FAST} trading-engine`);
    expect(JSON.parse(twice.stdout)).toMatchObject({ error: { code: 1, name: "InvalidInputError" } });
    expect(oddId.code).toBe(64);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({
        consumerId: "trading-engine",
        principalArn: ENGINE_ROLE,
        state: "no-live-instance",
        instances: 0,
      }),
    ]);

    const noReason = await keyshift("consumers", "remove", FAST, "trading-engine");
    const removed = await keyshift(
      "consumers",
      "remove",
      FAST,
      "trading-engine",
      "--reason",
      "decommissioned",
      "--json",
    );
    const ghost = await keyshift("consumers", "remove", FAST, "trading-engine", "--reason", "again");

    expect(noReason.code).toBe(64);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toEqual({
      secretId: FAST,
      consumerId: "trading-engine",
      principalArn: ENGINE_ROLE,
      instancesRemoved: 0,
    });
    expect(ghost.code).toBe(1);
    expect(ghost.stderr).toContain(`keyshift consumers list ${FAST}`);
    expect(JSON.parse((await keyshift("consumers", "list", FAST, "--json")).stdout)).toEqual([]);
    // The principal may serve under a new id now.
    expect((await register("engine-2")).code).toBe(0);
    expect((await keyshift("consumers", "remove", FAST, "engine-2", "--reason", "test")).code).toBe(0);
  }, 240_000);
});

describe("keyshift rotate --wait and list", () => {
  it("exits 0 only when the previous key was revoked; list shows the last rotation and the config's schedule", async () => {
    expect((await keyshift("enroll", FAST, "--config", CONFIG)).code).toBe(0);
    const rotated = await keyshift("rotate", FAST, "--wait");
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/rotation of .* succeeded: previous key \S+ revoked/);

    const listed = await keyshift("list", "--config", CONFIG, "--json");

    expect(listed.code).toBe(0);
    const { secrets: fleet, nextToken } = JSON.parse(listed.stdout) as {
      secrets: Array<Record<string, unknown>>;
      nextToken: string | null;
    };
    expect(nextToken).toBeNull();
    expect(fleet.find((s) => s.secretId === FAST)).toMatchObject({
      enrolled: true,
      state: "free",
      lastRotation: { trigger: "manual", phase: "completed", outcome: "revoked" },
      lagging: 0,
      openRevocations: 0,
      schedule: {
        expression: "rate(1 day)",
        enabled: true,
        source: CONFIG,
        next: null,
        nextBasis: "no scheduled rotation yet",
      },
    });
    // In the file, never enrolled: listed as such, with the command that fixes it.
    expect(fleet.find((s) => s.secretId === FLAKY)).toMatchObject({
      enrolled: false,
      state: "not-enrolled",
      next: expect.stringContaining(`keyshift enroll ${FLAKY}`),
    });
  }, 240_000);

  it("exits 4 when the rotation ended with the previous key NOT revoked, naming the ledger entry", async () => {
    expect((await keyshift("enroll", FLAKY, "--config", CONFIG)).code).toBe(0);
    const oldKey = stack.exchange.keys("acme-flaky")[0]?.keyId;
    stack.exchange.setFault("removeKey", { errorRate: 1, kind: "5xx" });
    try {
      const rotated = await keyshift("rotate", FLAKY, "--wait", "--json");

      expect(rotated.code).toBe(4);
      const result = JSON.parse(rotated.stdout);
      expect(result).toMatchObject({
        status: "SUCCEEDED",
        output: { result: { outcome: "revocation-deferred", previousKeyId: oldKey } },
        previousKey: { entryId: `acme-flaky#${oldKey}`, status: "failed", needsOperator: true },
      });
      expect(rotated.stderr).toContain(`previous key ${oldKey} was NOT revoked`);
      expect(rotated.stderr).toContain(`keyshift revocations retry acme-flaky#${oldKey}`);
      expect(stack.exchange.keys("acme-flaky").find((k) => k.keyId === oldKey)?.status).toBe("active");
    } finally {
      stack.exchange.clearFaults();
    }
  }, 240_000);
});

describe("keyshift messages a clumsy operator meets", () => {
  it("names an unknown ledger entry and the command that lists them, as JSON too", async () => {
    const run = await keyshift("revocations", "retry", "acme-fast#no-such-key", "--json");

    expect(run.code).toBe(1);
    expect(run.stderr).toContain("no ledger entry acme-fast#no-such-key: see `keyshift revocations list`");
    expect(run.stderr).not.toContain("conditional request");
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { name: "InvalidInputError" } });
  });

  it("suggests the real enroll command for a secret that is not enrolled", async () => {
    const run = await keyshift("status", "keyshift/exchange/acme-none/trading");

    expect(run.code).toBe(1);
    expect(run.stderr).toContain("run `keyshift enroll keyshift/exchange/acme-none/trading` first");
    expect(run.stderr).not.toContain("--secret");
  });

  it("refuses an id DynamoDB could not store as a usage error, not a raw key-size error", async () => {
    const run = await keyshift("status", `keyshift/exchange/${"x".repeat(3000)}`);

    expect(run.code).toBe(64);
    expect(run.stderr).toContain("<secretId> must be 1-512 characters");
    expect(run.stderr).not.toMatch(/hashkey|maximum size/i);
  });

  it("with no environment, an unknown command is still a usage error", async () => {
    const { PATH, HOME } = process.env;

    const unknown = await keyshiftProcess(undefined, ["explode"], { PATH, HOME });
    const valid = await keyshiftProcess(undefined, ["list"], { PATH, HOME });

    expect(unknown.code).toBe(64);
    expect(valid.code).toBe(78);
    expect(valid.stderr).toContain("KEYSHIFT_TABLE_CONSUMERS");
  });
});
