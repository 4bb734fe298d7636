import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest, controlPlane, isStringList } from "../control-plane";
import { GateSimError } from "./errors";
import type { GateSimulator } from "./types";

function isPermList(value: unknown): value is Array<{ name: string; read_only: boolean }> {
  return (
    Array.isArray(value) &&
    value.every(
      (p) => typeof p?.name === "string" && (p.read_only === undefined || typeof p.read_only === "boolean"),
    )
  );
}

/**
 * The Gate simulator's control plane under `/_sim/` (see `controlPlane`), one to one with the
 * `GateSimulator` methods; `POST /_sim/accounts/<account>/refuse-removal {keyId, attempts}` makes
 * Gate refuse that key's deletion the next `attempts` times.
 */
export function handleGateControlPlane(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  sim: GateSimulator,
): Promise<void> {
  return controlPlane({
    sim,
    createAccount(input) {
      if (typeof input.account !== "string") throw badRequest("account must be a string");
      return sim.createAccount(input.account, {
        ...(typeof input.maxKeys === "number" ? { maxKeys: input.maxKeys } : {}),
        ...(isStringList(input.mainIps) ? { mainIps: input.mainIps } : {}),
      });
    },
    seedKey(account, input) {
      if (!isPermList(input.perms)) throw badRequest("perms must be a list of {name, read_only}");
      return sim.seedKey(account, {
        label: String(input.label ?? ""),
        perms: input.perms.map((p) => ({ name: p.name, read_only: p.read_only === true })),
        ...(isStringList(input.ips) ? { ips: input.ips } : {}),
      });
    },
    accountActions: {
      "refuse-removal": (_account, input) => {
        if (typeof input.keyId !== "string") throw badRequest("keyId must be a string");
        if (typeof input.attempts !== "number") throw badRequest("attempts must be a number");
        sim.refuseRemoval(input.keyId, input.attempts);
      },
    },
    otherError: (err) =>
      err instanceof GateSimError ? { status: 400, code: err.label, message: err.msg } : undefined,
  })(req, res, pathname);
}
