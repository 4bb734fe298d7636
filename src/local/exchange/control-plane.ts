import type { IncomingMessage, ServerResponse } from "node:http";
import { isExchangeEndpoint, validateFaultSpec } from "./faults";
import { errorBody, parseJsonObject, readBody, SimulatorError, sendJson } from "./http-util";
import type { ExchangeSimulator } from "./server";

const ACCOUNT_KEYS_PATH = /^\/_sim\/accounts\/([^/]+)\/keys$/;

/**
 * The simulator's control plane over HTTP under `/_sim/`: unsigned, for the local stack and for
 * tests in another process. Mirrors the programmatic `ExchangeSimulator` methods one to one.
 */
export async function handleControlPlane(
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  sim: ExchangeSimulator,
): Promise<void> {
  const method = req.method ?? "GET";
  try {
    const body = await readBody(req);
    if (pathname === "/_sim/accounts" && method === "POST") {
      const input = parseJsonObject(body);
      if (typeof input.account !== "string") throw badRequest("account must be a string");
      if (input.maxActiveKeys !== undefined && typeof input.maxActiveKeys !== "number") {
        throw badRequest("maxActiveKeys must be a number");
      }
      const opts = input.maxActiveKeys === undefined ? {} : { maxActiveKeys: input.maxActiveKeys };
      const admin = sim.createAccount(input.account, opts);
      return sendJson(res, 201, { account: input.account, ...admin });
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
        const permissions = Array.isArray(input.permissions) ? input.permissions : [];
        const seeded = sim.seedKey(account, { label: String(input.label ?? ""), permissions });
        return sendJson(res, 201, seeded);
      }
    }
    throw new SimulatorError(404, "ROUTE_NOT_FOUND", `no control-plane route ${method} ${pathname}`);
  } catch (err) {
    if (err instanceof SimulatorError) return sendJson(res, err.status, errorBody(err.code, err.message));
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
