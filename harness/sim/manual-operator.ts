/**
 * The persons of manual key management (issue 17): they read `keyshift tasks list` and the
 * manual-step alerts, act at the manual account's web UI (`InMemoryExchange.webCreateKey` /
 * `webDeleteKey`, never through keyshift), and answer with `keyshift keys provide` /
 * `keys confirm-deleted` — each one call of its use case through `world.depsFor` (faults at every
 * port call). Under chaos each task gets a seeded plan: a key made right, late (after the deadline),
 * twice (two persons, two keys, two concurrent answers: exactly one may win), wrong (broader
 * permissions or the wrong name: must be refused, the task stays open), or never; a deletion
 * confirmed before the key is deleted (must be refused: the key still exists), deleted then
 * confirmed, or confirmed twice. Sometimes a person resumes the stalled rotation an expired task
 * names. In the calm end persons act within minutes and never late or never (a wrong key is followed
 * by the right one).
 *
 * What the persons did is the world's record (`ManualRecord`); the oracles (`oracles/manual.ts`)
 * judge the product by it and by the raw exchange, never by asking the code under test.
 */
import { confirmDeleted } from "../../src/core/manual/confirm";
import { provideKey } from "../../src/core/manual/provide";
import type { ManualTask } from "../../src/core/model";
import type { Executions } from "./executions";
import { runOperator } from "./operator";
import { checkPersonDeletion } from "./oracles/manual";
import type { Rng } from "./rng";
import type { World } from "./world";

type CreatePlan = "right" | "late" | "twice" | "wrong" | "never";
type DeletePlan = "delete-then-confirm" | "confirm-first" | "confirm-twice" | "never";

const PRINCIPAL = "operator:arn:aws:iam::123456789012:user/person";

export function spawnManualOperator(
  world: World,
  execs: Executions,
  rng: Rng,
  calm: () => boolean,
  stopped: () => boolean,
): void {
  const sched = world.sched;
  /** The plan each task (by id and deadline: a task opened again gets a new one) was given. */
  const planned = new Map<string, string>();
  let serial = 0;
  sched.spawn("person", async () => {
    while (!stopped()) {
      await sched.sleep("person", calm() ? rng.range(120, 300) : rng.range(60, 900), "reads tasks list");
      if (stopped()) return;
      let open: ManualTask[];
      try {
        open = await world.depsFor(world.context("person")).tasks.listOpen();
      } catch {
        continue;
      }
      for (const task of open) {
        const key = `${task.taskId}@${task.deadline}`;
        const was = planned.get(key);
        // In the calm end a task still open is answered again (a person finally looks, or tries
        // again after a refused wrong key): otherwise it waits out its deadline and the seed
        // spends its events on heartbeats.
        if (was && !(calm() && (was === "never" || was === "late" || was === "wrong"))) continue;
        // The calm end has no faults, but persons still err: only "late" and "never" are off (the seed must settle).
        const late = calm() ? 0 : 1;
        const plan =
          task.kind === "create-key"
            ? rng.weighted<CreatePlan>({ right: 4, late, twice: 2, wrong: 2, never: late })
            : rng.weighted<DeletePlan>({
                "delete-then-confirm": 4,
                "confirm-first": 2,
                "confirm-twice": 2,
                never: late,
              });
        planned.set(key, plan);
        world.manual.count(`plan:${task.kind}:${plan}`);
        serial += 1;
        const actor = `person:${task.taskId}#${serial}`;
        const r = rng.fork(actor);
        sched.spawn(actor, () =>
          task.kind === "create-key"
            ? createKey(world, execs, r, actor, task, plan as CreatePlan)
            : deleteKey(world, r, actor, task.taskId, task, plan as DeletePlan),
        );
      }
      // A deletion keyshift asked for with no waiting execution (an abort's unpromoted key, the
      // sweeper): named by its alert and its ledger entry only.
      for (const entry of await world.raw.ledger.listAll()) {
        if (entry.status !== "awaiting-operator" || entry.exchangeAccount !== "acct-manual") continue;
        const hasTask = open.some((t) => t.entryId === entry.entryId);
        const key = `${entry.entryId}@alert`;
        if (hasTask || (planned.has(key) && !calm())) continue;
        planned.set(key, "delete-then-confirm");
        serial += 1;
        const actor = `person:${entry.entryId}#${serial}`;
        sched.spawn(actor, () =>
          deleteKey(world, rng.fork(actor), actor, entry.entryId, undefined, "delete-then-confirm"),
        );
      }
    }
  });
}

async function createKey(
  world: World,
  execs: Executions,
  rng: Rng,
  actor: string,
  task: ManualTask,
  plan: CreatePlan,
): Promise<void> {
  if (plan === "never") return;
  const now = world.raw.clock.now().getTime();
  const deadline = Date.parse(task.deadline);
  // In the calm end (no faults) a person acts within minutes, so the seed settles.
  const wait =
    plan === "late"
      ? Math.ceil((deadline - now) / 1000) + rng.range(10, 900)
      : !world.faultsOn
        ? rng.range(30, 240)
        : rng.range(30, Math.max(60, Math.min(1800, Math.floor((deadline - now) / 2000))));
  await world.sched.sleep(actor, wait, `makes the key (${plan})`);
  if (plan === "twice") {
    // Two persons, each with a key of their own, answer at the same moment.
    let done = 0;
    await new Promise<void>((resolve) => {
      for (const who of ["a", "b"]) {
        world.sched.spawn(`${actor}${who}`, async () => {
          await makeAndProvide(world, execs, rng.fork(who), `${actor}${who}`, task, undefined);
          done += 1;
          if (done === 2) resolve();
        });
      }
    });
    return;
  }
  const wrong = plan === "wrong" ? rng.pick(["broader", "label"]) : undefined;
  await makeAndProvide(world, execs, rng, actor, task, wrong);
  // A refused wrong key is followed, now and then, by the right one.
  if (wrong && (!world.faultsOn || rng.chance(0.5)))
    await makeAndProvide(world, execs, rng, actor, task, undefined);
}

async function makeAndProvide(
  world: World,
  execs: Executions,
  rng: Rng,
  actor: string,
  task: ManualTask,
  wrong: string | undefined,
): Promise<void> {
  const request = task.request;
  if (!request) return;
  let made: { keyId: string; secret: string };
  try {
    made = world.raw.exchange.webCreateKey(task.exchangeAccount, {
      label: wrong === "label" ? `${request.label}-copy` : request.label,
      permissions: wrong === "broader" ? [...request.permissions, "withdraw"] : [...request.permissions],
      ...(request.ipAllowlist.length > 0 ? { ipAllowlist: [...request.ipAllowlist] } : {}),
    });
  } catch (err) {
    world.sched.log(actor, `web UI refused a key: ${(err as Error).message}`);
    world.manual.count("web-create-refused");
    return;
  }
  world.manual.made.set(made.keyId, { taskId: task.taskId, ...(wrong ? { wrong } : {}) });
  const keyText = JSON.stringify({ keyId: made.keyId, secret: made.secret });
  // A person re-runs a command that failed on an error that is not keyshift's answer.
  for (let attempt = 0; attempt < 3; attempt++) {
    const ctx = world.context(actor);
    try {
      const out = await provideKey(
        { taskId: task.taskId, keyText, principal: PRINCIPAL },
        world.depsFor(ctx),
      );
      world.sched.log(actor, `provided ${made.keyId}: ${out.workflow}, verified by ${out.verified}`);
      world.manual.count(`provide:${wrong ? `wrong-${wrong}` : "ok"}:${out.workflow}`);
      const answers = world.manual.provided.get(task.taskId) ?? [];
      answers.push(made.keyId);
      world.manual.provided.set(task.taskId, answers);
      return;
    } catch (err) {
      const e = err as Error;
      world.sched.log(actor, `provide ${made.keyId} -> ${e.name}: ${e.message.slice(0, 160)}`);
      if (e.name !== "ManualTaskRefusedError") {
        world.manual.count("provide:failed");
        await world.sched.sleep(actor, rng.range(5, 120), "runs keys provide again");
        continue;
      }
      world.manual.count(`provide:refused${wrong ? `-wrong-${wrong}` : ""}`);
      if (/expired/.test(e.message) && rng.chance(0.5))
        world.sched.log(actor, `resume -> ${await runOperator(world, execs, rng, "resume", task.secretId)}`);
      break;
    }
  }
  // Refused (or never accepted): the person deletes the key they made — unless `keyshift status`
  // shows the secret holding it (an earlier run of the command stored it before failing).
  const held = world.raw.secrets
    .versions(task.secretId)
    .some((v) => v.value.includes(`"keyId":"${made.keyId}"`));
  if (!held && world.raw.exchange.webDeleteKey(task.exchangeAccount, made.keyId))
    world.sched.log(actor, `deleted the refused key ${made.keyId} at the web UI`);
}

async function deleteKey(
  world: World,
  rng: Rng,
  actor: string,
  ref: string,
  task: ManualTask | undefined,
  plan: DeletePlan,
): Promise<void> {
  if (plan === "never") return;
  const entryId = task?.entryId ?? ref;
  const entry = await world.raw.ledger.get(entryId);
  if (!entry) return;
  await world.sched.sleep(actor, rng.range(30, world.faultsOn ? 1800 : 240), `deletes the key (${plan})`);
  if (plan === "confirm-first") {
    // Before deleting it: keyshift must refuse, the key still authenticates.
    await confirm(world, actor, ref, "before-delete");
    await world.sched.sleep(actor, rng.range(30, 600), "now deletes it");
  }
  const keyId = task?.keyId ?? entry.keyId;
  // The web UI lists the account's keys: one already deleted (by another person) is not there.
  if (world.raw.exchange.key(entry.exchangeAccount, keyId)) {
    await checkPersonDeletion(world, entry.exchangeAccount, keyId);
    world.raw.exchange.webDeleteKey(entry.exchangeAccount, keyId);
    world.truth.effect("removeKey", keyId, world.raw.clock.now().getTime());
    world.sched.log(actor, `deleted ${keyId} at the web UI`);
    world.manual.count("web-delete");
  }
  await world.sched.sleep(actor, rng.range(5, 300), "runs keys confirm-deleted");
  if (plan === "confirm-twice") {
    await Promise.all([confirm(world, `${actor}a`, ref, "twice"), confirm(world, `${actor}b`, ref, "twice")]);
    return;
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await confirm(world, actor, ref, "after-delete")) return;
    await world.sched.sleep(actor, rng.range(5, 120), "runs keys confirm-deleted again");
  }
}

/** One `keys confirm-deleted`; true once keyshift gave a final answer (accepted or refused). */
async function confirm(world: World, actor: string, ref: string, why: string): Promise<boolean> {
  try {
    const out = await confirmDeleted({ ref, principal: PRINCIPAL }, world.depsFor(world.context(actor)));
    world.sched.log(actor, `confirmed ${out.keyId} (${why}): ${out.workflow}, verified by ${out.verified}`);
    world.manual.count(`confirm:${why}:${out.workflow}`);
    return true;
  } catch (err) {
    const e = err as Error;
    world.sched.log(actor, `confirm ${ref} (${why}) -> ${e.name}: ${e.message.slice(0, 160)}`);
    world.manual.count(`confirm:${why}:${e.name === "ManualTaskRefusedError" ? "refused" : "failed"}`);
    return e.name === "ManualTaskRefusedError";
  }
}
