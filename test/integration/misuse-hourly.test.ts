/**
 * The hourly misuse run on the local stack (issue 20): the real handler module, its deps composed
 * as on Lambda, over dynalite and the local SNS. With no exchange side stored it alerts nothing and
 * names the account it could not judge; given an exchange side (what the exchange pulls will
 * store), a retired key seen in the hour that ended is alerted on the topic — ids and numbers, no
 * key value.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Enrolled, enrollLocalSecret } from "../../harness/local/scenario";
import { allSecretValues, scanForSecrets } from "../../harness/local/secret-scan";
import { type LocalStack, startLocalStack } from "../../harness/local/stack";
import { loadConfig } from "../../src/commons/config";
import { alerts, clock, compose, misuseAcks, store, usage } from "../../src/commons/wiring";
import { hourOf } from "../../src/core/misuse/model";
import type { VersionFingerprints } from "../../src/core/model";

let stack: LocalStack;
let enrolled: Enrolled;

beforeAll(async () => {
  stack = await startLocalStack({ seed: 20 });
  enrolled = await enrollLocalSecret(stack, { account: "misuse-hourly" });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

const misuseAlerts = () => stack.sns.messages().filter((m) => m.attributes.kind === "misuse-finding");

describe("the hourly misuse run", () => {
  it("with nothing stored on the exchange side: no alert, the account named as not judged", async () => {
    const { misuseHourlyStep } = await import("../../functions/misuse-hourly");

    const result = await misuseHourlyStep({});

    expect(result.accountsWithoutExchangeSide).toContain("misuse-hourly");
    expect(result.findings).toBe(0);
    expect(misuseAlerts()).toEqual([]);
  });

  it("alerts a retired key seen in the hour that ended, on the topic, without any key value", async () => {
    const { misuseHourlyStep } = await import("../../functions/misuse-hourly");
    const recorded = (await enrolled.deps.store.getVersions(enrolled.secretId)) as VersionFingerprints;
    const retiredKeyId = recorded.current?.exchangeKeyId as string;
    // A promotion two hours ago: the enrolled key became the previous one.
    await enrolled.deps.store.putVersions({
      ...recorded,
      previous: recorded.current,
      current: { versionId: "v-new", fingerprint: "fp1_00000000000000ab", exchangeKeyId: "k-new" },
      promotedAt: new Date(Date.now() - 2 * 3_600_000).toISOString(),
      updatedAt: new Date().toISOString(),
    });
    const lastHour = hourOf(Date.now()) - 1;
    const parts = compose(loadConfig(), { store, usage, misuseAcks, alerts, clock });

    const result = await misuseHourlyStep(
      {},
      {
        ...parts,
        acks: parts.misuseAcks,
        exchangeActivity: async (account) =>
          account === "misuse-hourly"
            ? [
                {
                  hour: lastHour,
                  account,
                  secretId: enrolled.secretId,
                  keyId: retiredKeyId,
                  endpointClass: "spot",
                  count: 42,
                },
              ]
            : undefined,
      },
    );

    expect(result.findings).toBe(1);
    const [alert] = misuseAlerts();
    expect(alert?.attributes.secretId).toBe(enrolled.secretId);
    expect(JSON.parse(alert?.message ?? "{}")).toMatchObject({
      kind: "misuse-finding",
      details: {
        kind: "retired-key-used",
        severity: "critical",
        keyId: retiredKeyId,
        evidence: expect.arrayContaining(["requests=42"]),
      },
    });
    const secrets = await allSecretValues(stack.endpoints.secretsManager, stack.region);
    expect(
      scanForSecrets([{ where: "alerts", text: JSON.stringify(stack.sns.messages()) }], secrets),
    ).toEqual([]);
  });
});
