import { describe, expect, it } from "vitest";
import {
  checkRequestTruth,
  checkRevocationTruth,
  type RegistryFacts,
} from "../../harness/sim/oracles/liveness";
import { checkReadPolicy } from "../../harness/sim/oracles/read-policy";
import {
  checkAuditRecords,
  checkLedgerRecords,
  checkRecordedCurrent,
  type ExchangeCallRecord,
  type ExchangeTruth,
} from "../../harness/sim/oracles/records";
import { type Answer, Truth } from "../../harness/sim/truth";
import type { AuditEntry, LedgerEntry } from "../../src/core/model";
import type { ExchangeKey } from "../../src/core/ports";

const S = "keyshift/sim/s1";
const registry = (required = true, grace = 10): RegistryFacts => ({
  required: () => required,
  graceSeconds: () => grace,
});

/** An instance that reported `keyId` at `at` ms and was told to come back within `next` s. */
function reported(truth: Truth, keyId: string, at: number, next: number, status: Answer = "current") {
  const inst = truth.instance({ actor: `inst:c1/i1`, secretId: S, consumerId: "c1", instanceId: "i1" });
  inst.held = keyId;
  truth.answered(truth.sent(inst, keyId, at), status, next);
  return inst;
}

const call = (truth: Truth, at: number, keyId = "key-1") => ({
  method: "disableKey",
  keyId,
  at,
  seq: truth.tick(),
});

describe("I1 from the world's record (oracles/liveness)", () => {
  it("flags a revocation while a required instance holds the key and is live by its own promise", () => {
    const truth = new Truth();
    const inst = reported(truth, "key-1", 0, 30);
    const out = checkRevocationTruth(call(truth, 35_000), [inst], registry(), truth, () => undefined);
    expect(out.map((v) => v.signature)).toEqual([
      "I1: disableKey while a live required instance holds the key",
    ]);
  });

  it("passes once the promise (sent-at + told interval + grace) has run out, or the instance moved", () => {
    const truth = new Truth();
    const inst = reported(truth, "key-1", 0, 30);
    expect(checkRevocationTruth(call(truth, 41_000), [inst], registry(), truth, () => undefined)).toEqual([]);
    inst.held = "key-2";
    expect(checkRevocationTruth(call(truth, 1_000), [inst], registry(), truth, () => undefined)).toEqual([]);
  });

  it("passes for an optional consumer, a stopped instance and an instance that never reported the key", () => {
    const truth = new Truth();
    const inst = reported(truth, "key-1", 0, 30);
    expect(checkRevocationTruth(call(truth, 1_000), [inst], registry(false), truth, () => undefined)).toEqual(
      [],
    );
    inst.running = false;
    expect(checkRevocationTruth(call(truth, 1_000), [inst], registry(), truth, () => undefined)).toEqual([]);
    const fresh = truth.instance({ actor: "inst:c1/i2", secretId: S, consumerId: "c1", instanceId: "i2" });
    fresh.held = "key-1";
    expect(checkRevocationTruth(call(truth, 1_000), [fresh], registry(), truth, () => undefined)).toEqual([]);
  });

  it("exempts a first report that came after the invocation's decision read (the race), not one before", () => {
    const truth = new Truth();
    const decision = { seq: truth.tick(), at: 0 };
    const late = reported(truth, "key-1", 0, 30);
    expect(checkRevocationTruth(call(truth, 1_000), [late], registry(), truth, () => decision)).toEqual([]);
    const early = { seq: truth.tick(), at: 1_000 };
    expect(checkRevocationTruth(call(truth, 1_000), [late], registry(), truth, () => early)).toHaveLength(1);
  });

  it("does not count a report when a later heartbeat carried another key (the server may hold that one)", () => {
    const truth = new Truth();
    const inst = reported(truth, "key-1", 0, 30);
    truth.sent(inst, "key-2", 1_000).failed = true;
    expect(checkRevocationTruth(call(truth, 2_000), [inst], registry(), truth, () => undefined)).toEqual([]);
  });

  it("exempts a break-glass of that very key only: past an emergency's deadline, until a restore", () => {
    const truth = new Truth();
    const inst = reported(truth, "key-1", 0, 300);
    truth.breakGlass("key-9", "force-revoke", 0);
    expect(checkRevocationTruth(call(truth, 1_000), [inst], registry(), truth, () => undefined)).toHaveLength(
      1,
    );
    truth.breakGlass("key-1", "emergency", 0, 110_000);
    expect(
      checkRevocationTruth(call(truth, 100_000), [inst], registry(), truth, () => undefined),
    ).toHaveLength(1);
    expect(checkRevocationTruth(call(truth, 111_000), [inst], registry(), truth, () => undefined)).toEqual(
      [],
    );
    truth.effect("enableKey", "key-1", 120_000);
    expect(
      checkRevocationTruth(call(truth, 130_000), [inst], registry(), truth, () => undefined),
    ).toHaveLength(1);
  });
});

describe("I6 from the world's record (oracles/liveness)", () => {
  it("flags a request with a key that is no longer active, lazy or prompt alike", () => {
    const truth = new Truth();
    const inst = reported(truth, "key-1", 0, 30);
    truth.effect("disableKey", "key-1", 5_000);
    expect(checkRequestTruth(inst, "disabled", true, truth).map((v) => v.signature)).toEqual([
      "I6: request with a removed key",
    ]);
    expect(checkRequestTruth(inst, "active", true, truth)).toEqual([]);
    expect(checkRequestTruth(inst, "removed", false, truth)).toEqual([]);
  });

  it("exempts a genuine break-glass of the key and an instance told stale before the key went", () => {
    const truth = new Truth();
    const inst = reported(truth, "key-1", 0, 30);
    truth.breakGlass("key-1", "force-revoke", 1_000);
    truth.effect("removeKey", "key-1", 2_000);
    expect(checkRequestTruth(inst, "removed", true, truth)).toEqual([]);

    const other = new Truth();
    const told = reported(other, "key-1", 0, 0, "stale");
    other.effect("removeKey", "key-1", 2_000);
    expect(checkRequestTruth(told, "removed", true, other)).toEqual([]);
  });
});

const key = (keyId: string, status: ExchangeKey["status"]): ExchangeKey => ({
  keyId,
  label: "l",
  permissions: [],
  status,
  createdAt: "2030-01-01T00:00:00.000Z",
});
const exchange = (keys: ExchangeKey[], calls: ExchangeCallRecord[] = []): ExchangeTruth => ({
  keys: () => keys,
  calls,
});
const entry = (status: LedgerEntry["status"]): LedgerEntry => ({
  entryId: "acct-1#key-1",
  secretId: S,
  exchangeAccount: "acct-1",
  keyId: "key-1",
  versionId: "v1",
  rotationId: "r1",
  status,
  attempts: 1,
  needsOperator: false,
  createdAt: "2030-01-01T00:00:00.000Z",
  updatedAt: "2030-01-01T00:00:00.000Z",
});

describe("I9 no false record (oracles/records)", () => {
  it("ledger: disabled needs the key disabled or gone, revoked needs it gone, restored needs it active", () => {
    expect(
      checkLedgerRecords([entry("disabled")], exchange([key("key-1", "active")]), new Map()),
    ).toHaveLength(1);
    expect(checkLedgerRecords([entry("disabled")], exchange([key("key-1", "disabled")]), new Map())).toEqual(
      [],
    );
    expect(checkLedgerRecords([entry("disabled")], exchange([]), new Map())).toEqual([]);
    expect(
      checkLedgerRecords([entry("revoked")], exchange([key("key-1", "disabled")]), new Map()),
    ).toHaveLength(1);
    expect(
      checkLedgerRecords([entry("restored")], exchange([key("key-1", "disabled")]), new Map()),
    ).toHaveLength(1);
    expect(checkLedgerRecords([entry("restored")], exchange([key("key-1", "active")]), new Map())).toEqual(
      [],
    );
  });

  it("ledger: a claim may go stale only through a later exchange call on that key", () => {
    const seen = new Map<string, { status: string; calls: number }>();
    const calls: ExchangeCallRecord[] = [];
    const keys = [key("key-1", "disabled")];
    expect(checkLedgerRecords([entry("disabled")], { keys: () => keys, calls }, seen)).toEqual([]);
    keys[0] = key("key-1", "active");
    expect(checkLedgerRecords([entry("disabled")], { keys: () => keys, calls }, seen)).toHaveLength(1);
    calls.push({ method: "enableKey", account: "acct-1", keyId: "key-1" });
    expect(checkLedgerRecords([entry("disabled")], { keys: () => keys, calls }, seen)).toEqual([]);
  });

  it("audit: each claim as it appears; a later call on the key after the reported effect excuses it", () => {
    const a = (action: string): AuditEntry => ({
      secretId: S,
      actor: "x",
      action,
      details: { keyId: "key-1" },
      seq: 3,
      at: "2030-01-01T00:00:00.000Z",
      prevHash: "p",
      hash: "h",
    });
    const active = [key("key-1", "active")];
    expect(checkAuditRecords([a("key-disabled")], "acct-1", exchange(active))).toHaveLength(1);
    expect(checkAuditRecords([a("key-revoked")], "acct-1", exchange(active))).toHaveLength(1);
    expect(
      checkAuditRecords([a("key-restored")], "acct-1", exchange([key("key-1", "disabled")])),
    ).toHaveLength(1);
    expect(checkAuditRecords([a("key-revoked")], "acct-1", exchange([]))).toEqual([]);
    const disabledThenEnabled = exchange(active, [
      { method: "disableKey", account: "acct-1", keyId: "key-1" },
      { method: "enableKey", account: "acct-1", keyId: "key-1" },
    ]);
    expect(checkAuditRecords([a("key-disabled")], "acct-1", disabledThenEnabled)).toEqual([]);
    expect(checkAuditRecords([a("rotation-started")], "acct-1", exchange(active))).toEqual([]);
  });

  it("status: the recorded current key must authenticate", () => {
    expect(checkRecordedCurrent(S, "key-1", "acct-1", exchange([key("key-1", "disabled")]))).toHaveLength(1);
    expect(checkRecordedCurrent(S, "key-1", "acct-1", exchange([key("key-1", "active")]))).toEqual([]);
  });
});

describe("read policy equals the registry (oracles/read-policy)", () => {
  const role = (n: string) => `arn:aws:iam::123456789012:role/${n}`;
  const doc = (readers: string[]) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "KeyshiftRegisteredReadersOnly",
          Effect: "Deny",
          Principal: "*",
          Action: ["secretsmanager:GetSecretValue"],
          Resource: "*",
          Condition: {
            ArnNotLike: {
              "aws:PrincipalArn": readers.flatMap((r) => [r, r.replace(":role/", ":role/*/")]),
            },
          },
        },
      ],
    });

  it("passes when the readers are exactly the registered principals and keyshift's own", () => {
    expect(checkReadPolicy(S, doc([role("c1"), role("ks")]), [role("c1")], [role("ks")])).toEqual([]);
  });

  it("flags a removed consumer still allowed, a registered one denied, and no policy at all", () => {
    expect(
      checkReadPolicy(S, doc([role("c1"), role("gone"), role("ks")]), [role("c1")], [role("ks")]),
    ).toHaveLength(1);
    expect(checkReadPolicy(S, doc([role("ks")]), [role("c1")], [role("ks")])).toHaveLength(1);
    expect(checkReadPolicy(S, undefined, [role("c1")], [role("ks")]).map((v) => v.signature)).toEqual([
      "I9: read policy guards nothing",
    ]);
  });
});
