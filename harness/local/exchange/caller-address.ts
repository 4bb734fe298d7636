import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import type * as Undici from "undici";

/**
 * Who calls the simulated exchanges, by address. Every loopback address is the local machine, so
 * the local stack gives each role its own one and the simulators judge a key's IP allow-list
 * against the caller's address, as the exchanges do:
 * - keyshift's Lambdas leave through the fixed egress (`EGRESS_IP`, the stack's
 *   `KEYSHIFT_EGRESS_IPS`);
 * - a trading service runs on a consumer host (`CONSUMER_HOST_IP`);
 * - `npm start -- --attacker`: a second trading host the attacker controls (`ATTACKER_HOST_IP`),
 *   inside the trading key's binding in that run, so the exchange takes its orders;
 * - anything else (a test's own client, a laptop) calls from `OUTSIDE_IP`, on no allow-list.
 */
export const EGRESS_IP = "127.0.0.2";
export const CONSUMER_HOST_IP = "127.0.0.3";
export const ATTACKER_HOST_IP = "127.0.0.4";
export const OUTSIDE_IP = "127.0.0.1";

/** The caller's IPv4 address as the exchange sees it (`::ffff:` prefix stripped). */
export function callerIp(req: IncomingMessage): string {
  const raw = req.socket.remoteAddress ?? "";
  return raw.startsWith("::ffff:") ? raw.slice("::ffff:".length) : raw;
}

/** How the simulators judge a key's IP allow-list (the harness's own rule, see the module). */
export { ipAllowed } from "../../ip-allowlist";

/**
 * Node's own `fetch` (the undici bundled with Node) takes its dispatcher from a global symbol;
 * the `undici` package, once loaded, installs its own Agent there if none is set yet, which
 * changes how every later plain `fetch` behaves (it refuses an explicit `content-length`, which
 * the tests' proxies forward). So `undici` is loaded only when a caller address is asked for, and
 * loading it leaves Node's `fetch` as it was.
 */
const GLOBAL_DISPATCHER = [Symbol.for("undici.globalDispatcher.1"), Symbol.for("undici.globalDispatcher.2")];
let undici: typeof Undici | undefined;
function loadUndici(): typeof Undici {
  if (undici) return undici;
  const slots = globalThis as unknown as Record<symbol, unknown>;
  const before = GLOBAL_DISPATCHER.map((slot) => slots[slot]);
  undici = createRequire(import.meta.url)("undici") as typeof Undici;
  GLOBAL_DISPATCHER.forEach((slot, i) => {
    slots[slot] = before[i];
  });
  return undici;
}

const agents = new Map<string, Undici.Agent>();

function agentFor(localAddress: string): Undici.Agent {
  let agent = agents.get(localAddress);
  if (!agent) {
    agent = new (loadUndici().Agent)({ localAddress });
    agents.set(localAddress, agent);
  }
  return agent;
}

/**
 * A `fetch` whose connections leave from `localAddress`: the local stack's stand-in for a host's
 * network position (a Lambda behind the egress, a consumer host). One connection pool per address.
 */
export function fetchFrom(localAddress: string): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit) =>
    loadUndici().fetch(
      input as never,
      {
        ...(init as object),
        dispatcher: agentFor(localAddress),
      } as never,
    )) as unknown as typeof fetch;
}

/**
 * Makes every plain `fetch` of this process leave from `localAddress` (Node's `fetch` honours
 * undici's global dispatcher); returns what puts the previous one back. The local stack runs
 * keyshift's real handlers in-process, which build their exchange clients on the global `fetch`
 * as on Lambda: this is how their calls leave through "the egress" without a hook in what ships.
 * The harness's own clients (trading services, tests) pass `fetchFrom(...)` explicitly.
 */
export function leaveFrom(localAddress: string): () => void {
  const slots = globalThis as unknown as Record<symbol, unknown>;
  const before = GLOBAL_DISPATCHER.map((slot) => slots[slot]);
  loadUndici().setGlobalDispatcher(agentFor(localAddress));
  return () => {
    GLOBAL_DISPATCHER.forEach((slot, i) => {
      slots[slot] = before[i];
    });
  };
}
