import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest, controlPlane } from "../control-plane";
import { BybitSimError } from "./errors";
import type { BybitSimulator } from "./types";

/**
 * The Bybit simulator's control plane under `/_sim/` (see `controlPlane`), one to one with the
 * `BybitSimulator` methods.
 */
export function handleBybitControlPlane(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  sim: BybitSimulator,
): Promise<void> {
  return controlPlane({
    sim,
    createAccount(input) {
      if (typeof input.account !== "string") throw badRequest("account must be a string");
      return sim.createAccount(input.account, {
        ...(typeof input.maxKeys === "number" ? { maxKeys: input.maxKeys } : {}),
        ...(typeof input.master === "string" ? { master: input.master } : {}),
        ...(Array.isArray(input.masterIps) ? { masterIps: input.masterIps.map(String) } : {}),
      });
    },
    seedKey(account, input) {
      const permissions = input.permissions;
      if (typeof permissions !== "object" || permissions === null)
        throw badRequest("permissions must be an object");
      return sim.seedKey(account, {
        label: String(input.label ?? ""),
        permissions: permissions as Record<string, string[]>,
        readOnly: input.readOnly === true,
        ...(Array.isArray(input.ips) ? { ips: input.ips.map(String) } : {}),
      });
    },
    otherError: (err) =>
      err instanceof BybitSimError
        ? { status: 400, code: String(err.retCode), message: err.retMsg }
        : undefined,
  })(req, res, pathname);
}
