export { type BybitCredentialSource, BybitExchange, type BybitExchangeOptions } from "./adapter";
export { type BybitConfig, DEFAULT_MAX_KEYS, parseBybitAdminSecret } from "./admin-secret";
export { ACCESS_READ_ONLY, ACCESS_READ_WRITE } from "./scope";
export { BYBIT_HEADERS, bybitSignature, bybitSignedHeaders } from "./signing";
