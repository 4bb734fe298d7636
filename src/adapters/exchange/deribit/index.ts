export { DeribitExchange, type DeribitExchangeOptions } from "./adapter";
export { DERIBIT_ADMIN_SECRET_SHAPE, type DeribitAdminConfig, parseDeribitAdminSecret } from "./admin-secret";
export { DERIBIT_AUTH_SCHEME, deribitAuthorizationHeader } from "./signing";
