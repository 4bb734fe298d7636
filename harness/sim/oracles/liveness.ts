/**
 * I1 and I6 judged from the world's record of its instances (`truth.ts`), with the brief's own
 * words as the only rules — never the product's gate, liveness rule or audit trail:
 * - an instance promised to be back within the interval the server told it, plus the grace: until
 *   then it is live (BRIEF: "liveness follows what the server told the instance");
 * - a key may not be disabled or removed while a running instance of a registered, required
 *   consumer holds it and, by its own last report, is live on it at the moment of the decision.
 */

import type { Beat, InstanceTruth, Truth } from "../truth";
import type { Violation } from "../world";

const v = (invariant: string, signature: string, message: string): Violation => ({
  invariant,
  signature: `${invariant}: ${signature}`,
  message,
});

/** When the revoking invocation read the instances for its decision (or the call itself). */
export interface DecisionPoint {
  seq: number;
  at: number;
}

/** The registry and the grace, read raw from the fakes, per secret. */
export interface RegistryFacts {
  required(secretId: string, consumerId: string): boolean;
  graceSeconds(secretId: string): number;
}

/**
 * The report that makes `inst` live on `keyId` at decision `d`, if any: its last heartbeat answered
 * before `d` carried `keyId`, no heartbeat it sent after that (up to `d`) carried another key (the
 * server might hold that one), and sent-at + the interval it was told + grace reaches `d`.
 * A report answered after `d` is the race no check-then-act closes: it does not count.
 */
export function liveReport(
  inst: InstanceTruth,
  keyId: string,
  d: DecisionPoint,
  graceSeconds: number,
): Beat | undefined {
  const sent = inst.beats.filter((b) => b.sentSeq < d.seq);
  const answered = sent.filter((b) => b.answeredSeq !== undefined && b.answeredSeq < d.seq);
  const last = answered.at(-1);
  if (!last || last.keyId !== keyId || last.next === undefined) return undefined;
  if (sent.some((b) => b.sentSeq > last.sentSeq && b.keyId !== keyId)) return undefined;
  return last.sentAt + (last.next + graceSeconds) * 1000 >= d.at ? last : undefined;
}

/**
 * I1 at a disableKey/removeKey call of `keyId`: no running instance of a registered required
 * consumer holds the key while it was live on it at the decision — unless an operator genuinely
 * broke the glass for this key (world-recorded, past an emergency's deadline).
 * `decisionFor(secretId)` is the revoking invocation's read of that secret's instances.
 */
export function checkRevocationTruth(
  call: { method: string; keyId: string; at: number; seq: number },
  instances: Iterable<InstanceTruth>,
  registry: RegistryFacts,
  truth: Pick<Truth, "breakGlassAllows">,
  decisionFor: (secretId: string) => DecisionPoint | undefined,
): Violation[] {
  if (truth.breakGlassAllows(call.keyId, call.at, call.seq)) return [];
  const out: Violation[] = [];
  for (const inst of instances) {
    if (!inst.running || inst.held !== call.keyId) continue;
    if (!registry.required(inst.secretId, inst.consumerId)) continue;
    const d = decisionFor(inst.secretId) ?? { seq: call.seq, at: call.at };
    const report = liveReport(inst, call.keyId, d, registry.graceSeconds(inst.secretId));
    if (!report) continue;
    const until = new Date(
      report.sentAt + ((report.next ?? 0) + registry.graceSeconds(inst.secretId)) * 1000,
    ).toISOString();
    out.push(
      v(
        "I1",
        `${call.method} while a live required instance holds the key`,
        `${call.method} ${call.keyId} while ${inst.consumerId}/${inst.instanceId} of ${inst.secretId} holds it, reported it (${report.status}) and promised to be back by ${until} (grace included)`,
      ),
    );
  }
  return out;
}

/**
 * I6 at a request `inst` makes with the key it holds: the key is still active on the exchange —
 * unless the consumer is not required (the gate waits for it by no rule), the key went under a
 * genuine break-glass of that key, or the instance had been told `stale`/`unknown` about it before
 * it went and kept using it anyway (the consumer's own fault).
 */
export function checkRequestTruth(
  inst: InstanceTruth,
  keyStatus: "active" | "disabled" | "removed",
  required: boolean,
  truth: Pick<Truth, "breakGlassAllows" | "deactivated">,
): Violation[] {
  const keyId = inst.held;
  if (!keyId || keyStatus === "active" || !required) return [];
  const gone = truth.deactivated.get(keyId);
  if (gone && truth.breakGlassAllows(keyId, gone.at, gone.seq)) return [];
  const before = inst.beats.filter(
    (b) => b.keyId === keyId && b.answeredSeq !== undefined && (!gone || b.answeredSeq < gone.seq),
  );
  const lastAnswer = before.at(-1)?.status;
  if (lastAnswer === "stale" || lastAnswer === "unknown") return [];
  return [
    v(
      "I6",
      "request with a removed key",
      `${inst.consumerId}/${inst.instanceId} made a request with ${keyId} (${keyStatus}); last told about it: ${lastAnswer ?? "nothing"}`,
    ),
  ];
}
