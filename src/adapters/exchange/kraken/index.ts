export {
  KRAKEN_DEFAULT_ENDPOINT,
  type KrakenAccountConfig,
  parseKrakenAccountConfig,
} from "./account-config";
export { type Answer, type CallContext, KrakenClient, type KrakenSigner, type Refusal } from "./client";
export { MonotonicNonce, processNonce } from "./nonce";
export {
  isBase64Secret,
  KRAKEN_HEADERS,
  krakenPostData,
  krakenSignature,
  krakenSignatureMatches,
  krakenSignedRequest,
  PRIVATE_PREFIX,
} from "./signing";
export {
  describeKey,
  type KrakenCallOptions,
  type KrakenKeyCredential,
  type KrakenKeyDescription,
  keyStillAuthenticates,
  verifyKey,
} from "./verify";
export { KRAKEN_ERRORS, KRAKEN_PERMISSIONS } from "./wire";
