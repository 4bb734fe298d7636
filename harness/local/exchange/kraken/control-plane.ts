import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest, controlPlane, isStringList } from "../control-plane";
import type { KrakenSimulator } from "./types";

/**
 * The Kraken simulator's control plane under `/_sim/`: the "scripted operator" creates a key
 * (`POST /_sim/accounts/<account>/keys`, answering the API key and private key once, as the UI
 * does) and deletes one (`POST /_sim/accounts/<account>/delete-key` with `{keyId}`).
 */
export function handleKrakenControlPlane(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  sim: KrakenSimulator,
): Promise<void> {
  return controlPlane({
    sim,
    createAccount(input) {
      if (typeof input.account !== "string") throw badRequest("account must be a string");
      return sim.createAccount(input.account);
    },
    seedKey(account, input) {
      if (typeof input.name !== "string") throw badRequest("name must be a string");
      if (!isStringList(input.permissions)) throw badRequest("permissions must be a list of strings");
      if (input.ipAllowlist !== undefined && !isStringList(input.ipAllowlist))
        throw badRequest("ipAllowlist must be a list of strings");
      return sim.createKey(account, {
        name: input.name,
        permissions: input.permissions,
        ...(input.ipAllowlist ? { ipAllowlist: input.ipAllowlist as string[] } : {}),
        ...(typeof input.nonceWindow === "number" ? { nonceWindow: input.nonceWindow } : {}),
        ...(typeof input.validUntil === "number" ? { validUntil: input.validUntil } : {}),
      });
    },
    accountActions: {
      "delete-key": (account, input) => {
        if (typeof input.keyId !== "string") throw badRequest("keyId must be a string");
        sim.deleteKey(account, input.keyId);
      },
    },
    otherError: (err) =>
      err instanceof Error && !(err.name === "SimulatorError")
        ? { status: 400, code: "INVALID_REQUEST", message: err.message }
        : undefined,
  })(req, res, pathname);
}
