/**
 * @keyshift/consumer: how a trading service joins keyshift. See README "Joining as a consumer" and
 * docs/heartbeat-protocol.md (the wire protocol, for services not written in TypeScript).
 */

export { type Consumer, createConsumer, type RotateListener } from "./consumer.js";
export {
  type ConsumerError,
  HeartbeatRejectedError,
  RequestTimeoutError,
  SecretUnavailableError,
} from "./errors.js";
export { fingerprint } from "./fingerprint.js";
export {
  ConsumerConfigError,
  type ConsumerCredentials,
  type ConsumerCredentialsProvider,
  type ConsumerLogger,
  type ConsumerOptions,
  type ConsumerTimers,
  type SecretsManagerLike,
} from "./options.js";
export type { ConsumerStatus } from "./status.js";
export {
  AUTH_FAILURE_KINDS,
  type AuthFailureKind,
  ENDPOINT_CLASSES,
  type EndpointClass,
  type UsageStatus,
} from "./usage.js";
export type { UsageClassifier } from "./usage-fetch.js";
