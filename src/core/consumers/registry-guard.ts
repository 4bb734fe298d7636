import type { Deps } from "../deps";
import { FINAL_PHASES } from "../model";
import { lockStatus } from "../rotation/lock";

/** A rotation of the secret that holds its lock and is not final: its gate is deciding now. */
export interface ActiveRotation {
  rotationId: string;
  /** `running`, `stalled` or `execution-lost` (see `lockStatus`). */
  state: string;
}

/**
 * The rotation whose gate a registry change would move under it, if any. A lock held by a
 * rotation that already reached a final phase (a release that did not happen yet) waits for nobody.
 */
export async function activeRotation(
  secretId: string,
  deps: Pick<Deps, "store" | "lock" | "clock">,
): Promise<ActiveRotation | undefined> {
  const held = await deps.lock.get(secretId);
  if (!held) return undefined;
  const holder = await deps.store.getRotation(secretId, held.rotationId);
  if (holder && FINAL_PHASES.includes(holder.phase)) return undefined;
  return { rotationId: held.rotationId, state: lockStatus(held, holder, deps.clock.now()).state };
}
