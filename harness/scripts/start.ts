import { parseArgs } from "node:util";
import { isLocalExchange, LOCAL_EXCHANGES } from "../local/exchanges";
import { runMainJob } from "../local/main-job";

const USAGE = `usage: npm start -- [--json] [--exchange deribit|bybit|okx|binance|kraken|gate|keyshift-sim] [--compromised] [--attacker] [--unbound] [--consumers N] [--revoke-failure-rate R] [--lagging-consumer] [--seed S]`;

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n${USAGE}\n`);
  process.exit(64);
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      json: { type: "boolean", default: false },
      consumers: { type: "string", default: "3" },
      "revoke-failure-rate": { type: "string", default: "0" },
      "lagging-consumer": { type: "boolean", default: false },
      exchange: { type: "string" },
      compromised: { type: "boolean", default: false },
      attacker: { type: "boolean", default: false },
      unbound: { type: "boolean", default: false },
      seed: { type: "string", default: "1" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  }).values;
}
try {
  args = parse();
} catch (err) {
  fail((err as Error).message);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
/** A plain decimal, else NaN: Number() takes "" (`--seed=`) as 0, and " 5 ", "0x10", "1e3" too. */
const decimal = (value: string) => (/^-?(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : Number.NaN);
const consumers = decimal(args.consumers);
const rate = decimal(args["revoke-failure-rate"]);
const seed = decimal(args.seed);
if (!Number.isInteger(consumers) || consumers < 1 || consumers > 50)
  fail(`--consumers must be an integer 1..50, got "${args.consumers}"`);
if (!(rate >= 0 && rate <= 1))
  fail(`--revoke-failure-rate must be a number 0..1, got "${args["revoke-failure-rate"]}"`);
if (!Number.isInteger(seed)) fail(`--seed must be an integer, got "${args.seed}"`);

/**
 * `--attacker` needs an exchange that reports each key's last use (the retired-key evidence): of
 * the real protocols only Gate documents it (`last_access`); keyshift's test protocol does too.
 */
const ATTACKER_EXCHANGE = "gate";
const exchange = args.exchange ?? (args.attacker ? ATTACKER_EXCHANGE : "deribit");
if (args.attacker && args.compromised) fail("--attacker and --compromised are two different runs: pick one");
if (!isLocalExchange(exchange))
  fail(`--exchange must be one of ${LOCAL_EXCHANGES.join(", ")}, got "${exchange}"`);

const json = args.json ?? false;
// With --json the progress goes to stderr so stdout carries exactly one JSON line.
const print = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);

const summary = await runMainJob(
  {
    consumers,
    revokeFailureRate: rate,
    laggingConsumer: args["lagging-consumer"] ?? false,
    seed,
    json,
    exchange,
    compromised: args.compromised ?? false,
    attacker: args.attacker ?? false,
    unbound: args.unbound ?? false,
  },
  print,
);

print("");
print(
  `rotation:        ${summary.rotation} (execution ${summary.executionStatus}${summary.error ? `, ${summary.error}` : ""}; trigger ${summary.trigger ?? "unknown"})`,
);
print(`secret:          ${summary.secretId} on ${summary.exchange}`);
if (summary.manualSteps > 0) {
  const waited = (summary.manual ?? []).map(
    (m) => `${m.kind} waited ${(m.waitedMs / 1000).toFixed(1)} s (verified by ${m.verified})`,
  );
  print(`manual steps:    ${summary.manualSteps} done by a person: ${waited.join("; ")}`);
}
print(
  `IP binding:      ${summary.ipBound ? "kept (old and new key carry the same allow-list on the exchange)" : "none (unbound key, or the binding was not kept)"}`,
);
print(
  `previous key:    ${summary.previousRevoked ? "revoked" : "NOT revoked"} (${summary.previousKey}${summary.previousKeyTimeline.disabledAt ? `; disabled ${summary.previousKeyTimeline.disabledAt}` : ""}${summary.previousKeyTimeline.removedAt ? `, removed ${summary.previousKeyTimeline.removedAt}` : ""}); exchange holds ${summary.exchangeActiveKeys} active key(s)`,
);
if (summary.emergency) {
  const e = summary.emergency;
  print(
    `emergency:       old key dead ${e.previousKeyDeadAfterSeconds ?? "?"} s after the start (deadline ${e.deadlineSeconds} s), still authenticates: ${e.previousKeyAuthenticates}; left behind: ${e.laggingConsumers.join(", ") || "none"}; failed requests of the switched consumers: ${e.switchedConsumersFailedRequests}`,
  );
}
if (summary.misuse) {
  const m = summary.misuse;
  print(
    `misuse:          ${m.finding ? `${m.finding.severity} ${m.finding.kind} (${m.finding.id}) on key ${m.finding.keyId}` : "NO retired-key-used finding"} in misuse run ${m.misuseRuns}; keyshift ${m.action ?? "did nothing"} the key ${m.stoppedAfterSeconds ?? "?"} s after the abuse was on record`,
  );
  print(
    `attacker:        ${m.attacker.orders} order(s), ${m.attacker.accepted} accepted (${m.attacker.acceptedAfterCutover} after the cut-over); after the stop: ${m.attacker.afterStop.accepted}/${m.attacker.afterStop.orders} accepted`,
  );
}
print(
  `consumers:       ${summary.consumers.onCurrent}/${summary.consumers.total} on current${summary.consumers.lagging.length ? `; lagging: ${summary.consumers.lagging.join(", ")}` : ""}`,
);
print(
  `ledger:          ${summary.ledger.revoked} revoked, ${summary.ledger.failed} failed, ${summary.ledger.pending} pending, ${summary.ledger.needsOperator} need an operator`,
);
print(
  `sweeper:         ${summary.sweeper.outcome}${summary.sweeper.runs ? ` after ${summary.sweeper.runs} run(s)` : ""}`,
);
print(`removed-key use: ${summary.requestsWithRemovedKey} request(s) made with a removed key`);
print(`alerts:          ${summary.alerts.length ? summary.alerts.map((a) => a.kind).join(", ") : "none"}`);
print(
  `secret scan:     ${summary.secretScan.hits === 0 ? "clean" : `${summary.secretScan.hits} LEAK(S)`} across ${summary.secretScan.scanned} logs/history/audit/alert records`,
);
print(`duration:        ${(summary.durationMs / 1000).toFixed(1)} s`);

if (summary.rotation === "stalled") {
  print(
    `\nRotation STALLED: ${summary.consumers.lagging.join(", ")} never reported the current key. The previous key was NOT revoked and the lock is kept.\n` +
      "Fix: make the lagging consumer refresh its secret, then `keyshift resume`; or `keyshift rollback` / `keyshift force-revoke` after review.",
  );
} else if (summary.rotation !== "aborted" && summary.rotation !== "failed" && !summary.oldKey.dead) {
  const k = summary.oldKey;
  const what =
    k.state === "disabled"
      ? `disabled on ${summary.exchange} but never removed: it still exists, can be enabled again and holds one of the account's key slots`
      : k.state === "active"
        ? `still ACTIVE on ${summary.exchange}: anyone holding it can still trade`
        : `in an unknown state on ${summary.exchange}`;
  print(
    `\nOLD KEY STILL LIVES: key ${k.keyId ?? "?"} is ${what}${k.entryId ? `; ledger entry ${k.entryId}${k.needsOperator ? " needs an operator" : " is still open"}` : ""}.\n` +
      `Fix: ${k.fix ?? "see `keyshift revocations list`"}.`,
  );
}
print(
  summary.success
    ? "\nresult:          success (rotation completed; the old key is dead)"
    : `\nresult:          NOT a success (exit ${summary.exitCode}): ${summary.verdictReasons.join("; ")}`,
);
if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(summary.exitCode);
