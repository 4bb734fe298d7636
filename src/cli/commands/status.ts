import { type Deps, requireSettings } from "../../core/deps";
import { sanitizeErrorMessage } from "../../core/errors";
import { rotationCadence } from "../../core/hygiene/findings";
import { type BindingVerdict, bindingFix, describeBinding, judgeBinding } from "../../core/ip-binding";
import type { SecretSettings } from "../../core/model";
import type { ExchangeKey } from "../../core/ports";
import { readinessOfRecorded } from "../../core/revocation/readiness";
import { lockStatus } from "../../core/rotation/lock";
import { secretIdArg } from "../args";
import { command } from "../command";

/** `status <secretId>`: versions, lock, consumers (who lags, on which fingerprint), ledger. */
export const status = command({
  words: ["status"],
  args: ["<secretId>"],
  options: [],
  parse: ([secretId = ""]) => secretIdArg(secretId),
  async run({ deps, out }, secretId) {
    const settings = await requireSettings(deps.store, secretId);
    const [versions, lock, consumers, instances, ledger, openTasks] = await Promise.all([
      deps.store.getVersions(secretId),
      deps.lock.get(secretId),
      deps.consumers.listConsumers(secretId),
      deps.consumers.listInstances(secretId),
      // Its own entries through the by-secret index: no Scan of a fleet's ledger.
      deps.ledger.listBySecret(secretId),
      deps.tasks.listOpen(),
    ]);
    // What a person must do for this secret (never the task token: it resumes an execution).
    const tasks = openTasks
      .filter((t) => t.secretId === secretId)
      .map(({ taskToken: _token, ...task }) => task);
    const now = deps.clock.now();
    const readiness = readinessOfRecorded({ consumers, instances, versions, settings, now });
    const mine = ledger;
    const holder = lock ? await deps.store.getRotation(secretId, lock.rotationId) : undefined;
    const lockState = lockStatus(lock, holder, now);
    const listed = await listCurrentKey(deps, settings.exchangeAccount, versions?.current?.exchangeKeyId);
    const expiry = await currentKeyExpiry(deps, settings, listed, now);
    const binding = bindingOf(listed, deps.egressIps, versions?.current?.exchangeKeyId);
    const lagging =
      readiness?.lagging.map((l) => `${l.consumerId} (${l.reason} ${l.fingerprints.join(",")})`).join("; ") ||
      "none";
    out.result(
      [
        `secret ${secretId} (exchange account ${settings.exchangeAccount})`,
        `  current  ${versions?.current?.fingerprint ?? "-"} key ${versions?.current?.exchangeKeyId ?? "-"}`,
        `  previous ${versions?.previous?.fingerprint ?? "-"} key ${versions?.previous?.exchangeKeyId ?? "-"}`,
        `  expiry   ${expiry.summary}`,
        `  binding  ${binding.summary}`,
        `  lock     ${lockState.summary}${lockState.next ? `\n           next: ${lockState.next}` : ""}`,
        `  consumers ${consumers.length}; lagging: ${lagging}`,
        ...mine.map(
          (e) =>
            `  ledger ${e.entryId}: ${e.status}, ${e.attempts} attempt(s)${e.needsOperator ? ", NEEDS OPERATOR" : ""}` +
            `${e.breakGlass ? `, break-glass by ${e.breakGlass.actor}` : ""}` +
            `${e.heldReason && e.status !== "revoked" ? `, held: ${e.heldReason}` : ""}` +
            `${e.lastError ? `, last error: ${e.lastError}` : ""}`,
        ),
        ...tasks.map(
          (t) =>
            `  task ${t.taskId}: a person must ${t.kind === "create-key" ? "make the next key" : `delete key ${t.keyId}`} by ${t.deadline} (\`keyshift tasks list\`)`,
        ),
      ].join("\n"),
      {
        secretId,
        versions,
        lock,
        lockState,
        consumers: consumers.length,
        readiness,
        ledger: mine,
        expiry,
        binding,
        tasks,
      },
    );
    return 0;
  },
});

type Listed = { keyId: string; key: ExchangeKey | undefined } | { error: string } | undefined;

/** The current key as the exchange lists it (once, for its expiry and its binding). */
async function listCurrentKey(
  deps: Pick<Deps, "exchange">,
  account: string,
  keyId: string | undefined,
): Promise<Listed> {
  if (!keyId) return undefined;
  try {
    const listing = await deps.exchange.listKeys(account);
    return { keyId, key: listing.keys.find((k) => k.keyId === keyId) };
  } catch (err) {
    return { error: sanitizeErrorMessage(err, 160) };
  }
}

/** The current key's IP binding against keyshift's egress, and what to do when it does not fit. */
function bindingOf(
  listed: Listed,
  egressIps: readonly string[] | undefined,
  keyId: string | undefined,
): {
  summary: string;
  state: BindingVerdict["state"] | "unknown";
  ipAllowlist: string[] | null;
  fix: string | null;
} {
  if (!listed || !keyId) return { summary: "-", state: "unknown", ipAllowlist: null, fix: null };
  if ("error" in listed)
    return {
      summary: `unknown: cannot list the exchange account (${listed.error})`,
      state: "unknown",
      ipAllowlist: null,
      fix: null,
    };
  if (!listed.key)
    return {
      summary: `unknown: the exchange does not list key ${keyId}`,
      state: "unknown",
      ipAllowlist: null,
      fix: null,
    };
  const verdict = judgeBinding(listed.key.ipAllowlist, egressIps);
  const unusable = verdict.state === "no-egress" || verdict.state === "lacks-egress";
  const fix = unusable ? bindingFix(verdict, keyId) : null;
  return {
    summary: `${describeBinding(verdict)}${fix ? ` — the next rotation will refuse; fix: ${fix}` : ""}`,
    state: verdict.state,
    ipAllowlist: listed.key.ipAllowlist ?? [],
    fix,
  };
}

/**
 * When the exchange itself will expire the current key (Bybit's keys without an IP binding), and
 * whether that comes before the next scheduled rotation replaces it.
 */
async function currentKeyExpiry(
  deps: Pick<Deps, "store">,
  settings: SecretSettings,
  listed: Listed,
  now: Date,
): Promise<{ summary: string; expiresAt: string | null; beforeNextRotation: boolean }> {
  if (!listed) return { summary: "-", expiresAt: null, beforeNextRotation: false };
  if ("error" in listed) {
    return {
      summary: `unknown: cannot list the exchange account (${listed.error})`,
      expiresAt: null,
      beforeNextRotation: false,
    };
  }
  const expiresAt = listed.key?.expiresAt;
  if (!expiresAt)
    return {
      summary: "the exchange sets no expiry on the current key",
      expiresAt: null,
      beforeNextRotation: false,
    };
  const { since, interval } = rotationCadence(settings, await deps.store.listRotations(settings.secretId));
  const beforeNextRotation = interval !== undefined && Date.parse(expiresAt) < since + interval * 1000;
  const days = Math.floor((Date.parse(expiresAt) - now.getTime()) / 86_400_000);
  return {
    summary:
      `current key expires ${expiresAt} (in ${days} day(s))` +
      (beforeNextRotation
        ? ` — BEFORE its next scheduled rotation (${settings.schedule}): \`keyshift rotate ${settings.secretId}\`, or bind the key to IPs`
        : ""),
    expiresAt,
    beforeNextRotation,
  };
}
