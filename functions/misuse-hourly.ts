import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { stepLogging } from "../src/commons/middleware";
import { alerts, clock, compose, misuseAcks, store, usage } from "../src/commons/wiring";
import { type MisuseHourlyResult, misuseHourly } from "../src/core/misuse/hourly";

const deps = compose(loadConfig(), { store, usage, misuseAcks, alerts, clock });

type Deps = Parameters<typeof misuseHourly>[0];

/**
 * The hourly misuse run (EventBridge, infra/misuse.yml): the detector over the hour that just
 * ended, each open finding alerted. No exchange side is stored yet (the pulls are not built), so
 * today it judges what there is and says which accounts had nothing to judge.
 */
export async function misuseHourlyStep(
  _event: unknown,
  d: Deps = { ...deps, acks: deps.misuseAcks },
): Promise<MisuseHourlyResult> {
  return misuseHourly(d);
}

export const handler = middy<unknown, MisuseHourlyResult>()
  .use(stepLogging("misuse-hourly"))
  .handler((event) => misuseHourlyStep(event));
