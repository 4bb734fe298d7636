import { afterAll, beforeAll, expect } from "vitest";
import { type SimulatedConsumerSpec, SimulatedFleet } from "../../harness/local/consumers";
import {
  defaultConsumers,
  type Enrolled,
  enrollLocalSecret,
  registerConsumers,
} from "../../harness/local/scenario";
import { allSecretValues, captureLambdaLogs, scanForSecrets } from "../../harness/local/secret-scan";
import { type LocalStack, startLocalStack } from "../../harness/local/stack";
import { type ExecutionResult, runRotation } from "../../harness/local/workflow-runner";
import type { SecretSettings } from "../../src/core/model";

export interface World {
  stack: LocalStack;
  logs: { lines: string[]; restore: () => void };
  executions: ExecutionResult[];
  fleets: SimulatedFleet[];
}

/** One local stack per test file; Lambda log lines are captured for the secret scan. */
export async function startWorld(
  revocation = { maxAttempts: 4, baseSeconds: 1, capSeconds: 2 },
): Promise<World> {
  process.env.POWERTOOLS_LOG_LEVEL = "INFO";
  const logs = captureLambdaLogs();
  const stack = await startLocalStack({ seed: 7, revocation });
  return { stack, logs, executions: [], fleets: [] };
}

/**
 * The file's world, filled in before its tests run. After them, it checks the rule every workflow
 * test must keep — no request was ever made with a removed key — and stops the stack.
 */
export function useWorld(revocation?: Parameters<typeof startWorld>[0]): World {
  const world = {} as World;
  beforeAll(async () => {
    Object.assign(world, await startWorld(revocation));
  });
  afterAll(async () => {
    expect(requestsWithRemovedKey(world)).toEqual([]);
    await stopWorld(world);
  });
  return world;
}

export async function stopWorld(world: World): Promise<void> {
  await Promise.all(world.fleets.map((f) => f.stop()));
  world.logs.restore();
  await world.stack.close();
}

let counter = 0;

/** A fresh exchange account + enrolled secret, so tests in one file never share state. */
export async function enroll(world: World, settings: Partial<SecretSettings> = {}): Promise<Enrolled> {
  counter += 1;
  return enrollLocalSecret(world.stack, { account: `acct-${counter}`, settings });
}

export async function withConsumers(
  world: World,
  enrolled: Enrolled,
  specs: SimulatedConsumerSpec[] = defaultConsumers(enrolled.secretId, 3),
): Promise<SimulatedFleet> {
  await registerConsumers(enrolled, specs);
  const fleet = new SimulatedFleet(world.stack, specs);
  await fleet.start();
  world.fleets.push(fleet);
  return fleet;
}

export async function rotate(
  world: World,
  enrolled: Enrolled,
  input: Record<string, unknown> = {},
  executionName?: string,
): Promise<ExecutionResult> {
  const result = await runRotation({ secretId: enrolled.secretId, trigger: "manual", ...input } as never, {
    waitMs: 150,
    retryMs: 20,
    executionName,
  });
  world.executions.push(result);
  return result;
}

export function activeKeys(world: World, enrolled: Enrolled) {
  return world.stack.exchange.keys(enrolled.account).filter((k) => k.status === "active");
}

export function statesEntered(result: ExecutionResult): string[] {
  return result.history.filter((e) => e.type === "StateEntered").map((e) => e.state ?? "");
}

/** Every place a secret must never reach, scanned for every value Secrets Manager holds. */
export async function secretLeaks(world: World, enrolled: Enrolled[]) {
  const secrets = await allSecretValues(world.stack.endpoints.secretsManager, world.stack.region);
  const audits = (await Promise.all(enrolled.map((e) => e.deps.audit.list(e.secretId)))).flat();
  return scanForSecrets(
    [
      ...world.logs.lines.map((text, i) => ({ where: `log ${i}`, text })),
      ...world.executions.map((x, i) => ({ where: `execution ${i}`, text: JSON.stringify(x) })),
      ...audits.map((a) => ({ where: `audit ${a.secretId}#${a.seq}`, text: JSON.stringify(a) })),
      ...world.stack.sns.messages().map((m, i) => ({ where: `alert ${i}`, text: JSON.stringify(m) })),
    ],
    secrets,
  );
}

/**
 * Requests made with a removed key. Consumers are only expected to hold a key until revocation,
 * which happens after they all confirmed the current one: any such request is a gating failure.
 */
export function requestsWithRemovedKey(world: World) {
  return world.stack.exchange.requestLog().filter((r) => r.keyState === "removed");
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The ledger table is shared by every secret of the stack; this is one secret's part of it. */
export async function ledgerOf(enrolled: Enrolled) {
  return (await enrolled.deps.ledger.listAll()).filter((e) => e.secretId === enrolled.secretId);
}

/** Stops every simulated consumer started so far (their trading traffic shares the exchange). */
export async function stopFleets(world: World): Promise<void> {
  await Promise.all(world.fleets.map((f) => f.stop()));
  world.fleets.length = 0;
}
