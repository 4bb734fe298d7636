/**
 * A refusal the Bybit simulator answers in Bybit's envelope `{retCode, retMsg, result, retExtInfo,
 * time}` — with HTTP 200, as Bybit answers most errors (docs/v5/error.mdx). Messages name keys and
 * UIDs, never a secret.
 */
export class BybitSimError extends Error {
  constructor(
    readonly retCode: number,
    readonly retMsg: string,
    readonly httpStatus = 200,
    readonly headers: Record<string, string> = {},
  ) {
    super(retMsg);
    this.name = "BybitSimError";
  }
}

/** retCodes the simulator answers, each from Bybit's published table (docs/v5/error.mdx). */
export const RET = {
  ok: 0,
  /** "Request parameter error"; also what the simulator answers where Bybit publishes no code (see docs). */
  params: 10001,
  recvWindow: 10002,
  invalidKey: 10003,
  sign: 10004,
  permission: 10005,
  rateLimit: 10006,
  serverError: 10016,
  ip: 10010,
  routeNotFound: 10017,
  keyExpired: 33004,
  subNotOwned: 500010,
} as const;

export function envelope(retCode: number, retMsg: string, result: unknown, nowMs: number) {
  return { retCode, retMsg, result, retExtInfo: {}, time: nowMs };
}

export const paramError = (message: string) => new BybitSimError(RET.params, message);
export const permissionDenied = (message: string) => new BybitSimError(RET.permission, message);
