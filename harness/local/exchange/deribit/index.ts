export { startDeribitSimulator } from "./server";
export { type TradingCallResult, tradingCall } from "./trading-client";
export type {
  DeribitAccountOptions,
  DeribitSimulatedKey,
  DeribitSimulator,
  DeribitSimulatorOptions,
} from "./types";
