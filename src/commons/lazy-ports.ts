import type { AlertLog } from "../adapters/sns-alerts";
import type { Alert } from "../core/model";
import type { Alerts } from "../core/ports";

/**
 * Ports whose SDK client is imported and built on the first call, not at cold start: a function that
 * never alerts never loads SNS. The bundle still holds the code (esbuild inlines the dynamic import);
 * its evaluation waits. A failed load is not remembered: the next call tries again.
 */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
}

export function lazySnsAlerts(opts: {
  region: string;
  endpoint?: string;
  topicArn: string;
  log: AlertLog;
}): Alerts {
  const alerts = once(async () => {
    const [{ SNSClient }, { SnsAlerts }] = await Promise.all([
      import("@aws-sdk/client-sns"),
      import("../adapters/sns-alerts"),
    ]);
    return new SnsAlerts(
      new SNSClient({ region: opts.region, endpoint: opts.endpoint }),
      opts.topicArn,
      opts.log,
    );
  });
  return { send: async (alert: Alert) => (await alerts()).send(alert) };
}
