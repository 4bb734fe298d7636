import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest, controlPlane, isStringList } from "../control-plane";
import { OkxSimError } from "./errors";
import type { OkxSimulator } from "./types";

/**
 * The OKX simulator's control plane under `/_sim/` (see `controlPlane`), one to one with the
 * `OkxSimulator` methods.
 */
export function handleOkxControlPlane(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  sim: OkxSimulator,
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
      if (!isStringList(input.perm)) throw badRequest("perm must be a list of strings");
      return sim.seedKey(account, {
        label: String(input.label ?? ""),
        perm: input.perm,
        ...(isStringList(input.ips) ? { ips: input.ips } : {}),
      });
    },
    otherError: (err) =>
      err instanceof OkxSimError ? { status: 400, code: err.code, message: err.msg } : undefined,
  })(req, res, pathname);
}
