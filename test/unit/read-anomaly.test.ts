import { beforeEach, describe, expect, it } from "vitest";
import { READ_ANOMALY } from "../../src/core/consumers/read-anomaly";
import { recordSecretRead, type SecretRead } from "../../src/core/consumers/secret-read";
import { addConsumer, type FakeDeps, makeDeps, seedSecret, TEST_KEYSHIFT_READER } from "./fakes";

const SERVICE = "arn:aws:iam::123456789012:role/trading/engine";
const T = Date.parse("2030-02-01T08:00:00.000Z");
const MIN = 60_000;
const DAY = 86_400_000;

/**
 * The anomalous-read rule through the read audit's use case: a principal that reads more than
 * five secrets it had not read for 30 days within an hour is alerted on, once per hour.
 */
describe("recordSecretRead: anomalous reads", () => {
  let deps: FakeDeps;
  const secrets: string[] = [];

  beforeEach(async () => {
    deps = makeDeps({ start: "2030-01-01T00:00:00.000Z" });
    secrets.length = 0;
    for (let i = 1; i <= 8; i++) {
      const { secretId } = await seedSecret(deps, {
        secretId: `keyshift/exchange/acct-${i}/trading`,
        account: `acct-${i}`,
      });
      await addConsumer(deps, secretId, "engine", { path: "trading/" });
      secrets.push(secretId);
    }
    deps.clock.set(new Date(T + 2 * DAY).toISOString());
  });

  const read = (secretRef: string, atMs: number, over: Partial<SecretRead> = {}): SecretRead => ({
    secretRef,
    principalArn: SERVICE,
    callerArn: "arn:aws:sts::123456789012:assumed-role/engine/i-1",
    at: new Date(atMs).toISOString(),
    eventId: `ev-${secretRef}-${atMs}`,
    denied: false,
    ...over,
  });
  const anomalies = () => deps.alerts.sent.filter((a) => a.kind === "anomalous-reads");

  it("alerts once when more than five secrets are read new within an hour, naming the principal and the count", async () => {
    for (let i = 0; i < READ_ANOMALY.threshold; i++)
      await recordSecretRead(read(secrets[i] ?? "", T + i * MIN), deps);
    expect(anomalies()).toEqual([]);

    await recordSecretRead(read(secrets[5] ?? "", T + 10 * MIN), deps);
    await recordSecretRead(read(secrets[6] ?? "", T + 11 * MIN), deps);

    expect(anomalies()).toHaveLength(1);
    expect(anomalies()[0]?.details).toMatchObject({
      principalArn: "arn:aws:iam::123456789012:role/engine",
      newSecrets: 6,
    });
    expect(String(anomalies()[0]?.details?.secrets)).toContain(secrets[5]);
  });

  it("does not count reads spread over more than the window", async () => {
    for (let i = 0; i < 7; i++) await recordSecretRead(read(secrets[i] ?? "", T + i * 20 * MIN), deps);
    expect(anomalies()).toEqual([]);
  });

  it("does not count secrets the principal read within the quiet period, and counts them again after it", async () => {
    for (let i = 0; i < 7; i++) await recordSecretRead(read(secrets[i] ?? "", T - 10 * DAY), deps);
    deps.alerts.sent.length = 0;

    for (let i = 0; i < 7; i++) await recordSecretRead(read(secrets[i] ?? "", T + i * MIN), deps);
    expect(anomalies()).toEqual([]);

    const later = T + 40 * DAY;
    for (let i = 0; i < 7; i++) await recordSecretRead(read(secrets[i] ?? "", later + i * MIN), deps);
    expect(anomalies()).toHaveLength(1);
  });

  it("judges neither keyshift's own reads nor refused reads", async () => {
    for (let i = 0; i < 8; i++) {
      await recordSecretRead(
        read(secrets[i] ?? "", T + i * MIN, { principalArn: TEST_KEYSHIFT_READER }),
        deps,
      );
    }
    for (let i = 0; i < 8; i++) {
      await recordSecretRead(
        read(secrets[i] ?? "", T + i * MIN, { denied: true, principalArn: `${SERVICE}-x` }),
        deps,
      );
    }
    expect(anomalies()).toEqual([]);
  });

  it("never alerts twice for one principal in one hour", async () => {
    for (let i = 0; i < 7; i++) await recordSecretRead(read(secrets[i] ?? "", T + i * MIN), deps);
    await recordSecretRead(read(secrets[7] ?? "", T + 8 * MIN), deps);
    expect(anomalies()).toHaveLength(1);
  });
});
