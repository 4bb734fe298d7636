import { type Deps, requireSettings } from "../../core/deps";
import { sanitizeErrorMessage } from "../../core/errors";
import { rotationCadence } from "../../core/hygiene/findings";
import type { SecretSettings } from "../../core/model";
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
    const [versions, lock, consumers, instances, ledger] = await Promise.all([
      deps.store.getVersions(secretId),
      deps.lock.get(secretId),
      deps.consumers.listConsumers(secretId),
      deps.consumers.listInstances(secretId),
      deps.ledger.listAll(),
    ]);
    const now = deps.clock.now();
    const readiness = readinessOfRecorded({ consumers, instances, versions, settings, now });
    const mine = ledger.filter((e) => e.secretId === secretId);
    const holder = lock ? await deps.store.getRotation(secretId, lock.rotationId) : undefined;
    const lockState = lockStatus(lock, holder, now);
    const expiry = await currentKeyExpiry(deps, settings, versions?.current?.exchangeKeyId, now);
    const lagging =
      readiness?.lagging.map((l) => `${l.consumerId} (${l.reason} ${l.fingerprints.join(",")})`).join("; ") ||
      "none";
    out.result(
      [
        `secret ${secretId} (exchange account ${settings.exchangeAccount})`,
        `  current  ${versions?.current?.fingerprint ?? "-"} key ${versions?.current?.exchangeKeyId ?? "-"}`,
        `  previous ${versions?.previous?.fingerprint ?? "-"} key ${versions?.previous?.exchangeKeyId ?? "-"}`,
        `  expiry   ${expiry.summary}`,
        `  lock     ${lockState.summary}${lockState.next ? `\n           next: ${lockState.next}` : ""}`,
        `  consumers ${consumers.length}; lagging: ${lagging}`,
        ...mine.map(
          (e) =>
            `  ledger ${e.entryId}: ${e.status}, ${e.attempts} attempt(s)${e.needsOperator ? ", NEEDS OPERATOR" : ""}` +
            `${e.breakGlass ? `, break-glass by ${e.breakGlass.actor}` : ""}` +
            `${e.heldReason && e.status !== "revoked" ? `, held: ${e.heldReason}` : ""}` +
            `${e.lastError ? `, last error: ${e.lastError}` : ""}`,
        ),
      ].join("\n"),
      { secretId, versions, lock, lockState, consumers: consumers.length, readiness, ledger: mine, expiry },
    );
    return 0;
  },
});

/**
 * When the exchange itself will expire the current key (Bybit's keys without an IP binding), and
 * whether that comes before the next scheduled rotation replaces it.
 */
async function currentKeyExpiry(
  deps: Pick<Deps, "exchange" | "store">,
  settings: SecretSettings,
  keyId: string | undefined,
  now: Date,
): Promise<{ summary: string; expiresAt: string | null; beforeNextRotation: boolean }> {
  if (!keyId) return { summary: "-", expiresAt: null, beforeNextRotation: false };
  let expiresAt: string | undefined;
  try {
    const listing = await deps.exchange.listKeys(settings.exchangeAccount);
    expiresAt = listing.keys.find((k) => k.keyId === keyId)?.expiresAt;
  } catch (err) {
    return {
      summary: `unknown: cannot list the exchange account (${sanitizeErrorMessage(err, 160)})`,
      expiresAt: null,
      beforeNextRotation: false,
    };
  }
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
