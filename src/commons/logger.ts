import { Logger } from "@aws-lambda-powertools/logger";

/**
 * The one structured logger. Keys: `secretId`, `rotationId`, `step`. Version ids, key ids and
 * fingerprints may be logged; secret values never (nothing that holds one is passed here).
 */
export const logger = new Logger({ serviceName: "keyshift" });
