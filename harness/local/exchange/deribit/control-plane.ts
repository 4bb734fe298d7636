import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest, controlPlane, isStringList } from "../control-plane";
import type { DeribitSimulator } from "./types";

/**
 * The Deribit simulator's control plane under `/_sim/` (see `controlPlane`), mirroring the
 * programmatic `DeribitSimulator` one to one, plus `POST /_sim/accounts/<account>/security-key`.
 */
export function handleDeribitControlPlane(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  sim: DeribitSimulator,
): Promise<void> {
  return controlPlane({
    sim,
    createAccount({ account, maxKeys, adminScope, totpSeed, adminIpAllowlist }) {
      if (typeof account !== "string") throw badRequest("account must be a string");
      if (maxKeys !== undefined && typeof maxKeys !== "number") throw badRequest("maxKeys must be a number");
      if (adminScope !== undefined && !isStringList(adminScope))
        throw badRequest("adminScope must be a list of strings");
      if (totpSeed !== undefined && typeof totpSeed !== "string")
        throw badRequest("totpSeed must be a string");
      if (adminIpAllowlist !== undefined && !isStringList(adminIpAllowlist))
        throw badRequest("adminIpAllowlist must be a list of strings");
      const admin = sim.createAccount(account, {
        ...(maxKeys === undefined ? {} : { maxKeys }),
        ...(adminScope === undefined ? {} : { adminScope }),
        ...(totpSeed === undefined ? {} : { totpSeed }),
        ...(adminIpAllowlist === undefined ? {} : { adminIpAllowlist }),
      });
      return { account, ...admin };
    },
    seedKey(account, { label, permissions, ipAllowlist }) {
      if (typeof label !== "string" || !isStringList(permissions)) {
        throw badRequest("label must be a string and permissions a list of strings");
      }
      if (ipAllowlist !== undefined && !isStringList(ipAllowlist))
        throw badRequest("ipAllowlist must be a list");
      return sim.seedKey(account, { label, permissions, ...(ipAllowlist ? { ipAllowlist } : {}) });
    },
    accountActions: {
      "security-key": (account, input) => {
        if (input.totpSeed !== null && typeof input.totpSeed !== "string")
          throw badRequest("totpSeed must be a string or null");
        sim.requireSecurityKey(account, input.totpSeed ?? undefined);
      },
    },
    // The store refuses bad input (unknown account, bad scope) with plain errors that name the field.
    otherError: (err) => ({
      status: 400,
      code: "INVALID_REQUEST",
      message: err instanceof Error ? err.message : String(err),
    }),
  })(req, res, pathname);
}
