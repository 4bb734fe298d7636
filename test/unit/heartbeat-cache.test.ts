import { describe, expect, it } from "vitest";
import {
  CachedRegistrations,
  CachedSecretState,
  REGISTRATIONS_RECHECK_MS,
  REGISTRATIONS_TTL_MS,
  SECRET_STATE_TTL_MS,
} from "../../src/adapters/heartbeat-cache";
import { parseJsonStrict } from "../../src/commons/json";
import { InvalidInputError } from "../../src/core/errors";
import type { ConsumerRegistration, SecretState } from "../../src/core/model";
import { FakeClock } from "./fakes";

function counting<T>(answer: () => T) {
  const calls: unknown[][] = [];
  return {
    calls,
    fn: async (...args: unknown[]) => {
      calls.push(args);
      return answer();
    },
  };
}

describe("CachedSecretState: what a container remembers of a secret", () => {
  it("reads once per TTL; a fresh read goes through and refreshes the entry", async () => {
    const clock = new FakeClock();
    let version = 1;
    const inner = counting<SecretState>(() => ({ versions: { secretId: "s", updatedAt: String(version) } }));
    const cache = new CachedSecretState({ getSecretState: inner.fn }, clock);

    await cache.getSecretState("s");
    await cache.getSecretState("s");
    clock.advance((SECRET_STATE_TTL_MS - 1) / 1000);
    const stillCached = await cache.getSecretState("s");
    version = 2;
    const fresh = await cache.getSecretState("s", { fresh: true });
    const after = await cache.getSecretState("s");

    expect(stillCached.versions?.updatedAt).toBe("1");
    expect([fresh.versions?.updatedAt, after.versions?.updatedAt]).toEqual(["2", "2"]);
    expect(inner.calls).toEqual([
      ["s", {}],
      ["s", { fresh: true }],
    ]);
    clock.advance(SECRET_STATE_TTL_MS / 1000);
    await cache.getSecretState("s");
    expect(inner.calls).toHaveLength(3);
  });

  it("never keeps an entry past the next scheduled start (the fleet comes back to see the lock)", async () => {
    const clock = new FakeClock("2030-01-01T05:59:59.500Z");
    const settings = { schedule: "cron(0 6 * * ? *)", enrolledAt: "2030-01-01T00:00:00.000Z" };
    const inner = counting<SecretState>(() => ({ settings }) as SecretState);
    const cache = new CachedSecretState({ getSecretState: inner.fn }, clock);

    await cache.getSecretState("s");
    clock.advance(0.6); // past 06:00, well within the 2 s TTL
    await cache.getSecretState("s");

    expect(inner.calls).toHaveLength(2);
  });

  it("shares one read between concurrent callers and forgets a failed one", async () => {
    const clock = new FakeClock();
    let fail = true;
    const inner = counting<SecretState>(() => {
      if (fail) throw new Error("throttled");
      return {};
    });
    const cache = new CachedSecretState({ getSecretState: inner.fn }, clock);

    const both = await Promise.allSettled([cache.getSecretState("s"), cache.getSecretState("s")]);
    fail = false;
    await cache.getSecretState("s");

    expect(both.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(inner.calls).toHaveLength(2);
  });
});

describe("CachedRegistrations: who may report, remembered per principal", () => {
  const registration = (secretId: string): ConsumerRegistration => ({
    secretId,
    consumerId: "engine",
    principalArn: "arn:aws:iam::123456789012:role/engine",
    cacheTtlSeconds: 60,
    heartbeatIntervalSeconds: 60,
    required: true,
    registeredAt: "2030-01-01T00:00:00.000Z",
  });

  it("answers from memory for the TTL, re-reads on a recheck only once the entry is a second old", async () => {
    const clock = new FakeClock();
    let secrets = ["a"];
    const inner = counting(() => secrets.map(registration));
    const cache = new CachedRegistrations({ listByPrincipal: inner.fn }, clock);
    const p = "arn:aws:iam::123456789012:role/engine";

    await cache.listByPrincipal(p);
    secrets = ["a", "b"]; // registered for b meanwhile
    const recheckTooSoon = await cache.listByPrincipal(p, { recheck: true });
    clock.advance(REGISTRATIONS_RECHECK_MS / 1000);
    const rechecked = await cache.listByPrincipal(p, { recheck: true });
    const plain = await cache.listByPrincipal(p);

    expect(recheckTooSoon.map((r) => r.secretId)).toEqual(["a"]);
    expect(rechecked.map((r) => r.secretId)).toEqual(["a", "b"]);
    expect(plain.map((r) => r.secretId)).toEqual(["a", "b"]);
    expect(inner.calls).toHaveLength(2);
    clock.advance(REGISTRATIONS_TTL_MS / 1000);
    await cache.listByPrincipal(p);
    expect(inner.calls).toHaveLength(3);
  });

  it("costs an unregistered caller at most one index read a second, however hard it knocks", async () => {
    const clock = new FakeClock();
    const inner = counting<ConsumerRegistration[]>(() => []);
    const cache = new CachedRegistrations({ listByPrincipal: inner.fn }, clock);

    for (let i = 0; i < 100; i++) {
      await cache.listByPrincipal("intruder");
      await cache.listByPrincipal("intruder", { recheck: true });
      clock.advance(0.05);
    }

    // 100 knocks over 5 s: the first read, then one recheck per elapsed second.
    expect(inner.calls.length).toBeLessThanOrEqual(6);
  });
});

describe("parseJsonStrict: one meaning per body", () => {
  it("refuses a key named twice, however it is spelled, naming it", () => {
    const refuse = (text: string) => {
      try {
        parseJsonStrict(text, "malformed");
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidInputError);
        return (err as Error).message;
      }
      throw new Error(`accepted ${text}`);
    };
    expect(refuse('{"secretId":"a","secretId":"b"}')).toContain('"secretId"');
    expect(refuse('{"secretId":"a","\\u0073ecretId":"b"}')).toContain('"secretId"');
    expect(refuse('{"x":[{"k":1,"k":2}]}')).toContain('"k"');
  });

  it("accepts the same key in different objects, and values that look like keys", () => {
    expect(parseJsonStrict('{"a":{"a":1},"b":"a","c":["a","a"]}', "malformed")).toEqual({
      a: { a: 1 },
      b: "a",
      c: ["a", "a"],
    });
    expect(parseJsonStrict('{"s":"x\\",\\"s\\":\\"y"}', "malformed")).toEqual({ s: 'x","s":"y' });
  });

  it("reports malformed JSON with the caller's message", () => {
    expect(() => parseJsonStrict("{", "body must be a JSON object")).toThrow("body must be a JSON object");
  });
});
