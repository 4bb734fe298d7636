import { beforeEach, describe, expect, it } from "vitest";
import { InMemoryUsageStore } from "../../harness/memory";
import { heartbeatBodySchema, usageHoursOf } from "../../src/commons/heartbeat-schema";
import { parseOrThrow } from "../../src/commons/parse";
import { heartbeat } from "../../src/core/consumers/heartbeat";
import { PrincipalNotAllowedError } from "../../src/core/errors";
import { ENDPOINT_CLASSES, hourOf } from "../../src/core/misuse/model";
import {
  AUTH_FAILURE_KINDS,
  consumerReportsOf,
  MAX_USAGE_COUNT,
  MAX_USAGE_HOURS_PER_HEARTBEAT,
  USAGE_RETENTION_HOURS,
  type UsageHour,
} from "../../src/core/misuse/usage";
import {
  addConsumer,
  type FakeDeps,
  makeDeps,
  type SeededConsumer,
  type SeededSecret,
  seedSecret,
} from "./fakes";
import { currentFingerprint, rotateToPromoted } from "./support/flow";

describe("heartbeat usage (issue 20): counts ride on heartbeats, stored per key × hour", () => {
  let deps: FakeDeps & { usage: InMemoryUsageStore };
  let seeded: SeededSecret;
  let engine: SeededConsumer;
  let now: number;

  beforeEach(async () => {
    deps = { ...makeDeps({ start: "2030-01-01T10:20:00.000Z" }), usage: new InMemoryUsageStore() };
    seeded = await seedSecret(deps);
    engine = await addConsumer(deps, seeded.secretId, "engine");
    now = hourOf(deps.clock.now().getTime());
  });

  const beat = (usage?: UsageHour[], opts: { instanceId?: string; callerArn?: string; fp?: string } = {}) =>
    heartbeat(
      {
        callerArn: opts.callerArn ?? engine.callerArn,
        secretId: seeded.secretId,
        fingerprint: opts.fp ?? seeded.fingerprint,
        instanceId: opts.instanceId ?? "i-1",
        sourceIp: "203.0.113.7",
        usage,
      },
      deps,
    );
  const hour = (
    h: number,
    requests: UsageHour["requests"],
    authFailures: UsageHour["authFailures"] = {},
  ) => ({
    hour: h,
    fingerprint: seeded.fingerprint,
    requests,
    authFailures,
  });

  it("adds each instance's hour into the secret × key × hour item, with the key id, consumers and source IPs", async () => {
    const first = await beat([hour(now - 1, { spot: 40 }), hour(now, { spot: 5 }, { "ip-not-allowed": 2 })]);
    await beat([hour(now, { spot: 7, derivatives: 1 })], { instanceId: "i-2" });

    expect(first.usage).toEqual({ recorded: 2, ignored: 0 });
    expect(await deps.usage.readUsage(seeded.secretId, now - 1, now + 1)).toEqual([
      {
        secretId: seeded.secretId,
        hour: now - 1,
        fingerprint: seeded.fingerprint,
        keyId: seeded.keyId,
        requests: { spot: 40 },
        authFailures: {},
        consumerIds: ["engine"],
        sourceIps: ["203.0.113.7"],
      },
      {
        secretId: seeded.secretId,
        hour: now,
        fingerprint: seeded.fingerprint,
        keyId: seeded.keyId,
        requests: { spot: 12, derivatives: 1 },
        authFailures: { "ip-not-allowed": 2 },
        consumerIds: ["engine"],
        sourceIps: ["203.0.113.7"],
      },
    ]);
  });

  it("records the instance's source IP on its row, on the first heartbeat and the steady ones", async () => {
    await beat();
    expect((await deps.consumers.getInstance(seeded.secretId, "engine", "i-1"))?.sourceIp).toBe(
      "203.0.113.7",
    );
    await heartbeat(
      {
        callerArn: engine.callerArn,
        secretId: seeded.secretId,
        fingerprint: seeded.fingerprint,
        instanceId: "i-1",
        sourceIp: "198.51.100.9",
      },
      deps,
    );
    expect((await deps.consumers.getInstance(seeded.secretId, "engine", "i-1"))?.sourceIp).toBe(
      "198.51.100.9",
    );
  });

  it("writes nothing for usage and answers no usage field when the heartbeat carries none", async () => {
    const out = await beat();
    await beat();

    expect(out).not.toHaveProperty("usage");
    expect(deps.usage.writes).toEqual([]);
  });

  it("drops hours past the retention, ahead of the clock or empty — and still answers the heartbeat", async () => {
    const out = await beat([
      hour(now - USAGE_RETENTION_HOURS, { spot: 1 }),
      hour(now + 2, { spot: 1 }),
      hour(now, {}),
      hour(now + 1, { account: 1 }),
    ]);

    expect(out.status).toBe("current");
    expect(out.usage).toEqual({ recorded: 1, ignored: 3 });
    expect(deps.usage.writes.map((w) => w.hour)).toEqual([now + 1]);
  });

  it("stores a key the versions do not name under its fingerprint, without a key id", async () => {
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    const newFp = await currentFingerprint(deps, seeded.secretId);
    await beat(
      [{ hour: now, fingerprint: "fp1_00000000000000ff", requests: { spot: 3 }, authFailures: {} }],
      {
        fp: newFp,
      },
    );
    await beat([{ hour: now, fingerprint: seeded.fingerprint, requests: { spot: 1 }, authFailures: {} }], {
      fp: newFp,
    });

    const items = await deps.usage.readUsage(seeded.secretId, now, now + 1);
    expect(items.find((i) => i.fingerprint === "fp1_00000000000000ff")).not.toHaveProperty("keyId");
    // the previous key is still recorded: its usage is tied to its key id
    expect(items.find((i) => i.fingerprint === seeded.fingerprint)?.keyId).toBe(seeded.keyId);
    expect(
      consumerReportsOf(items)
        .map((r) => r.keyId)
        .sort(),
    ).toEqual(["fp1_00000000000000ff", seeded.keyId].sort());
  });

  it("fails the heartbeat when usage cannot be stored, after its own row is written (the consumer sends the counts again)", async () => {
    deps.usage.addUsage = async () => {
      throw new Error("ProvisionedThroughputExceededException");
    };
    await expect(beat([hour(now, { spot: 1 })])).rejects.toThrow("ProvisionedThroughputExceededException");
    expect(await deps.consumers.getInstance(seeded.secretId, "engine", "i-1")).toMatchObject({
      fingerprint: seeded.fingerprint,
    });
  });

  it("stores nothing for a principal not registered for the secret", async () => {
    await expect(
      beat([hour(now, { withdrawal: 9 })], {
        callerArn: "arn:aws:sts::123456789012:assumed-role/intruder/x",
      }),
    ).rejects.toBeInstanceOf(PrincipalNotAllowedError);
    expect(deps.usage.writes).toEqual([]);
  });
});

describe("heartbeat body: the optional usage field, validated strictly", () => {
  const base = { secretId: "keyshift/exchange/a/b", fingerprint: "fp1_0123456789abcdef", instanceId: "i-1" };
  const usageHour = {
    hour: "2030-01-01T10:00:00Z",
    fingerprint: "fp1_0123456789abcdef",
    requests: { spot: 3 },
  };
  const parse = (body: unknown) => parseOrThrow(heartbeatBodySchema, body, "heartbeat");

  it("accepts a body without usage exactly as before, and one with usage", () => {
    expect(parse(base)).toEqual(base);
    const parsed = parse({
      ...base,
      usage: { hours: [{ ...usageHour, authFailures: { "ip-not-allowed": 1 } }] },
    });
    expect(usageHoursOf(parsed.usage)).toEqual([
      {
        hour: Date.parse("2030-01-01T10:00:00Z") / 3_600_000,
        fingerprint: base.fingerprint,
        requests: { spot: 3 },
        authFailures: { "ip-not-allowed": 1 },
      },
    ]);
  });

  it.each([
    ["an unknown endpoint class", { ...usageHour, requests: { futures: 1 } }, /futures/],
    ["an unknown failure kind", { ...usageHour, authFailures: { "bad-nonce": 1 } }, /bad-nonce/],
    ["a negative count", { ...usageHour, requests: { spot: -1 } }, /≥ 0/],
    ["a fractional count", { ...usageHour, requests: { spot: 1.5 } }, /whole number/],
    ["a count past the bound", { ...usageHour, requests: { spot: MAX_USAGE_COUNT + 1 } }, /≤/],
    ["a count as a string", { ...usageHour, requests: { spot: "1" } }, /whole number/],
    ["an hour not on the hour", { ...usageHour, hour: "2030-01-01T10:30:00Z" }, /whole UTC hour/],
    ["an hour with an offset", { ...usageHour, hour: "2030-01-01T10:00:00+01:00" }, /whole UTC hour/],
    ["an impossible date", { ...usageHour, hour: "2030-13-01T10:00:00Z" }, /real date/],
    ["a bad fingerprint", { ...usageHour, fingerprint: "fp1_XYZ" }, /fingerprint/],
    ["an extra field", { ...usageHour, ip: "10.0.0.1" }, /ip/],
  ])("refuses %s, naming the field", (_what, h, problem) => {
    expect(() => parse({ ...base, usage: { hours: [h] } })).toThrow(problem);
  });

  it("refuses more hours than one heartbeat carries, an (hour, fingerprint) twice, and unknown usage fields", () => {
    const hours = Array.from({ length: MAX_USAGE_HOURS_PER_HEARTBEAT + 1 }, (_, i) => ({
      ...usageHour,
      hour: `2030-01-01T0${i}:00:00Z`,
    }));
    expect(() => parse({ ...base, usage: { hours } })).toThrow(/at most/);
    expect(() => parse({ ...base, usage: { hours: [usageHour, usageHour] } })).toThrow(/twice/);
    expect(() => parse({ ...base, usage: { hours: [], dropped: 3 } })).toThrow(/dropped/);
    expect(() => parse({ ...base, usage: [usageHour] })).toThrow(/usage/);
  });

  it("keeps the largest body usage allows under the front door's 4096 bytes", () => {
    const counts = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, MAX_USAGE_COUNT]));
    const body = {
      secretId: "s".repeat(512),
      fingerprint: base.fingerprint,
      instanceId: "i".repeat(128),
      usage: {
        hours: Array.from({ length: MAX_USAGE_HOURS_PER_HEARTBEAT }, (_, i) => ({
          hour: `2030-01-01T0${i}:00:00.000Z`,
          fingerprint: base.fingerprint,
          requests: counts(ENDPOINT_CLASSES),
          authFailures: counts(AUTH_FAILURE_KINDS),
        })),
      },
    };
    expect(() => parse(body)).not.toThrow();
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(4096);
  });
});
