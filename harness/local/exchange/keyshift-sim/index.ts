export {
  type AdminCredentialSource,
  type ExchangeAdminCredential,
  HttpExchange,
  type SignedFetchOptions,
  signedFetch,
} from "./adapter";
export { KEYSHIFT_SIM, keyshiftSimProtocol, registerKeyshiftSim } from "./protocol";
export { type ExchangeSimulator, type SimulatedKey, startExchangeSimulator } from "./server";
