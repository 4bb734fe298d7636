export { type BinanceCredentialSource, BinanceExchange, type BinanceExchangeOptions } from "./adapter";
export { type BinanceConfig, DEFAULT_MAX_KEYS, parseBinanceAdminSecret } from "./admin-secret";
export { binanceProtocol } from "./protocol";
export { PERMISSION_FLAGS, READING } from "./scope";
export { BINANCE_API_KEY_HEADER, binanceSignature, signedParameters, withSignature } from "./signing";
