/**
 * The incident behind restore (breaks 1–5): a required consumer that cannot reload is still on the
 * key an emergency breaks the glass on; the operator restores that key for it, asks for the
 * revocation to be retried, and only later gets the consumer to reload. Until it does, every
 * revocation of the restored key must wait for the gate again — the sweeper's included.
 */
import { spawnInstance } from "./consumers";
import type { Executions } from "./executions";
import { runOperator } from "./operator";
import type { Rng } from "./rng";
import type { World } from "./world";

export function spawnStuckIncident(world: World, execs: Executions, rng: Rng, calm: () => boolean): void {
  // Restore needs an exchange that disables first (two-stage): only those seeds run it.
  if (!world.raw.exchange.capabilitiesValue.disable || !rng.chance(0.8)) return;
  const sched = world.sched;
  const actor = "stuck-incident";
  sched.spawn(actor, async () => {
    await sched.sleep(actor, rng.range(300, 3000), "until the stuck consumer");
    const candidates = world.consumers.filter((c) => c.required && c.registered);
    if (candidates.length === 0 || calm()) return;
    const spec = rng.pick(candidates);
    const { secretId } = spec;
    for (let i = 0; i < 30 && !calm() && (await world.raw.store.get(secretId)); i++)
      await sched.sleep(actor, 120, "secret to be idle");
    if (calm()) return;
    let stuck = true;
    world.stuckIncidents.started += 1;
    spawnInstance(world, spec, `stuck${world.nextSerial()}`, rng.fork("stuck"), () => calm() && !stuck, {
      stuck: () => stuck && !calm(),
    });
    await sched.sleep(actor, 30, "stuck consumer reports its key");
    // The emergency breaks the glass at its deadline: the stuck consumer's key is disabled. One that
    // failed (an exchange outage) or stalled is started again or resumed, as its operator would.
    const disabledEntry = async () =>
      (await world.raw.ledger.listAll()).find((e) => e.secretId === secretId && e.status === "disabled");
    for (let round = 0; round < 6 && !calm() && !(await disabledEntry()); round++) {
      const lock = await world.raw.store.get(secretId);
      const cmd = !lock ? "emergency" : lock.stalled ? "resume" : undefined;
      if (cmd)
        sched.log(actor, `${cmd} ${secretId} -> ${await runOperator(world, execs, rng, cmd, secretId)}`);
      if (round === 0 && rng.chance(0.5))
        await tryToMakeOptional(world, execs, rng, secretId, spec.consumerId);
      for (let i = 0; i < 30 && !calm() && !(await disabledEntry()); i++)
        await sched.sleep(actor, 10, "key disabled");
    }
    if (calm() || !(await disabledEntry())) return;
    world.stuckIncidents.disabled += 1;
    // Once the emergency has finished (it holds the lock until then), the operator restores the
    // key for the consumer that cannot reload yet, then asks for a retry.
    for (let i = 0; i < 60 && !calm() && (await world.raw.store.get(secretId)); i++)
      await sched.sleep(actor, 10, "emergency to finish");
    for (let i = 0; i < 5 && !calm(); i++) {
      const out = await runOperator(world, execs, rng, "restore", secretId);
      sched.log(actor, `restore -> ${out}`);
      if (out.startsWith("restored")) {
        world.stuckIncidents.restored += 1;
        break;
      }
      await sched.sleep(actor, 30, "before restoring again");
    }
    await sched.sleep(actor, rng.range(10, 120), "before the retry");
    sched.log(actor, `retry -> ${await runOperator(world, execs, rng, "retry", secretId)}`);
    // The sweeper looks meanwhile and must hold the entry back; then the consumer reloads.
    await sched.sleep(actor, rng.range(300, 1500), "consumer still cannot reload");
    stuck = false;
    sched.log(actor, "the stuck consumer reloads");
  });
}

/**
 * "It cannot reload: make it optional so the rotation can finish" — asked while the rotation holds
 * the lock. The product must refuse it (break 7); were it accepted, the world still counts the
 * consumer as required for that rotation (`truth.weakened`).
 */
async function tryToMakeOptional(
  world: World,
  execs: Executions,
  rng: Rng,
  secretId: string,
  consumerId: string,
): Promise<void> {
  await world.sched.sleep("stuck-incident", rng.range(5, 40), "before asking to make it optional");
  const current = (await world.raw.consumers.listConsumers(secretId)).find(
    (c) => c.consumerId === consumerId,
  );
  if (!current?.required) return;
  const { registeredAt: _r, ...rest } = current;
  const out = await runOperator(world, execs, rng, "register", secretId, { ...rest, required: false });
  world.sched.log("stuck-incident", `make ${consumerId} optional -> ${out}`);
}
