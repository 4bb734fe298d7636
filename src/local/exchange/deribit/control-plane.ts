import type { IncomingMessage, ServerResponse } from "node:http";
import { isExchangeEndpoint, validateFaultSpec } from "../faults";
import { parseJsonObject, readBody, SimulatorError, sendJson } from "../http-util";
import type { DeribitSimulator } from "./types";

const ACCOUNT_PATH = /^\/_sim\/accounts\/([^/]+)\/(keys|security-key)$/;

/**
 * The Deribit simulator's control plane under `/_sim/` (unsigned, for the local stack and tests
 * in another process), mirroring the programmatic `DeribitSimulator` one to one. It knows the
 * simulator only by its interface.
 */
export async function handleDeribitControlPlane(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  sim: DeribitSimulator,
): Promise<void> {
  const method = req.method ?? "GET";
  try {
    const body = await readBody(req);
    if (pathname === "/_sim/accounts" && method === "POST") {
      const { account, maxKeys, adminScope, totpSeed } = parseJsonObject(body);
      if (typeof account !== "string") throw badRequest("account must be a string");
      if (maxKeys !== undefined && typeof maxKeys !== "number") throw badRequest("maxKeys must be a number");
      if (adminScope !== undefined && !isStringList(adminScope))
        throw badRequest("adminScope must be a list of strings");
      if (totpSeed !== undefined && typeof totpSeed !== "string")
        throw badRequest("totpSeed must be a string");
      const admin = sim.createAccount(account, {
        ...(maxKeys === undefined ? {} : { maxKeys }),
        ...(adminScope === undefined ? {} : { adminScope }),
        ...(totpSeed === undefined ? {} : { totpSeed }),
      });
      return sendJson(res, 201, { account, ...admin });
    }
    if (pathname === "/_sim/faults" && method === "POST") {
      const { endpoint, ...spec } = parseJsonObject(body);
      if (!isExchangeEndpoint(endpoint)) throw badRequest("endpoint must name an exchange endpoint");
      sim.setFault(endpoint, validate(spec));
      return sendJson(res, 204, undefined);
    }
    if (pathname === "/_sim/faults" && method === "DELETE") {
      sim.clearFaults();
      return sendJson(res, 204, undefined);
    }
    if (pathname === "/_sim/requests" && method === "GET") {
      return sendJson(res, 200, { requests: sim.requestLog() });
    }
    const match = ACCOUNT_PATH.exec(pathname);
    if (match?.[1] && match[2]) {
      const account = decodeURIComponent(match[1]);
      if (match[2] === "keys" && method === "GET") return sendJson(res, 200, { keys: sim.keys(account) });
      const input = parseJsonObject(body);
      if (match[2] === "keys" && method === "POST") {
        const { label, permissions, ipAllowlist } = input;
        if (typeof label !== "string" || !isStringList(permissions)) {
          throw badRequest("label must be a string and permissions a list of strings");
        }
        if (ipAllowlist !== undefined && !isStringList(ipAllowlist))
          throw badRequest("ipAllowlist must be a list");
        return sendJson(
          res,
          201,
          sim.seedKey(account, { label, permissions, ...(ipAllowlist ? { ipAllowlist } : {}) }),
        );
      }
      if (match[2] === "security-key" && method === "POST") {
        if (input.totpSeed !== null && typeof input.totpSeed !== "string")
          throw badRequest("totpSeed must be a string or null");
        sim.requireSecurityKey(account, input.totpSeed ?? undefined);
        return sendJson(res, 204, undefined);
      }
    }
    throw new SimulatorError(404, "ROUTE_NOT_FOUND", `no control-plane route ${method} ${pathname}`);
  } catch (err) {
    if (err instanceof SimulatorError)
      return sendJson(res, err.status, { error: { code: err.code, message: err.message } });
    // The store refuses bad input (unknown account, bad scope) with plain errors that name the field.
    const message = err instanceof Error ? err.message : String(err);
    return sendJson(res, 400, { error: { code: "INVALID_REQUEST", message } });
  }
}

function badRequest(message: string): SimulatorError {
  return new SimulatorError(400, "INVALID_REQUEST", message);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function validate(spec: Record<string, unknown>) {
  try {
    return validateFaultSpec(spec);
  } catch (err) {
    throw badRequest(err instanceof Error ? err.message : String(err));
  }
}
