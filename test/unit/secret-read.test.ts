import { beforeEach, describe, expect, it, vi } from "vitest";
import { ThrottlingException } from "../../harness/memory/faults";
import { recordSecretRead, type SecretRead } from "../../src/core/consumers/secret-read";
import { enrollSecret } from "../../src/core/operator/operator";
import {
  addConsumer,
  type FakeDeps,
  makeDeps,
  type SeededSecret,
  seedSecret,
  TEST_KEYSHIFT_READER,
} from "./fakes";

const INTRUDER_ROLE = "arn:aws:iam::999988887777:role/ops/laptop-admin";

describe("recordSecretRead: every read logged, unregistered readers alerted once a day", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;

  beforeEach(async () => {
    deps = makeDeps({ start: "2030-01-01T08:00:00.000Z" });
    seeded = await seedSecret(deps, { secretId: "keyshift/exchange/acme/trading" });
    await addConsumer(deps, seeded.secretId, "engine", { path: "trading/" });
  });

  const read = (over: Partial<SecretRead> = {}): SecretRead => ({
    secretRef: seeded.secretId,
    principalArn: INTRUDER_ROLE,
    callerArn: "arn:aws:sts::999988887777:assumed-role/laptop-admin/bob",
    at: "2030-01-01T08:00:01Z",
    eventId: "ev-1",
    denied: true,
    ...over,
  });
  const reads = async () =>
    (await deps.audit.list(seeded.secretId)).filter((e) => e.action.startsWith("secret-read"));

  it("audits a registered consumer's read, by its role, with no alert", async () => {
    const out = await recordSecretRead(
      read({
        principalArn: "arn:aws:iam::123456789012:role/trading/engine",
        callerArn: "arn:aws:sts::123456789012:assumed-role/engine/i-1",
        denied: false,
      }),
      deps,
    );

    expect(out).toMatchObject({ recorded: true, reader: "consumer", consumerId: "engine", alerted: false });
    expect(
      (await reads()).map((e) => [e.action, e.actor, e.details?.principalArn, e.details?.eventTime]),
    ).toEqual([
      [
        "secret-read",
        "arn:aws:sts::123456789012:assumed-role/engine/i-1",
        "arn:aws:iam::123456789012:role/engine",
        "2030-01-01T08:00:01Z",
      ],
    ]);
    expect(deps.alerts.sent).toEqual([]);
  });

  it("audits keyshift's own read without an alert", async () => {
    const out = await recordSecretRead(read({ principalArn: TEST_KEYSHIFT_READER, denied: false }), deps);

    expect(out).toMatchObject({ reader: "keyshift", alerted: false });
    expect(deps.alerts.sent).toEqual([]);
  });

  it("alerts on an unregistered reader, denied or not, once per principal per secret per day", async () => {
    await recordSecretRead(read(), deps);
    await recordSecretRead(read({ eventId: "ev-2", denied: false, at: "2030-01-01T23:59:59Z" }), deps);
    await recordSecretRead(read({ eventId: "ev-3", at: "2030-01-02T00:00:01Z" }), deps);

    expect(deps.alerts.sent.map((a) => [a.kind, a.details.principalArn, a.details.eventId])).toEqual([
      ["unregistered-reader", "arn:aws:iam::999988887777:role/laptop-admin", "ev-1"],
      ["unregistered-reader", "arn:aws:iam::999988887777:role/laptop-admin", "ev-3"],
    ]);
    expect(deps.alerts.sent[0]?.subject).toContain("refused read of keyshift/exchange/acme/trading");
    expect((await reads()).map((e) => e.action)).toEqual([
      "secret-read-denied",
      "secret-read",
      "secret-read-denied",
    ]);
  });

  it("resolves a full or partial ARN to the enrolled secret, and ignores secrets keyshift does not own", async () => {
    const arn = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${seeded.secretId}`;

    expect(await recordSecretRead(read({ secretRef: `${arn}-AbC123` }), deps)).toMatchObject({
      secretId: seeded.secretId,
    });
    expect(await recordSecretRead(read({ secretRef: arn, eventId: "ev-9" }), deps)).toMatchObject({
      secretId: seeded.secretId,
    });
    expect(await recordSecretRead(read({ secretRef: "keyshift/exchange/other" }), deps)).toEqual({
      recorded: false,
      reason: "not-enrolled",
      secretRef: "keyshift/exchange/other",
    });
  });

  it("an alert that fails is sent by the retry, not lost to the dedupe", async () => {
    vi.spyOn(deps.alerts, "send").mockRejectedValueOnce(new ThrottlingException("SNS throttled"));

    await expect(recordSecretRead(read(), deps)).rejects.toBeInstanceOf(ThrottlingException);
    deps.clock.advance(60); // Lambda's first asynchronous retry comes about a minute later
    const retried = await recordSecretRead(read(), deps);

    expect(retried).toMatchObject({ alerted: true });
    expect(deps.alerts.kinds()).toEqual(["unregistered-reader"]);
  });

  it("leaves a served read from before first enrollment alone (the operator's own, delivered late)", async () => {
    // Enrolled at 08:00:00.000; CloudTrail's whole seconds cannot tell 08:00:00 before from after.
    const early = { at: "2030-01-01T08:00:00Z", eventId: "ev-early" };

    const served = await recordSecretRead(read({ ...early, denied: false }), deps);
    const refused = await recordSecretRead(read({ ...early, denied: true }), deps);

    expect(served).toEqual({ recorded: false, reason: "before-enrollment", secretRef: seeded.secretId });
    // A refusal means a read policy was already in place: recorded and alerted.
    expect(refused).toMatchObject({ recorded: true, alerted: true });
    expect((await reads()).map((e) => e.details?.eventId)).toEqual(["ev-early"]);
  });

  it("judges against the first enrollment, which a re-enrollment keeps", async () => {
    deps.clock.advance(3600);
    const { enrolledAt: first, ...settings } = seeded.settings;
    const again = await enrollSecret({ ...settings, deadlineSeconds: 7200 }, "operator:bob", deps);

    expect(again.enrolledAt).toBe(first);
    expect(
      await recordSecretRead(read({ at: "2030-01-01T08:30:00Z", denied: false, eventId: "ev-mid" }), deps),
    ).toMatchObject({ recorded: true, reader: "unregistered" });
  });

  it("names a principal IAM has no role or user key for (the root user) as CloudTrail gives it", async () => {
    const out = await recordSecretRead(read({ principalArn: "arn:aws:iam::123456789012:root" }), deps);

    expect(out).toMatchObject({
      reader: "unregistered",
      principalArn: "arn:aws:iam::123456789012:root",
      alerted: true,
    });
  });
});
