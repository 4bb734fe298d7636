export { type DetectOptions, detectMisuse, detectSecret } from "./detect";
export { historyOf, type SecretSlice, slicesOf } from "./history";
export * from "./model";
export { type ParsedInput, parseMisuseLines, type RejectedLine } from "./replay-input";
