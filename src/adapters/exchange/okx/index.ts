export { type OkxCredentialSource, OkxExchange, type OkxExchangeOptions } from "./adapter";
export { DEFAULT_MAX_KEYS, DEFAULT_OKX_ENDPOINT, type OkxConfig, parseOkxAdminSecret } from "./admin-secret";
export { generatePassphrase, normalizeScope, PERM_READ, PERM_TRADE, PERM_WITHDRAW } from "./scope";
export { OKX_HEADERS, okxSignature, okxSignedHeaders, okxTimestamp } from "./signing";
