export { type OkxSimulatorOptions, startOkxSimulator } from "./server";
export { type OkxTradingCallResult, tradingCall, tradingOrder } from "./trading-client";
export type { OkxAccountCredential, OkxSeedKeyInput, OkxSimKeyView, OkxSimulator } from "./types";
