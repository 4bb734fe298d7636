/**
 * A refusal the OKX simulator answers in OKX's envelope `{code, msg, data}` with the HTTP status
 * the v5 error table gives the code (401 for authentication, 429 for the rate limit, 200 or 400 for
 * refusals of the operation). Messages name keys and sub-accounts, never a secret.
 */
export class OkxSimError extends Error {
  constructor(
    readonly code: string,
    readonly msg: string,
    readonly httpStatus = 200,
  ) {
    super(msg);
    this.name = "OkxSimError";
  }
}

/** The codes the simulator answers, each from OKX's v5 error table (docs/exchanges.md, OKX). */
export const CODE = {
  ok: "0",
  systemError: "50026",
  rateLimit: "50011",
  paramEmpty: "50014",
  ipBindingRequired: "50035",
  environment: "50101",
  expired: "50102",
  keyHeader: "50103",
  passphraseHeader: "50104",
  passphrase: "50105",
  signHeader: "50106",
  timestampHeader: "50107",
  ip: "50110",
  invalidKey: "50111",
  invalidTimestamp: "50112",
  sign: "50113",
  param: "51000",
  masterOnly: "59500",
  keyLimit: "59501",
  duplicateLabel: "59502",
  tooManyIps: "59503",
  noWithdraw: "59504",
  passphraseFormat: "59505",
  keyNotFound: "59506",
  subAccountUnknown: "59510",
} as const;

export function envelope(code: string, msg: string, data: unknown[]) {
  return { code, msg, data };
}

export const paramError = (name: string) => new OkxSimError(CODE.param, `Parameter ${name} error`, 400);
export const paramEmpty = (name: string) =>
  new OkxSimError(CODE.paramEmpty, `Parameter ${name} cannot be empty`, 400);
