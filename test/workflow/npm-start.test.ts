import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

/** `npm start` as a user runs it: its own process, its own local stack. */
function start(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "harness/scripts/start.ts", ...args], {
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: "INFO" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const lastJsonLine = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");

describe("npm start (the main job on the embedded local stack)", () => {
  it("--json: one rotation completes; the last stdout line is the summary object", async () => {
    const run = await start("--json");

    expect(run.code).toBe(0);
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
    const summary = lastJsonLine(run.stdout);
    expect(summary).toMatchObject({
      rotation: "completed",
      // Started by the secret's schedule, on the Scheduler emulator (harness/local/scheduled-start.ts).
      trigger: "schedule",
      secretId: "keyshift/exchange/acme-main/trading",
      previousRevoked: true,
      exchangeActiveKeys: 1,
      consumers: { total: 3, onCurrent: 3 },
      ledger: { pending: 0, revoked: 1, failed: 0 },
      requestsWithRemovedKey: 0,
      // IP-bound by default: the admin key to keyshift's egress, the trading key to the egress and
      // the consumer host; the new key carries the same binding on the exchange.
      ipBound: true,
      secretScan: { hits: 0 },
      // Deribit by default: the old key disabled at once, removed after the compressed grace.
      exchange: "deribit",
      previousKey: "removed",
      oldKey: { dead: true, state: "removed" },
      success: true,
      exitCode: 0,
    });
    expect(Date.parse(summary.previousKeyTimeline.removedAt)).toBeGreaterThan(
      Date.parse(summary.previousKeyTimeline.disabledAt),
    );
    expect(summary.durationMs).toBeGreaterThan(0);
    expect(run.stderr).toContain("IP-bound: the admin key to 127.0.0.2");
    expect(run.stderr).toContain("→ RevokePrevious");
    expect(run.stderr).toContain("disabled (no longer authenticates");
  });

  it("--exchange bybit: the rotation runs on Bybit's protocol and removes the old key in one stage", async () => {
    const run = await start("--json", "--exchange", "bybit");

    expect(run.code).toBe(0);
    expect(lastJsonLine(run.stdout)).toMatchObject({
      rotation: "completed",
      exchange: "bybit",
      previousRevoked: true,
      previousKey: "removed",
      previousKeyTimeline: { disabledAt: null },
      exchangeActiveKeys: 1,
      requestsWithRemovedKey: 0,
      ipBound: true,
      secretScan: { hits: 0 },
    });
  });

  it("--exchange gate: the rotation runs on Gate's APIv4 and removes the old key in one stage", async () => {
    const run = await start("--json", "--exchange", "gate");

    expect(run.code).toBe(0);
    expect(lastJsonLine(run.stdout)).toMatchObject({
      rotation: "completed",
      exchange: "gate",
      previousRevoked: true,
      previousKey: "removed",
      previousKeyTimeline: { disabledAt: null },
      exchangeActiveKeys: 1,
      requestsWithRemovedKey: 0,
      ipBound: true,
      secretScan: { hits: 0 },
    });
  });

  it("--compromised: the old key is dead within the emergency deadline; the lagging consumer is named, the others never failed", async () => {
    const run = await start("--json", "--compromised");

    expect(run.code).toBe(0);
    const summary = lastJsonLine(run.stdout);
    expect(summary).toMatchObject({
      rotation: "completed",
      trigger: "manual",
      previousRevoked: true,
      emergency: {
        previousKeyAuthenticates: false,
        laggingConsumers: ["risk-service"],
        switchedConsumersFailedRequests: 0,
      },
    });
    expect(summary.emergency.previousKeyDeadAfterSeconds).toBeLessThanOrEqual(
      summary.emergency.deadlineSeconds,
    );
    expect(summary.alerts.map((a: { kind: string }) => a.kind)).toEqual([
      "emergency-rotation",
      "emergency-revocation",
    ]);
  });

  it("--attacker: every consumer confirms the new key, the old key's revocation fails, an attacker keeps trading with it; the misuse run reports retired-key-used and stops the key at once", async () => {
    const run = await start("--json", "--attacker");

    expect(run.code).toBe(0);
    const summary = lastJsonLine(run.stdout);
    expect(summary).toMatchObject({
      // Gate: the one real protocol whose key listing says when each key was last used.
      exchange: "gate",
      ipBound: true,
      previousRevoked: true,
      consumers: { lagging: [] },
      requestsWithRemovedKey: 0,
      misuse: {
        finding: { kind: "retired-key-used", severity: "critical" },
        misuseRuns: 1,
        attacker: { afterStop: { accepted: 0 } },
      },
    });
    expect(["disabled", "revoked"]).toContain(summary.misuse.action);
    // The attacker's orders went through after the cut-over: the key was live for them until the stop.
    expect(summary.misuse.attacker.acceptedAfterCutover).toBeGreaterThan(0);
    expect(summary.misuse.attacker.afterStop.orders).toBeGreaterThan(0);
    expect(summary.misuse.finding.keyId).toBe(summary.oldKey.keyId);
    expect(summary.alerts.map((a: { kind: string }) => a.kind)).toContain("misuse-finding");
    expect(summary.secretScan.hits).toBe(0);
  });

  it("--exchange kraken: a person makes and deletes the key (2 manual steps); the old key fails to authenticate before it is recorded revoked", async () => {
    const run = await start("--json", "--exchange", "kraken");

    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const summary = lastJsonLine(run.stdout);
    expect(summary).toMatchObject({
      rotation: "completed",
      exchange: "kraken",
      previousRevoked: true,
      exchangeActiveKeys: 1,
      requestsWithRemovedKey: 0,
      manualSteps: 2,
      ipBound: true,
      secretScan: { hits: 0 },
    });
    expect(summary.manual.map((s: { kind: string; verified: string }) => [s.kind, s.verified])).toEqual([
      ["create-key", "exchange"],
      ["delete-key", "exchange"],
    ]);
    // keyshift's one probe with the deleted key is the confirmation's, from the egress.
    expect(summary.deletionProbes).toBe(1);
    expect(run.stderr).toContain("→ AwaitManualKey");
    expect(run.stderr).toContain("→ AwaitManualDeletion");
  });

  it("rejects an exchange it does not simulate (exit 64)", async () => {
    const run = await start("--exchange", "coinbase");
    expect(run.code).toBe(64);
    expect(run.stderr).toContain(
      '--exchange must be one of deribit, bybit, okx, binance, kraken, gate, keyshift-sim, got "coinbase"',
    );
  });

  it("--lagging-consumer: the rotation stalls, nothing is revoked, an alert goes out, exit 2", async () => {
    const run = await start("--lagging-consumer", "--json");

    expect(run.code).toBe(2);
    const summary = lastJsonLine(run.stdout);
    expect(summary).toMatchObject({
      rotation: "stalled",
      previousRevoked: false,
      exchangeActiveKeys: 2,
      ledger: { pending: 0, revoked: 0, failed: 0 },
      requestsWithRemovedKey: 0,
    });
    expect(summary.alerts.map((a: { kind: string }) => a.kind)).toContain("rotation-stalled");
    expect(run.stderr).toContain("Rotation STALLED");
  });

  it("break 18: --revoke-failure-rate 1 on Deribit: the old key is disabled but never removed, so exit 1 and a summary that says it lives and what to run", async () => {
    const run = await start("--json", "--revoke-failure-rate", "1", "--consumers", "1");

    expect(run.code).toBe(1);
    const summary = lastJsonLine(run.stdout);
    expect(summary).toMatchObject({
      rotation: "completed",
      previousRevoked: false,
      previousKey: "disabled",
      ledger: { needsOperator: 1 },
      oldKey: { dead: false, needsOperator: true },
      success: false,
    });
    expect(summary.oldKey.fix).toContain(`keyshift revocations retry ${summary.oldKey.entryId}`);
    expect(run.stderr).toContain("OLD KEY STILL LIVES");
    expect(run.stderr).toContain(`keyshift revocations retry ${summary.oldKey.entryId}`);
    expect(run.stderr).not.toMatch(/^result: +success/m);
  });

  it.each([
    [["--revoke-failure-rate", "lots"], '--revoke-failure-rate must be a number 0..1, got "lots"'],
    // Empty values are slips, not 0.
    [["--revoke-failure-rate="], '--revoke-failure-rate must be a number 0..1, got ""'],
    [["--seed="], '--seed must be an integer, got ""'],
    [["--seed", "0x10"], '--seed must be an integer, got "0x10"'],
    [["--consumers", " 5 "], '--consumers must be an integer 1..50, got " 5 "'],
  ])("rejects %j with a message naming the option (exit 64)", async (args, message) => {
    const run = await start(...args);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain(message);
  });
});
