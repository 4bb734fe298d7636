import type { IncomingMessage } from "node:http";
import { Agent, fetch as undiciFetch } from "undici";

/**
 * Who calls the simulated exchanges, by address. Every loopback address is the local machine, so
 * the local stack gives each role its own one and the simulators judge a key's IP allow-list
 * against the caller's address, as the exchanges do:
 * - keyshift's Lambdas leave through the fixed egress (`EGRESS_IP`, the stack's
 *   `KEYSHIFT_EGRESS_IPS`);
 * - a trading service runs on a consumer host (`CONSUMER_HOST_IP`);
 * - anything else (a test's own client, a laptop) calls from `OUTSIDE_IP`, on no allow-list.
 */
export const EGRESS_IP = "127.0.0.2";
export const CONSUMER_HOST_IP = "127.0.0.3";
export const OUTSIDE_IP = "127.0.0.1";

/** The caller's IPv4 address as the exchange sees it (`::ffff:` prefix stripped). */
export function callerIp(req: IncomingMessage): string {
  const raw = req.socket.remoteAddress ?? "";
  return raw.startsWith("::ffff:") ? raw.slice("::ffff:".length) : raw;
}

/** How the simulators judge a key's IP allow-list (the harness's own rule, see the module). */
export { ipAllowed } from "../../ip-allowlist";

const agents = new Map<string, Agent>();

/**
 * A `fetch` whose connections leave from `localAddress`: the local stack's stand-in for a host's
 * network position (a Lambda behind the egress, a consumer host). One connection pool per address.
 */
export function fetchFrom(localAddress: string): typeof fetch {
  let agent = agents.get(localAddress);
  if (!agent) {
    agent = new Agent({ localAddress });
    agents.set(localAddress, agent);
  }
  const dispatcher = agent;
  return ((input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(input as never, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
}
