import { requireSettings } from "../../core/deps";
import { removeConsumer } from "../../core/operator/operator";
import { evaluateReadiness } from "../../core/revocation/readiness";
import { reasonOption, registeredIdArg, secretIdArg, stringOption } from "../args";
import { command } from "../command";

/** `consumers list <secretId>`: every registration, and where its instances are against the current key. */
export const consumersList = command({
  words: ["consumers", "list"],
  args: ["<secretId>"],
  options: [],
  parse: ([secretId = ""]) => secretIdArg(secretId),
  async run({ deps, out }, secretId) {
    const settings = await requireSettings(deps.store, secretId);
    const [consumers, instances, versions] = await Promise.all([
      deps.consumers.listConsumers(secretId),
      deps.consumers.listInstances(secretId),
      deps.store.getVersions(secretId),
    ]);
    const current = versions?.current?.fingerprint;
    // The gate's own answer, asked for every consumer (optional ones too) so each gets a state.
    const lagging = current
      ? evaluateReadiness({
          consumers: consumers.map((c) => ({ ...c, required: true })),
          instances,
          currentFingerprint: current,
          promotedAt: new Date(versions?.promotedAt ?? 0),
          settings,
          now: deps.clock.now(),
        }).lagging
      : [];
    const rows = consumers
      .sort((a, b) => a.consumerId.localeCompare(b.consumerId))
      .map((c) => {
        const mine = instances.filter((i) => i.consumerId === c.consumerId);
        const lag = lagging.find((l) => l.consumerId === c.consumerId);
        return {
          ...c,
          state: current ? (lag?.reason ?? "current") : "no-current-version",
          instances: mine.length,
          lastSeenAt:
            mine
              .map((i) => i.lastSeenAt)
              .sort()
              .at(-1) ?? null,
          fingerprints: lag?.fingerprints ?? (current && !lag ? [current] : []),
        };
      });
    out.result(
      rows.length === 0
        ? `no consumer is registered for ${secretId}: a rotation would revoke without waiting for anyone`
        : [
            `consumers of ${secretId} (current ${current ?? "-"}):`,
            ...rows.map(
              (r) =>
                `  ${r.consumerId}\t${r.required ? "required" : "optional"}\t${r.principalArn}\tttl ${r.cacheTtlSeconds}s\t` +
                `heartbeat ${r.heartbeatIntervalSeconds}s\t${r.state}\t${r.instances} instance(s)` +
                `${r.lastSeenAt ? `, last seen ${r.lastSeenAt}` : ""}`,
            ),
          ].join("\n"),
      rows,
    );
    return 0;
  },
});

/** `consumers remove <secretId> <consumerId> --reason "..."`. */
export const consumersRemove = command({
  words: ["consumers", "remove"],
  args: ["<secretId>", "<consumerId>"],
  options: ["reason"],
  parse: ([secretId = "", consumerId = ""], values) => ({
    secretId: secretIdArg(secretId),
    consumerId: registeredIdArg(consumerId),
    reason: reasonOption(stringOption(values, "reason"), "consumers remove"),
  }),
  async run({ deps, out, actor }, input) {
    const removed = await removeConsumer({ ...input, actor }, deps);
    out.result(
      `removed ${removed.consumerId} from ${removed.secretId}` +
        `${removed.principalArn ? ` (principal ${removed.principalArn})` : ""} and ${removed.instancesRemoved} instance record(s); ` +
        "its heartbeats are refused from now on",
      removed,
    );
    return 0;
  },
});
