import { lockStatus } from "../../core/lock";
import { evaluateReadiness } from "../../core/readiness";
import { requireSettings } from "../../core/use-cases/deps";
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
    const readiness = versions?.current
      ? evaluateReadiness({
          consumers,
          instances,
          currentFingerprint: versions.current.fingerprint,
          promotedAt: new Date(versions.promotedAt ?? 0),
          settings,
          now,
        })
      : undefined;
    const mine = ledger.filter((e) => e.secretId === secretId);
    const holder = lock ? await deps.store.getRotation(secretId, lock.rotationId) : undefined;
    const lockState = lockStatus(lock, holder, now);
    const lagging =
      readiness?.lagging.map((l) => `${l.consumerId} (${l.reason} ${l.fingerprints.join(",")})`).join("; ") ||
      "none";
    out.result(
      [
        `secret ${secretId} (exchange account ${settings.exchangeAccount})`,
        `  current  ${versions?.current?.fingerprint ?? "-"} key ${versions?.current?.exchangeKeyId ?? "-"}`,
        `  previous ${versions?.previous?.fingerprint ?? "-"} key ${versions?.previous?.exchangeKeyId ?? "-"}`,
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
      { secretId, versions, lock, lockState, consumers: consumers.length, readiness, ledger: mine },
    );
    return 0;
  },
});
