export { startDeribitSimulator } from "./server";
export { type TradingCallResult, tradingBuy, tradingCall, tradingLogin } from "./trading-client";
export type {
  DeribitAccountOptions,
  DeribitSimulatedKey,
  DeribitSimulator,
  DeribitSimulatorOptions,
} from "./types";
