import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { logger } from "../src/commons/logger";
import { stepLogging } from "../src/commons/middleware";
import { toSecretRead } from "../src/commons/secret-read-event";
import {
  alerts,
  audit,
  clock,
  compose,
  consumers,
  keyshiftReaders,
  readerAlerts,
  readHistory,
  store,
} from "../src/commons/wiring";
import { recordSecretRead, type SecretReadOutcome } from "../src/core/consumers/secret-read";
import { ConfigurationError } from "../src/core/errors";

const config = loadConfig();
// Without keyshift's own readers every read by CreateNext would be alerted on: refuse to start.
if (!config.KEYSHIFT_READER_ROLE_ARNS?.length) {
  throw new ConfigurationError(
    "KEYSHIFT_READER_ROLE_ARNS is required by the secret-read function (CreateNext's role ARN)",
  );
}
const deps = compose(config, {
  store,
  consumers,
  audit,
  alerts,
  clock,
  keyshiftReaders,
  readerAlerts,
  readHistory,
});

type Outcome = SecretReadOutcome | { recorded: false; reason: string };

/**
 * EventBridge rule on CloudTrail's GetSecretValue events for keyshift's secrets: audits every read
 * and alerts, once a day per principal, on a reader that is not a registered consumer.
 */
export async function secretReadEvent(
  event: unknown,
  d: Parameters<typeof recordSecretRead>[1] = deps,
): Promise<Outcome> {
  const read = toSecretRead(event);
  if ("ignored" in read) return { recorded: false, reason: read.ignored };
  const outcome = await recordSecretRead(read, d);
  logger.info("secret read recorded", {
    secretId: outcome.recorded ? outcome.secretId : read.secretRef,
    principalArn: read.principalArn,
    reader: outcome.recorded ? outcome.reader : outcome.reason,
    denied: read.denied,
  });
  return outcome;
}

export const handler = middy<unknown, Outcome>()
  .use(stepLogging("secret-read"))
  .handler((event) => secretReadEvent(event));
