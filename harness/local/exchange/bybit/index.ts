export { type BybitSimulatorOptions, startBybitSimulator } from "./server";
export { type TradingCallResult, tradingCall, tradingOrder } from "./trading-client";
export type { BybitAccountCredential, BybitSimKeyView, BybitSimulator, SeedKeyInput } from "./types";
