import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest, controlPlane } from "../control-plane";
import type { ExchangeSimulator } from "./types";

/** keyshift's own test protocol's control plane. */
export function handleControlPlane(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  sim: ExchangeSimulator,
): Promise<void> {
  return controlPlane({
    sim,
    createAccount(input) {
      if (typeof input.account !== "string") throw badRequest("account must be a string");
      if (input.maxActiveKeys !== undefined && typeof input.maxActiveKeys !== "number") {
        throw badRequest("maxActiveKeys must be a number");
      }
      const opts = input.maxActiveKeys === undefined ? {} : { maxActiveKeys: input.maxActiveKeys };
      return { account: input.account, ...sim.createAccount(input.account, opts) };
    },
    seedKey(account, input) {
      const permissions = Array.isArray(input.permissions) ? input.permissions : [];
      return sim.seedKey(account, { label: String(input.label ?? ""), permissions });
    },
  })(req, res, pathname);
}
