import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest, controlPlane, isStringList } from "../control-plane";
import { BinanceSimError } from "./errors";
import type { BinanceSimulator, SimFlags } from "./types";

/**
 * The Binance simulator's control plane under `/_sim/` (see `controlPlane`), one to one with the
 * `BinanceSimulator` methods.
 */
export function handleBinanceControlPlane(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  sim: BinanceSimulator,
): Promise<void> {
  return controlPlane({
    sim,
    createAccount(input) {
      if (typeof input.account !== "string") throw badRequest("account must be a string");
      return sim.createAccount(input.account, {
        ...(typeof input.maxKeys === "number" ? { maxKeys: input.maxKeys } : {}),
        ...(isStringList(input.masterIps) ? { masterIps: input.masterIps } : {}),
      });
    },
    seedKey(account, input) {
      const flags = input.flags;
      if (typeof flags !== "object" || flags === null) throw badRequest("flags must be an object");
      return sim.seedKey(account, {
        label: String(input.label ?? ""),
        flags: flags as SimFlags,
        ...(isStringList(input.ips) ? { ips: input.ips } : {}),
      });
    },
    otherError: (err) =>
      err instanceof BinanceSimError ? { status: 400, code: String(err.code), message: err.msg } : undefined,
  })(req, res, pathname);
}
