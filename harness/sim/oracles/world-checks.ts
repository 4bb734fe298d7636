/**
 * The oracles wired to a world: each reads the raw fakes (the exchange's keys and call log, the
 * registry, the settings, the policy documents) and hands pure facts to the checks in this folder.
 */

import type { Snapshot } from "../snapshot";
import { rawGraceSeconds } from "../truth";
import type { Violation, World } from "../world";
import type { RegistryFacts } from "./liveness";
import { checkReadPolicy } from "./read-policy";
import { checkAuditRecords, checkLedgerRecords, checkRecordedCurrent, type ExchangeTruth } from "./records";

/** What the record oracles have already seen: each ledger claim's appearance, each trail's length. */
export class RecordsSeen {
  readonly ledger = new Map<string, { status: string; calls: number }>();
  readonly audit = new Map<string, number>();
}

export function exchangeTruth(world: World): ExchangeTruth {
  return {
    keys: (account) => world.raw.exchange.snapshot(account).keys,
    calls: world.raw.exchange.calls,
  };
}

/** The registry and grace of every secret, read raw at this moment. */
export async function registryFacts(world: World): Promise<RegistryFacts> {
  const required = new Set<string>();
  const grace = new Map<string, number>();
  for (const secretId of world.secretIds) {
    for (const c of await world.raw.consumers.listConsumers(secretId))
      if (c.required) required.add(`${secretId}\n${c.consumerId}`);
    const lock = await world.raw.store.get(secretId);
    for (const [key, rotationId] of world.truth.weakened)
      if (key.startsWith(`${secretId}\n`) && lock?.rotationId === rotationId) required.add(key);
    grace.set(secretId, rawGraceSeconds(await world.raw.store.getSettings(secretId)));
  }
  return {
    required: (secretId, consumerId) => required.has(`${secretId}\n${consumerId}`),
    graceSeconds: (secretId) => grace.get(secretId) ?? 30,
  };
}

/** I9 after every event: the ledger's claims, and each audit entry's claim as it appears. */
export function checkAfterEvent(world: World, snap: Snapshot, seen: RecordsSeen): Violation[] {
  const ex = exchangeTruth(world);
  const out = checkLedgerRecords(snap.ledger, ex, seen.ledger);
  for (const s of snap.secrets) {
    const from = seen.audit.get(s.secretId) ?? 0;
    if (s.audit.length > from) out.push(...checkAuditRecords(s.audit.slice(from), s.account, ex));
    seen.audit.set(s.secretId, s.audit.length);
  }
  return out;
}

/** At quiescence: the read policy equals the raw registry; the recorded current key authenticates. */
export async function checkAtQuiescence(world: World, snap: Snapshot): Promise<Violation[]> {
  const ex = exchangeTruth(world);
  const readers = world.depsFor(world.context("oracle")).keyshiftReaders;
  const out: Violation[] = [];
  for (const s of snap.secrets) {
    const registered = (await world.raw.consumers.listConsumers(s.secretId)).map((c) => c.principalArn);
    const document = await world.raw.policies.getResourcePolicy(s.secretId);
    out.push(...checkReadPolicy(s.secretId, document, registered, readers));
    out.push(...checkRecordedCurrent(s.secretId, s.recorded?.current?.exchangeKeyId, s.account, ex));
  }
  return out;
}
