/**
 * Exchanges report what they saw (issue 20, deliverable 2), end to end on the local stack: a
 * consumer logs in and trades on the simulated Deribit from its host, an outsider uses the same
 * key from an address the account never used; the hourly run (the real handler module, its deps
 * composed as on Lambda) pulls Deribit's access and transaction logs with the admin key, stores
 * the sums, and the detector judges the Deribit account — no longer "none-stored" — with a new IP
 * and a new country on key `*` (Deribit names no key), alerted without any key value.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asFunction, recordAwsCalls } from "../../harness/local/aws-calls";
import { CONSUMER_HOST_IP, fetchFrom, OUTSIDE_IP } from "../../harness/local/exchange/caller-address";
import { tradingBuy, tradingLogin } from "../../harness/local/exchange/deribit";
import { type Enrolled, enrollLocalSecret } from "../../harness/local/scenario";
import { allSecretValues, scanForSecrets } from "../../harness/local/secret-scan";
import { LOCAL_TABLES, LOCAL_TOPIC_ARN, type LocalStack, startLocalStack } from "../../harness/local/stack";
import { loadConfig } from "../../src/commons/config";
import { alerts, compose, exchangeSide, misuseAcks, store, usage } from "../../src/commons/wiring";
import { exchange } from "../../src/commons/wiring-exchange";
import { ANY_KEY, HOUR_MS, hourOf } from "../../src/core/misuse/model";
import { storedExchangeSide } from "../../src/core/misuse/pull";
import { misuseReport } from "../../src/core/misuse/report";
import type { VersionFingerprints } from "../../src/core/model";
import { ADMIN_SECRETS, EXPECTED_GRANTS } from "../deploy/expected-grants";

let stack: LocalStack;
let enrolled: Enrolled;
const ACCOUNT = "deribit-activity";

beforeAll(async () => {
  stack = await startLocalStack({ seed: 21 });
  enrolled = await enrollLocalSecret(stack, { account: ACCOUNT, exchange: "deribit" });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

describe("Deribit's logs, pulled hourly and judged", () => {
  it("the consumer's trading is accounted for; the outsider's address and country are findings", async () => {
    const { misuseHourlyStep } = await import("../../functions/misuse-hourly");
    const { value } = await enrolled.deps.secrets.getValue(enrolled.secretId, { stage: "AWSCURRENT" });
    const key = JSON.parse(value) as { keyId: string; secret: string };
    const versions = (await enrolled.deps.store.getVersions(enrolled.secretId)) as VersionFingerprints;
    const h = hourOf(Date.now());
    // Two days of the account's history from the consumer host (the novelty bootstrap is behind).
    const history = [h - 48, h - 47].flatMap((hour) => [
      {
        account: ACCOUNT,
        hour,
        endpointClass: "account" as const,
        ip: CONSUMER_HOST_IP,
        country: "Local Country",
        count: 1,
      },
      { account: ACCOUNT, hour, endpointClass: "derivatives" as const, ip: CONSUMER_HOST_IP, count: 3 },
    ]);
    await enrolled.deps.exchangeSide.addActivity(history);

    // The consumer: a login and an order from its host, and what its heartbeats carried.
    const host = { fetchImpl: fetchFrom(CONSUMER_HOST_IP) };
    expect((await tradingLogin(stack.exchanges.deribit.url, key, host)).ok).toBe(true);
    expect(
      (await tradingBuy(stack.exchanges.deribit.url, key, { instrument: "BTC-PERPETUAL", amount: 10 }, host))
        .ok,
    ).toBe(true);
    await enrolled.deps.usage.addUsage({
      secretId: enrolled.secretId,
      hour: h,
      fingerprint: versions.current?.fingerprint as string,
      keyId: versions.current?.exchangeKeyId as string,
      consumerId: "engine",
      requests: { account: 1, derivatives: 1 },
      authFailures: {},
      expiresAt: (h + 1512) * 3600,
    });
    // The outsider: the same key from an address (and a country) the account never used.
    const outside = { fetchImpl: fetchFrom(OUTSIDE_IP) };
    expect((await tradingLogin(stack.exchanges.deribit.url, key, outside)).ok).toBe(true);
    expect(
      (
        await tradingBuy(
          stack.exchanges.deribit.url,
          key,
          { instrument: "BTC-PERPETUAL", amount: 1 },
          outside,
        )
      ).ok,
    ).toBe(true);
    // Transaction-log windows end a few seconds before now (rows written late land in the next).
    await new Promise((resolve) => setTimeout(resolve, 5_500));

    // The run an hour later judges this hour: pull first, then the detector.
    const inAnHour = { now: () => new Date(Date.now() + HOUR_MS) };
    const parts = compose(loadConfig(), { store, usage, misuseAcks, alerts, exchange, exchangeSide });
    const recorder = recordAwsCalls();
    const result = await asFunction("MisuseHourly", () =>
      misuseHourlyStep(
        {},
        {
          ...parts,
          clock: inAnHour,
          acks: parts.misuseAcks,
          exchangeActivity: storedExchangeSide(parts.exchangeSide),
        },
      ),
    );
    recorder.stop();

    expect(result.pull?.pulled).toEqual([expect.objectContaining({ account: ACCOUNT, rows: 4 })]);
    expect(result.pull?.failed).toEqual([]);
    expect(result.accountsWithoutExchangeSide).not.toContain(ACCOUNT);
    const report = await misuseReport(
      { since: new Date(h * HOUR_MS) },
      {
        ...parts,
        clock: inAnHour,
        acks: parts.misuseAcks,
        exchangeActivity: storedExchangeSide(parts.exchangeSide),
      },
    );
    expect(report.accounts).toEqual([
      { account: ACCOUNT, secrets: [enrolled.secretId], exchangeSide: "stored" },
    ]);
    expect(report.findings.map((f) => [f.kind, f.keyId, f.subject]).sort()).toEqual([
      ["new-country", ANY_KEY, "Outside Country"],
      ["new-ip", ANY_KEY, OUTSIDE_IP],
    ]);
    const sent = stack.sns.messages().filter((m) => m.attributes.kind === "misuse-finding");
    expect(sent.map((m) => JSON.parse(m.message).details.kind).sort()).toEqual(["new-country", "new-ip"]);
    const secrets = await allSecretValues(stack.endpoints.secretsManager, stack.region);
    expect(scanForSecrets([{ where: "alerts", text: JSON.stringify(sent) }], secrets)).toEqual([]);

    // Every AWS call of the pull and the detector is in the function's least-privilege grant
    // (the local stack enforces no IAM: test/workflow/iam-recorded.test.ts's check, on this path).
    const grants = EXPECTED_GRANTS.MisuseHourly ?? {};
    const labels: Record<string, string> = {
      [LOCAL_TABLES.rotations]: "RotationsTable",
      [LOCAL_TABLES.consumers]: "ConsumersTable",
      [LOCAL_TOPIC_ARN]: "AlertTopic",
    };
    const label = (resource: string) =>
      labels[resource] ?? (resource.includes("keyshift/admin/") ? ADMIN_SECRETS : `unmapped ${resource}`);
    const calls = recorder.calls.filter((c) => c.functionName === "MisuseHourly");
    expect(calls.filter((c) => !grants[label(c.resource)]?.includes(c.action))).toEqual([]);
    expect(calls.map((c) => `${c.action} ${label(c.resource)}`)).toEqual(
      expect.arrayContaining([
        "dynamodb:UpdateItem ConsumersTable",
        "dynamodb:UpdateItem RotationsTable",
        `secretsmanager:GetSecretValue ${ADMIN_SECRETS}`,
      ]),
    );
  }, 60_000);
});
