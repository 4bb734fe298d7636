export { type BinanceSimulatorOptions, startBinanceSimulator } from "./server";
export { type TradingCallResult, tradingCall } from "./trading-client";
export type {
  BinanceAccountCredential,
  BinanceSimKeyView,
  BinanceSimulator,
  SeedKeyInput,
  SimFlags,
} from "./types";
