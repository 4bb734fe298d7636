export { type GateCredentialSource, GateExchange, type GateExchangeOptions } from "./adapter";
export {
  DEFAULT_GATE_ENDPOINT,
  DEFAULT_MAX_KEYS,
  type GateConfig,
  parseGateAdminSecret,
} from "./admin-secret";
export { GATE_FUNCTIONS, normalizeScope } from "./scope";
export {
  GATE_API_PREFIX,
  GATE_HEADERS,
  gateSignature,
  gateSignaturePayload,
  gateSignedHeaders,
  gateTimestamp,
} from "./signing";
