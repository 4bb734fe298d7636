/**
 * Issue 20: a retired key the exchange saw authenticate after its retirement (the per-key last use
 * an exchange reports, Gate's `last_access`) is a critical finding, and the hourly run stops the
 * key at once through the ledger — under the same guard as every revocation (I1): never a key a
 * consumer still holds.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { InMemoryMisuseAcks, InMemoryUsageStore } from "../../harness/memory";
import { ExchangeRetryableError } from "../../src/core/errors";
import { misuseHourly } from "../../src/core/misuse/hourly";
import { hourOf } from "../../src/core/misuse/model";
import { acknowledgeFinding, misuseReport } from "../../src/core/misuse/report";
import { MISUSE_ACTOR } from "../../src/core/misuse/retired-action";
import {
  judgeRetiredKeys,
  RETIRED_USE_TOLERANCE_MS,
  retiredKeySightings,
} from "../../src/core/misuse/retired-keys";
import type { LedgerEntry } from "../../src/core/model";
import { revokePrevious } from "../../src/core/revocation/revoke-previous";
import { ledgerEntryId } from "../../src/core/tokens";
import {
  addConsumer,
  type FakeDeps,
  makeDeps,
  type SeededConsumer,
  type SeededSecret,
  seedSecret,
  TINY_OVERLAP,
  TWO_STAGE,
} from "./fakes";
import { currentFingerprint, report, rotateToPromoted } from "./support/flow";

const T0 = Date.parse("2030-03-01T10:00:00.000Z");

function entry(status: LedgerEntry["status"], createdAtMs = T0): LedgerEntry {
  const at = new Date(createdAtMs).toISOString();
  return {
    entryId: "acct#k-old",
    secretId: "s",
    exchangeAccount: "acct",
    keyId: "k-old",
    versionId: "v1",
    rotationId: "r1",
    kind: "previous",
    status,
    attempts: 0,
    needsOperator: false,
    createdAt: at,
    updatedAt: at,
  };
}

const key = (lastUsedAtMs?: number) => ({
  keyId: "k-old",
  label: "old",
  permissions: ["trade"],
  status: "active" as const,
  createdAt: new Date(T0 - 86_400_000).toISOString(),
  ...(lastUsedAtMs === undefined ? {} : { lastUsedAt: new Date(lastUsedAtMs).toISOString() }),
});

describe("judgeRetiredKeys (pure)", () => {
  it("a use past the tolerance after retirement is one critical finding about the hour of that use, in numbers", () => {
    const used = T0 + RETIRED_USE_TOLERANCE_MS + 60_000;
    const [use] = judgeRetiredKeys([entry("failed")], [key(used)]);
    expect(use?.finding).toEqual({
      kind: "retired-key-used",
      severity: "critical",
      secretId: "s",
      keyId: "k-old",
      hour: hourOf(used),
      evidence: {
        secondsAfterRetired: (RETIRED_USE_TOLERANCE_MS + 60_000) / 1000,
        lastUsedEpochSeconds: Math.floor(used / 1000),
        disabled: 0,
      },
      command: "keyshift revocations retry acct#k-old",
    });
  });

  it("within the tolerance (a consumer's last in-flight request), or never used since: nothing", () => {
    expect(judgeRetiredKeys([entry("pending")], [key(T0 + RETIRED_USE_TOLERANCE_MS)])).toEqual([]);
    expect(judgeRetiredKeys([entry("pending")], [key(T0 - 5000)])).toEqual([]);
    expect(judgeRetiredKeys([entry("pending")], [key()])).toEqual([]);
  });

  it("judges only keys keyshift retired and has not seen gone: pending, failed, disabled, awaiting-operator", () => {
    const late = T0 + 3_600_000;
    const judged = (status: LedgerEntry["status"]) => judgeRetiredKeys([entry(status)], [key(late)]).length;
    expect(["pending", "failed", "disabled", "awaiting-operator"].map((s) => judged(s as never))).toEqual([
      1, 1, 1, 1,
    ]);
    // An operator put it back in service (audited), or it is gone.
    expect(["restoring", "restored", "revoked"].map((s) => judged(s as never))).toEqual([0, 0, 0]);
  });
});

describe("restored keys and the size of the read", () => {
  it("a key an operator restored and an attempt re-retired is judged from the re-retirement, not the opening", () => {
    const reRetired = T0 + 6 * 3_600_000;
    const restored = {
      ...entry("failed"),
      reRetiredAt: new Date(reRetired).toISOString(),
      lastRestoredAt: new Date(T0 + 3_600_000).toISOString(),
    };
    // In service again between the restore and the re-retirement: its use there is no finding.
    expect(judgeRetiredKeys([restored], [key(reRetired - 60_000)])).toEqual([]);
    const late = reRetired + RETIRED_USE_TOLERANCE_MS + 1000;
    expect(
      judgeRetiredKeys([restored], [key(late)]).map((u) => u.finding.evidence.secondsAfterRetired),
    ).toEqual([Math.round((RETIRED_USE_TOLERANCE_MS + 1000) / 1000)]);
  });

  it("a key never restored is judged from the opening, whatever its first attempt's time", () => {
    const late = { ...entry("failed"), reRetiredAt: new Date(T0 + 6 * 3_600_000).toISOString() };
    expect(judgeRetiredKeys([late], [key(T0 + 3_600_000)])).toHaveLength(1);
  });

  it("reads the ledger once per retired status, whatever the number of secrets; other secrets' entries are not judged", async () => {
    const statuses: string[] = [];
    const entries = [
      { ...entry("failed"), secretId: "s-7" },
      { ...entry("pending"), secretId: "not-asked" },
    ];
    const listed: string[] = [];
    const sightings = await retiredKeySightings(
      Array.from({ length: 500 }, (_, i) => ({ secretId: `s-${i}`, exchangeAccount: "acct" })),
      {
        ledger: {
          listByStatus: async (status) => {
            statuses.push(status);
            return entries.filter((e) => e.status === status);
          },
        },
        exchange: {
          capabilities: async () => ({ maxActiveKeys: 2, supportsDisable: true }) as never,
          listKeys: async (account) => {
            listed.push(account);
            return { keys: [key(T0 + 3_600_000)], maxActiveKeys: 2 };
          },
        },
      },
    );
    expect(statuses.sort()).toEqual(["awaiting-operator", "disabled", "failed", "pending"]);
    expect(listed).toEqual(["acct"]);
    expect(sightings.uses.map((u) => u.finding.secretId)).toEqual(["s-7"]);
  });
});

describe("the hourly run stops a retired key seen in use", () => {
  let deps: FakeDeps & { usage: InMemoryUsageStore; acks: InMemoryMisuseAcks };
  let seeded: SeededSecret;
  let engine: SeededConsumer;
  const entryId = () => ledgerEntryId(seeded.account, seeded.keyId);
  const oldKey = () => ({ keyId: seeded.keyId, secret: seeded.keySecret });
  /** The consumer keeps heartbeating the current key, as a live one does. */
  const heartbeatCurrent = async () =>
    report(deps, seeded.secretId, engine, "i-1", await currentFingerprint(deps, seeded.secretId));
  const hourly = async () => {
    await heartbeatCurrent();
    return misuseHourly({ ...deps, retiredKeys: deps, stop: deps });
  };
  const keyStatus = () =>
    deps.exchange.snapshot(seeded.account).keys.find((k) => k.keyId === seeded.keyId)?.status ?? "gone";

  beforeEach(async () => {
    deps = {
      ...makeDeps({ start: "2030-03-01T10:00:00.000Z" }),
      usage: new InMemoryUsageStore(),
      acks: new InMemoryMisuseAcks(),
    };
    deps.exchange.capabilitiesValue = { ...TWO_STAGE };
    seeded = await seedSecret(deps, { settings: TINY_OVERLAP });
    engine = await addConsumer(deps, seeded.secretId, "engine");
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    deps.clock.advance(1);
    await report(deps, seeded.secretId, engine, "i-1", await currentFingerprint(deps, seeded.secretId));
    // The exchange refuses the revocation: the entry is failed, the key still authenticates.
    deps.exchange.faults.failNext("disableKey", 1, ExchangeRetryableError, "HTTP 503");
    await revokePrevious({ secretId: seeded.secretId, rotationId: "rot-1" }, deps).catch(() => undefined);
  });

  it("a use after retirement: alerted critical, disabled at once through the ledger, audited under the detector", async () => {
    expect((await deps.ledger.get(entryId()))?.status).toBe("failed");
    deps.clock.advance(600);
    deps.exchange.useKey(seeded.account, oldKey(), deps.clock.now()); // the attacker's order
    deps.clock.advance(60);

    const result = await hourly();

    expect(result.retiredKeyActions).toEqual([
      { findingId: expect.stringMatching(/^mf_/), entryId: entryId(), outcome: "disabled" },
    ]);
    expect(keyStatus()).toBe("disabled");
    expect((await deps.ledger.get(entryId()))?.status).toBe("disabled");
    const alert = deps.alerts.sent.find(
      (a) => a.kind === "misuse-finding" && a.details.kind === "retired-key-used",
    );
    expect(alert?.details).toMatchObject({
      severity: "critical",
      keyId: seeded.keyId,
      keyshiftDid: `disabled (ledger entry ${entryId()})`,
    });
    expect(JSON.stringify(deps.alerts.sent)).not.toContain(seeded.keySecret);
    const audit = deps.audit.all().filter((e) => e.secretId === seeded.secretId && e.actor === MISUSE_ACTOR);
    expect(audit.map((e) => e.action)).toContain("key-disabled");
    // The attacker's next order fails.
    expect(() => deps.exchange.useKey(seeded.account, oldKey(), deps.clock.now())).toThrow(/401/);
  });

  it("an acknowledged finding still stops the key: an ack silences an alert, it never keeps a retired key alive", async () => {
    deps.clock.advance(600);
    deps.exchange.useKey(seeded.account, oldKey(), deps.clock.now());
    deps.clock.advance(60);
    const seen = await misuseReport(
      { since: new Date(deps.clock.now().getTime() - 7_200_000) },
      {
        ...deps,
        retiredKeys: deps,
      },
    );
    const [sighting] = seen.retiredKeysSeen;
    expect(sighting).toBeDefined();
    await acknowledgeFinding(
      {
        findingId: sighting?.findingId ?? "",
        reason: "pen test",
        until: new Date(deps.clock.now().getTime() + 86_400_000),
        actor: "operator:test",
      },
      { ...deps, retiredKeys: deps },
    );

    const result = await hourly();

    expect(result.retiredKeyActions.map((a) => a.outcome)).toEqual(["disabled"]);
    expect(keyStatus()).toBe("disabled");
    expect(deps.alerts.sent.filter((a) => a.kind === "misuse-finding")).toEqual([]);
  });

  it("a consumer still holding the retired key: held by the guard (I1), the key untouched, the finding still critical", async () => {
    // Another instance of the consumer comes up on the previous key (a stale deployment).
    await report(deps, seeded.secretId, engine, "i-2", seeded.fingerprint);
    deps.clock.advance(600);
    deps.exchange.useKey(seeded.account, oldKey(), deps.clock.now());
    deps.clock.advance(60);
    await report(deps, seeded.secretId, engine, "i-2", seeded.fingerprint);

    const result = await hourly();

    expect(result.retiredKeyActions.map((a) => a.outcome)).toEqual(["held"]);
    expect(keyStatus()).toBe("active");
    expect(
      deps.alerts.sent.some((a) => a.kind === "misuse-finding" && a.details.kind === "retired-key-used"),
    ).toBe(true);
  });

  it("an exchange that fails the listing: named, never judged clean, the run goes on", async () => {
    deps.exchange.faults.failNext("listKeys", 1, ExchangeRetryableError, "HTTP 503");

    const result = await hourly();

    expect(result.keyListingFailed).toEqual([seeded.account]);
    expect(result.retiredKeyActions).toEqual([]);
  });
});
