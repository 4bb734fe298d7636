import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCredentials, LocalIam } from "../../harness/local/local-iam";
import { captureLambdaLogs } from "../../harness/local/secret-scan";
import { type LocalSns, startLocalSns } from "../../harness/local/sns";
import { type AlertLog, SnsAlerts, SUBJECT_MAX_LENGTH, snsSubject } from "../../src/adapters/sns-alerts";
import type { Alert } from "../../src/core/model";

const TOPIC = "arn:aws:sns:us-east-1:000000000000:keyshift-test-alerts";

let sns: LocalSns;
// The local SNS authenticates every Publish: the adapter signs as a role granted sns:Publish.
let publisher: LocalCredentials;
beforeAll(async () => {
  const iam = new LocalIam();
  const role = "arn:aws:iam::000000000000:role/keyshift-test-alerts";
  iam.grant(role, ["sns:Publish"]);
  publisher = iam.assumeRole(role, "sns-alerts-test");
  sns = await startLocalSns({ callers: iam, region: "us-east-1" });
});
afterAll(async () => {
  await sns.close();
});

const client = () =>
  new SNSClient({
    endpoint: sns.endpoint,
    region: "us-east-1",
    credentials: publisher,
  });

const alert = (subject: string): Alert => ({
  kind: "unknown-fingerprint",
  secretId: "keyshift/exchange/a/b",
  subject,
  details: { fingerprint: "fp1_0123456789abcdef" },
});

/** A logger that records what the adapter logs, for the tests that do not read stdout. */
function recordingLog(): AlertLog & { lines: unknown[] } {
  const lines: unknown[] = [];
  return { lines, warn: (message, fields) => lines.push({ message, ...fields }) };
}

/** Publishes through the adapter and returns the subject the local SNS recorded. */
async function publishedSubject(subject: string): Promise<string | undefined> {
  const before = sns.messages().length;
  await new SnsAlerts(client(), TOPIC, recordingLog()).send(alert(subject));
  return sns.messages()[before]?.subject;
}

/** SNS Publish: ASCII, starts with a letter, number or punctuation, no line break or control character. */
const SNS_SUBJECT = /^[\x21-\x7e][\x20-\x7e]*$/;

describe("SnsAlerts over the SNS Query protocol", () => {
  it("publishes the alert as JSON with kind/secret attributes, and logs the line the alarms count", async () => {
    process.env.POWERTOOLS_LOG_LEVEL = "INFO";
    // The composition root's logger (src/commons/deps.ts), so the line is the one Lambda writes.
    const { logger } = await import("../../src/commons/logger");
    const alerts = new SnsAlerts(client(), TOPIC, logger);
    const logs = captureLambdaLogs();
    const before = sns.messages().length;

    try {
      await alerts.send(alert(`keyshift: ${"x".repeat(150)}`));
    } finally {
      logs.restore();
    }

    const message = sns.messages()[before];
    expect(message?.topicArn).toBe(TOPIC);
    expect(message?.subject).toBe(`keyshift: ${"x".repeat(86)}...`);
    expect(message?.attributes).toEqual({ kind: "unknown-fingerprint", secretId: "keyshift/exchange/a/b" });
    // The full subject is kept in the body.
    expect(JSON.parse(message?.message ?? "{}")).toMatchObject({
      kind: "unknown-fingerprint",
      subject: `keyshift: ${"x".repeat(150)}`,
      details: { fingerprint: "fp1_0123456789abcdef" },
    });
    // infra/observability.yml's metric filters match exactly these fields.
    const line = logs.lines.map((l) => JSON.parse(l)).find((l) => l.message === "alert raised");
    expect(line).toMatchObject({ alertKind: "unknown-fingerprint", secretId: "keyshift/exchange/a/b" });
  });

  it("logs through the logger it was given, before it publishes", async () => {
    const log = recordingLog();
    const failing = new SnsAlerts(
      new SNSClient({
        endpoint: "http://127.0.0.1:9",
        region: "us-east-1",
        credentials: { accessKeyId: "x", secretAccessKey: "y" },
        maxAttempts: 1,
      }),
      TOPIC,
      log,
    );

    await expect(failing.send(alert("keyshift: endpoint down"))).rejects.toThrow();

    expect(log.lines).toEqual([
      { message: "alert raised", alertKind: "unknown-fingerprint", secretId: "keyshift/exchange/a/b" },
    ]);
  });

  it.each([
    ["99 characters kept as they are", `keyshift: ${"y".repeat(89)}`, `keyshift: ${"y".repeat(89)}`],
    ["100 characters cut to 99 with ...", `keyshift: ${"y".repeat(90)}`, `keyshift: ${"y".repeat(86)}...`],
    [
      "line breaks, tabs and control characters made spaces",
      "keyshift:\r\nrotation\tof\u0000a/b\u007fstalled",
      "keyshift: rotation of a/b stalled",
    ],
    [
      "accents dropped, other non-ASCII made spaces",
      "keyshift: clé → révoquée ✓ 鍵",
      "keyshift: cle revoquee",
    ],
    ["leading whitespace removed", "\n\t  keyshift: x", "keyshift: x"],
    ["nothing printable left: a fallback", "\n\u00a0\u200b", "keyshift alert"],
  ])("makes a subject SNS accepts: %s", async (_, subject, expected) => {
    const sent = await publishedSubject(subject);

    expect(sent).toBe(expected);
    expect(sent).toMatch(SNS_SUBJECT);
    expect(sent?.length).toBeLessThanOrEqual(SUBJECT_MAX_LENGTH);
  });

  it("keeps every subject within the SNS rules, whatever the input", () => {
    const pieces = [
      "keyshift: ",
      "a/b",
      "\n",
      "\r\n",
      "\t",
      " ",
      "é",
      "鍵",
      "😀",
      "\u0000",
      "\u2028",
      "x".repeat(40),
    ];
    let seed = 7;
    for (let i = 0; i < 2_000; i++) {
      let subject = "";
      for (let n = 0; n < 12; n++) {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        subject += pieces[seed % pieces.length];
      }
      const out = snsSubject(subject);
      expect(out, JSON.stringify(subject)).toMatch(SNS_SUBJECT);
      expect(out.length, JSON.stringify(subject)).toBeLessThanOrEqual(SUBJECT_MAX_LENGTH);
    }
  });

  it("local SNS rejects what SNS rejects: a subject of 100 characters, or with a line break", async () => {
    const raw = client();
    for (const Subject of ["s".repeat(100), "keyshift:\nstalled", " keyshift"]) {
      await expect(raw.send(new PublishCommand({ TopicArn: TOPIC, Message: "{}", Subject }))).rejects.toThrow(
        /Invalid parameter: Subject/,
      );
    }
  });
});
