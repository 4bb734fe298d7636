import type { IncomingMessage, ServerResponse } from "node:http";
import { type ExchangeEndpoint, type FaultSpec, isExchangeEndpoint, validateFaultSpec } from "./faults";
import { errorBody, parseJsonObject, readBody, SimulatorError, sendJson } from "./http-util";

const ACCOUNT_PATH = /^\/_sim\/accounts\/([^/]+)\/([a-z-]+)$/;

/** What every simulator's control plane drives, whatever its exchange. */
export interface ControlPlaneSpec {
  sim: {
    setFault(endpoint: ExchangeEndpoint, spec: FaultSpec): void;
    clearFaults(): void;
    requestLog(): unknown[];
    keys(account: string): unknown[];
  };
  /** `POST /_sim/accounts`: creates the account; its answer (201). */
  createAccount(input: Record<string, unknown>): unknown;
  /** `POST /_sim/accounts/<account>/keys`: a key made by hand; its answer (201). */
  seedKey(account: string, input: Record<string, unknown>): unknown;
  /** Further `POST /_sim/accounts/<account>/<name>` actions (204). */
  accountActions?: Record<string, (account: string, input: Record<string, unknown>) => void>;
  /** How an error other than a `SimulatorError` is answered; default 500 `INTERNAL`. */
  otherError?: (err: unknown) => { status: number; code: string; message: string } | undefined;
}

/**
 * A simulator's control plane over HTTP under `/_sim/`: unsigned, for the local stack and for
 * tests in another process; one to one with the programmatic simulator. It answers keyshift's own
 * `{error:{code,message}}`, whatever the exchange's envelope: it is not part of the exchange.
 * Routes: `POST /_sim/accounts`, `POST|DELETE /_sim/faults`, `GET /_sim/requests`,
 * `GET|POST /_sim/accounts/<account>/keys`, and the spec's account actions.
 */
export function controlPlane(spec: ControlPlaneSpec) {
  return async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> => {
    const method = req.method ?? "GET";
    try {
      const body = await readBody(req);
      if (pathname === "/_sim/accounts" && method === "POST") {
        return sendJson(res, 201, spec.createAccount(parseJsonObject(body)));
      }
      if (pathname === "/_sim/faults" && method === "POST") {
        const { endpoint, ...fault } = parseJsonObject(body);
        if (!isExchangeEndpoint(endpoint)) throw badRequest("endpoint must name an exchange endpoint");
        spec.sim.setFault(endpoint, validateSpec(fault));
        return sendJson(res, 204, undefined);
      }
      if (pathname === "/_sim/faults" && method === "DELETE") {
        spec.sim.clearFaults();
        return sendJson(res, 204, undefined);
      }
      if (pathname === "/_sim/requests" && method === "GET") {
        return sendJson(res, 200, { requests: spec.sim.requestLog() });
      }
      const match = ACCOUNT_PATH.exec(pathname);
      if (match?.[1] && match[2]) {
        const account = decodeURIComponent(match[1]);
        const action = match[2] === "keys" ? undefined : spec.accountActions?.[match[2]];
        if (match[2] === "keys" && method === "GET")
          return sendJson(res, 200, { keys: spec.sim.keys(account) });
        if (match[2] === "keys" && method === "POST") {
          return sendJson(res, 201, spec.seedKey(account, parseJsonObject(body)));
        }
        if (action && method === "POST") {
          action(account, parseJsonObject(body));
          return sendJson(res, 204, undefined);
        }
      }
      throw new SimulatorError(404, "ROUTE_NOT_FOUND", `no control-plane route ${method} ${pathname}`);
    } catch (err) {
      if (err instanceof SimulatorError) return sendJson(res, err.status, errorBody(err.code, err.message));
      const mapped = spec.otherError?.(err);
      if (mapped) return sendJson(res, mapped.status, errorBody(mapped.code, mapped.message));
      return sendJson(res, 500, errorBody("INTERNAL", err instanceof Error ? err.message : String(err)));
    }
  };
}

export function badRequest(message: string): SimulatorError {
  return new SimulatorError(400, "INVALID_REQUEST", message);
}

export function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function validateSpec(spec: Record<string, unknown>) {
  try {
    return validateFaultSpec(spec);
  } catch (err) {
    throw badRequest(err instanceof Error ? err.message : String(err));
  }
}
