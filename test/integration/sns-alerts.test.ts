import { SNSClient } from "@aws-sdk/client-sns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLambdaLogs } from "../../src/local/secret-scan";
import { type LocalSns, startLocalSns } from "../../src/local/sns";

const TOPIC = "arn:aws:sns:us-east-1:000000000000:keyshift-test-alerts";

let sns: LocalSns;
beforeAll(async () => {
  sns = await startLocalSns();
});
afterAll(async () => {
  await sns.close();
});

describe("SnsAlerts over the SNS Query protocol", () => {
  it("publishes the alert as JSON with kind/secret attributes, and logs the line the alarms count", async () => {
    process.env.POWERTOOLS_LOG_LEVEL = "INFO";
    const { SnsAlerts } = await import("../../src/adapters/sns-alerts");
    const alerts = new SnsAlerts(
      new SNSClient({
        endpoint: sns.endpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "x", secretAccessKey: "y" },
      }),
      TOPIC,
    );
    const logs = captureLambdaLogs();

    try {
      await alerts.send({
        kind: "unknown-fingerprint",
        secretId: "keyshift/exchange/a/b",
        subject: `keyshift: ${"x".repeat(150)}`,
        details: { fingerprint: "fp1_0123456789abcdef" },
      });
    } finally {
      logs.restore();
    }

    const [message] = sns.messages();
    expect(message?.topicArn).toBe(TOPIC);
    expect(message?.subject).toHaveLength(100);
    expect(message?.attributes).toEqual({ kind: "unknown-fingerprint", secretId: "keyshift/exchange/a/b" });
    expect(JSON.parse(message?.message ?? "{}")).toMatchObject({
      kind: "unknown-fingerprint",
      details: { fingerprint: "fp1_0123456789abcdef" },
    });
    // infra/observability.yml's metric filters match exactly these fields.
    const line = logs.lines.map((l) => JSON.parse(l)).find((l) => l.message === "alert raised");
    expect(line).toMatchObject({ alertKind: "unknown-fingerprint", secretId: "keyshift/exchange/a/b" });
  });
});
