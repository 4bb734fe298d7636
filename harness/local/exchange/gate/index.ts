export { gateLocal } from "./local";
export { type GateSimulatorOptions, startGateSimulator } from "./server";
export { type GateTradingCallResult, tradingCall } from "./trading-client";
export type { GateAccountCredential, GateSeedKeyInput, GateSimKeyView, GateSimulator } from "./types";
