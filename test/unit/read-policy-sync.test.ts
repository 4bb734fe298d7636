import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  ConfigurationError,
  InvalidInputError,
  ReadPolicyTooLargeError,
  SecretNotEnrolledError,
} from "../../src/core/errors";
import { enrollSecret, registerConsumer } from "../../src/core/operator/operator";
import { buildReadPolicy } from "../../src/core/read-policy/policy";
import { readPolicyDrift, syncReadPolicy } from "../../src/core/read-policy/sync";
import {
  addConsumer,
  DEFAULT_SETTINGS,
  type FakeDeps,
  makeDeps,
  type SeededSecret,
  seedSecret,
  TEST_KEYSHIFT_READER,
} from "./fakes";

const exceptionsOf = (document: string | undefined): string[] =>
  JSON.parse(document ?? "{}").Statement[0].Condition.ArnNotLike["aws:PrincipalArn"];
const consumerRole = (name: string) => `arn:aws:iam::123456789012:role/${name}`;

describe("read policy = the registry", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps);
  });

  const policy = () => deps.policies.getResourcePolicy(seeded.secretId);

  it("enrolling puts a policy that lets only keyshift's reader through, and audits its digest", async () => {
    expect(exceptionsOf(await policy())).toEqual([
      TEST_KEYSHIFT_READER,
      "arn:aws:iam::123456789012:role/*/keyshift-test-createNext",
    ]);
    const synced = (await deps.audit.list(seeded.secretId)).filter((e) => e.action === "read-policy-synced");
    expect(synced).toHaveLength(1);
    expect(synced[0]?.details).toMatchObject({
      digest: expect.stringMatching(/^sha256:/),
      previousDigest: null,
      readers: [TEST_KEYSHIFT_READER],
    });
    // A digest and the reader list, never the document itself.
    expect(JSON.stringify(synced[0])).not.toContain("ArnNotLike");
  });

  it("registering a consumer lets its role read; the next sync of an unchanged registry writes nothing", async () => {
    await addConsumer(deps, seeded.secretId, "engine", { path: "trading/" });

    expect(exceptionsOf(await policy())).toContain("arn:aws:iam::123456789012:role/*/engine");
    const puts = deps.policies.puts.length;
    const again = await syncReadPolicy(deps, seeded.secretId, "operator:test");
    expect(again.changed).toBe(false);
    expect(deps.policies.puts).toHaveLength(puts);
  });

  it("repairs a policy edited by hand, and readPolicyDrift reports the edit before that", async () => {
    const doc = JSON.parse((await policy()) ?? "{}");
    doc.Statement[0].Condition.ArnNotLike["aws:PrincipalArn"].push("arn:aws:iam::999988887777:role/intruder");
    deps.policies.edit(seeded.secretId, JSON.stringify(doc));

    expect((await readPolicyDrift(deps, seeded.secretId)).map((f) => f.kind)).toEqual(["extra-reader"]);
    const out = await syncReadPolicy(deps, seeded.secretId, "operator:alice");

    expect(out.changed).toBe(true);
    expect(await readPolicyDrift(deps, seeded.secretId)).toEqual([]);
    const last = (await deps.audit.list(seeded.secretId)).at(-1);
    expect(last).toMatchObject({ action: "read-policy-synced", actor: "operator:alice" });
    expect(last?.details?.previousDigest).toMatch(/^sha256:/);
  });

  it("a registration stored while a sync was writing is let in by the re-check", async () => {
    await addConsumer(deps, seeded.secretId, "engine");
    const realPut = deps.policies.putResourcePolicy.bind(deps.policies);
    // Another operator registers a consumer right after this sync built its policy.
    vi.spyOn(deps.policies, "putResourcePolicy").mockImplementationOnce(async (secretId, document) => {
      await realPut(secretId, document);
      await deps.consumers.register({
        secretId,
        consumerId: "late",
        principalArn: consumerRole("late"),
        cacheTtlSeconds: 60,
        heartbeatIntervalSeconds: 30,
        required: true,
        registeredAt: deps.clock.now().toISOString(),
      });
    });
    deps.policies.edit(seeded.secretId, "{}");

    await syncReadPolicy(deps, seeded.secretId, "operator:test");

    expect(exceptionsOf(await policy())).toContain(consumerRole("late"));
    expect(await readPolicyDrift(deps, seeded.secretId)).toEqual([]);
  });

  it("refuses a registration the policy could not hold, before storing it", async () => {
    const many = Array.from({ length: 200 }, (_, i) => consumerRole(`service-with-a-long-name-${i}`));
    const fits = many.filter((_, i) => {
      try {
        buildReadPolicy({
          secretId: seeded.secretId,
          consumers: many.slice(0, i + 1),
          keyshift: [TEST_KEYSHIFT_READER],
        });
        return true;
      } catch {
        return false;
      }
    }).length;
    for (const [i, principalArn] of many.slice(0, fits).entries()) {
      await deps.consumers.register({
        secretId: seeded.secretId,
        consumerId: `c${i}`,
        principalArn,
        cacheTtlSeconds: 60,
        heartbeatIntervalSeconds: 30,
        required: false,
        registeredAt: deps.clock.now().toISOString(),
      });
    }

    const one = registerConsumer(
      {
        secretId: seeded.secretId,
        consumerId: "one-too-many",
        principalArn: many[fits] ?? "",
        cacheTtlSeconds: 60,
        heartbeatIntervalSeconds: 30,
        required: true,
      },
      "operator:test",
      deps,
    );

    await expect(one).rejects.toBeInstanceOf(ReadPolicyTooLargeError);
    expect(await deps.consumers.findByPrincipal(many[fits] ?? "", seeded.secretId)).toEqual([]);
  });

  it("refuses to sync a secret that is not enrolled", async () => {
    await expect(syncReadPolicy(deps, "keyshift/exchange/nobody", "op")).rejects.toBeInstanceOf(
      SecretNotEnrolledError,
    );
  });
});

describe("enrollment and the read policy", () => {
  it("with no keyshift reader configured, enrollment fails naming the variable and writes nothing", async () => {
    const deps = { ...makeDeps(), keyshiftReaders: [] };
    deps.secrets.create(
      "keyshift/exchange/x",
      JSON.stringify({ account: "a", keyId: "k", secret: "s".repeat(20), permissions: [] }),
    );

    const out = enrollSecret(
      { ...DEFAULT_SETTINGS, secretId: "keyshift/exchange/x", exchangeAccount: "a" },
      "operator:test",
      deps,
    );

    await expect(out).rejects.toBeInstanceOf(ConfigurationError);
    await expect(out).rejects.toThrow(/KEYSHIFT_READER_ROLE_ARNS/);
    expect(await deps.store.getSettings("keyshift/exchange/x")).toBeUndefined();
    expect(await deps.policies.getResourcePolicy("keyshift/exchange/x")).toBeUndefined();
  });

  it("a re-enrollment never reads the value (the policy denies it to operators) and re-applies the policy", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);
    deps.policies.edit(seeded.secretId, "{}");
    const getValue = vi.spyOn(deps.secrets, "getValue");

    await enrollSecret(
      {
        ...DEFAULT_SETTINGS,
        secretId: seeded.secretId,
        exchangeAccount: seeded.account,
        deadlineSeconds: 3600,
      },
      "operator:bob",
      deps,
    );

    expect(getValue).not.toHaveBeenCalled();
    expect((await deps.store.getSettings(seeded.secretId))?.deadlineSeconds).toBe(3600);
    expect(await readPolicyDrift(deps, seeded.secretId)).toEqual([]);
  });

  it("a re-enrollment for another account is refused, naming both", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);

    const out = enrollSecret(
      { ...DEFAULT_SETTINGS, secretId: seeded.secretId, exchangeAccount: "acct-other" },
      "op",
      deps,
    );

    await expect(out).rejects.toBeInstanceOf(InvalidInputError);
    await expect(out).rejects.toThrow(`enrolled for account ${seeded.account}, not acct-other`);
  });
});
