import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { stepLogging } from "../src/commons/middleware";
import {
  alerts,
  audit,
  clock,
  compose,
  consumers,
  egressIps,
  exchangeSide,
  ledger,
  misuseAcks,
  revocation,
  secrets,
  store,
  usage,
} from "../src/commons/wiring";
import { exchange } from "../src/commons/wiring-exchange";
import { type MisuseHourlyResult, misuseHourly } from "../src/core/misuse/hourly";
import {
  type PullDeps,
  type PullResult,
  pullExchangeActivity,
  storedExchangeSide,
} from "../src/core/misuse/pull";

const deps = compose(loadConfig(), {
  store,
  usage,
  misuseAcks,
  alerts,
  clock,
  ledger,
  exchange,
  exchangeSide,
  egressIps,
  secrets,
  consumers,
  audit,
  revocation,
});

type Deps = Parameters<typeof misuseHourly>[0] & Partial<PullDeps>;

export interface MisuseHourlyStepResult extends MisuseHourlyResult {
  /** What the exchange pull stored before the detector ran (absent when it was not wired). */
  pull?: PullResult;
}

/**
 * The hourly misuse run (EventBridge, infra/misuse.yml): first the pull of what each account's
 * exchange saw since its cursor (Deribit's logs, Bybit's and OKX's executions and transfers), then the detector over
 * the hour that just ended, each open finding alerted; a retired key an exchange saw authenticate
 * after its retirement is stopped at once through the ledger (core/misuse/retired-action.ts).
 * Accounts whose exchange reports nothing are named in `accountsWithoutExchangeSide`.
 */
export async function misuseHourlyStep(
  _event: unknown,
  d: Deps = {
    ...deps,
    acks: deps.misuseAcks,
    exchangeActivity: storedExchangeSide(deps.exchangeSide),
    retiredKeys: deps,
    stop: deps,
  },
): Promise<MisuseHourlyStepResult> {
  // Before the detector: it judges what this pull just stored.
  const { exchange: x, exchangeSide: side } = d;
  const pull = x && side ? await pullExchangeActivity({ ...d, exchange: x, exchangeSide: side }) : undefined;
  const result = await misuseHourly(d);
  return { ...result, ...(pull ? { pull } : {}) };
}

export const handler = middy<unknown, MisuseHourlyStepResult>()
  .use(stepLogging("misuse-hourly"))
  .handler((event) => misuseHourlyStep(event));
