export { type KrakenSimulatorOptions, startKrakenSimulator } from "./server";
export type { CreatedKey, CreateKeyInput, KrakenSimKeyView, KrakenSimulator } from "./types";
