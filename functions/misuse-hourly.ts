import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { stepLogging } from "../src/commons/middleware";
import {
  alerts,
  audit,
  clock,
  compose,
  consumers,
  ledger,
  misuseAcks,
  revocation,
  secrets,
  store,
  usage,
} from "../src/commons/wiring";
import { exchange } from "../src/commons/wiring-exchange";
import { type MisuseHourlyResult, misuseHourly } from "../src/core/misuse/hourly";

const deps = compose(loadConfig(), {
  store,
  usage,
  misuseAcks,
  alerts,
  clock,
  ledger,
  exchange,
  secrets,
  consumers,
  audit,
  revocation,
});

type Deps = Parameters<typeof misuseHourly>[0];

/**
 * The hourly misuse run (EventBridge, infra/misuse.yml): the detector over the hour that just
 * ended, each open finding alerted; a retired key an exchange saw authenticate after its
 * retirement is stopped at once through the ledger (core/misuse/retired-action.ts).
 */
export async function misuseHourlyStep(
  _event: unknown,
  d: Deps = { ...deps, acks: deps.misuseAcks, retiredKeys: deps, stop: deps },
): Promise<MisuseHourlyResult> {
  return misuseHourly(d);
}

export const handler = middy<unknown, MisuseHourlyResult>()
  .use(stepLogging("misuse-hourly"))
  .handler((event) => misuseHourlyStep(event));
