import type { IncomingMessage, ServerResponse } from "node:http";
import { isExchangeEndpoint, validateFaultSpec } from "../faults";
import { errorBody, parseJsonObject, readBody, SimulatorError, sendJson } from "../http-util";
import { BybitSimError } from "./errors";
import type { BybitSimulator } from "./types";

const ACCOUNT_KEYS_PATH = /^\/_sim\/accounts\/([^/]+)\/keys$/;

/**
 * The Bybit simulator's control plane under `/_sim/` (unsigned, for the local stack and tests in
 * another process), one to one with the `BybitSimulator` methods. Answers keyshift's own
 * `{error:{code,message}}`, not Bybit's envelope: it is not part of the exchange.
 */
export async function handleBybitControlPlane(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  sim: BybitSimulator,
): Promise<void> {
  const method = req.method ?? "GET";
  try {
    const body = await readBody(req);
    if (pathname === "/_sim/accounts" && method === "POST") {
      const input = parseJsonObject(body);
      if (typeof input.account !== "string") throw badRequest("account must be a string");
      const opts = {
        ...(typeof input.maxKeys === "number" ? { maxKeys: input.maxKeys } : {}),
        ...(typeof input.master === "string" ? { master: input.master } : {}),
      };
      return sendJson(res, 201, sim.createAccount(input.account, opts));
    }
    if (pathname === "/_sim/faults" && method === "POST") {
      const { endpoint, ...spec } = parseJsonObject(body);
      if (!isExchangeEndpoint(endpoint)) throw badRequest("endpoint must name an exchange endpoint");
      sim.setFault(endpoint, validateSpec(spec));
      return sendJson(res, 204, undefined);
    }
    if (pathname === "/_sim/faults" && method === "DELETE") {
      sim.clearFaults();
      return sendJson(res, 204, undefined);
    }
    if (pathname === "/_sim/requests" && method === "GET") {
      return sendJson(res, 200, { requests: sim.requestLog() });
    }
    const keysPath = ACCOUNT_KEYS_PATH.exec(pathname);
    if (keysPath?.[1]) {
      const account = decodeURIComponent(keysPath[1]);
      if (method === "GET") return sendJson(res, 200, { keys: sim.keys(account) });
      if (method === "POST") {
        const input = parseJsonObject(body);
        const permissions = input.permissions;
        if (typeof permissions !== "object" || permissions === null)
          throw badRequest("permissions must be an object");
        const seeded = sim.seedKey(account, {
          label: String(input.label ?? ""),
          permissions: permissions as Record<string, string[]>,
          readOnly: input.readOnly === true,
          ...(Array.isArray(input.ips) ? { ips: input.ips.map(String) } : {}),
        });
        return sendJson(res, 201, seeded);
      }
    }
    throw new SimulatorError(404, "ROUTE_NOT_FOUND", `no control-plane route ${method} ${pathname}`);
  } catch (err) {
    if (err instanceof SimulatorError) return sendJson(res, err.status, errorBody(err.code, err.message));
    if (err instanceof BybitSimError) return sendJson(res, 400, errorBody(String(err.retCode), err.retMsg));
    return sendJson(res, 500, errorBody("INTERNAL", err instanceof Error ? err.message : String(err)));
  }
}

function badRequest(message: string): SimulatorError {
  return new SimulatorError(400, "INVALID_REQUEST", message);
}

function validateSpec(spec: Record<string, unknown>) {
  try {
    return validateFaultSpec(spec);
  } catch (err) {
    throw badRequest(err instanceof Error ? err.message : String(err));
  }
}
