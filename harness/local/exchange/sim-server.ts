import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { callerIp } from "./caller-address";
import { type ExchangeEndpoint, type FaultKind, FaultPlan, type FaultSpec } from "./faults";
import { readBody, sendJson } from "./http-util";
import type { RequestLog, RequestLogEntry } from "./request-log";

type Handler = (req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<void>;

/**
 * Delays a simulator cuts short at shutdown, so `close()` never waits on injected latency or on a
 * request a `timeout` fault is holding.
 */
class Delays {
  private readonly pending = new Set<() => void>();

  /** A delay that `cancel()` (or `cancelAll()`) ends early. */
  start(ms: number): { done: Promise<void>; cancel: () => void } {
    let cancel = () => {};
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => cancel(), ms);
      cancel = () => {
        clearTimeout(timer);
        this.pending.delete(cancel);
        resolve();
      };
      this.pending.add(cancel);
    });
    return { done, cancel };
  }

  /** A `timeout` fault: hold the request past any sane client timeout, then drop it unanswered. */
  async holdThenDrop(res: ServerResponse, ms: number): Promise<void> {
    const hold = this.start(ms);
    res.once("close", hold.cancel);
    await hold.done;
    res.destroy();
  }

  cancelAll(): void {
    for (const cancel of [...this.pending]) cancel();
  }
}

/**
 * Serves a simulator on `host:port` (default 127.0.0.1 and a free port): `/_sim/*` to its control
 * plane, everything else to its API; a handler that throws drops the connection. `close()` cuts
 * every pending delay short and closes open connections.
 */
async function serveSimulator(opts: {
  port?: number | undefined;
  host?: string | undefined;
  api: Handler;
  controlPlane: Handler;
  delays: Delays;
}): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const pathname = safePathname(req.url);
    const work = pathname.startsWith("/_sim/")
      ? opts.controlPlane(req, res, pathname)
      : opts.api(req, res, pathname);
    work.catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: async () => {
      opts.delays.cancelAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function safePathname(url: string | undefined): string {
  try {
    return new URL(url ?? "/", "http://simulator.invalid").pathname;
  } catch {
    return "/";
  }
}

/** One answer of a simulated exchange: JSON (the API's own envelope) or an HTML page (an edge's). */
export type Answer =
  | { status: number; body: unknown; headers?: Record<string, string> }
  | { status: number; html: string };

/** A fault that is answered (a `timeout` is not: the request is held, then dropped). */
export type AnsweredFault = Exclude<FaultKind, "timeout">;

/**
 * One API request as an exchange sees it. The shell runs every exchange's calls through the same
 * steps, in this order: log the request (endpoint and claimed key id, known before the body is
 * read), read the body, `accept` it (the exchange's own refusal of a malformed request or an
 * unknown route), decide the endpoint's fault and its latency, answer an injected fault (which has
 * no effect), else `run` (authentication, then the operation), and replace its answer when the fault
 * is `5xx-after-effect`. Anything thrown is answered by `refusal`.
 */
export interface ExchangeCall {
  endpoint: ExchangeEndpoint | undefined;
  /** The key id the request claims to be signed with (the log keeps it only if it looks like one). */
  keyId?: string | undefined;
  /** Throws the exchange's refusal of a request it cannot take at all; returns the endpoint it names. */
  accept(body: string): ExchangeEndpoint;
  run(body: string): Answer;
  /** What the exchange's injected failure of this kind looks like. */
  fault(kind: AnsweredFault): Answer;
  refusal(err: unknown): Answer;
}

export interface ExchangeShellOptions {
  port?: number | undefined;
  host?: string | undefined;
  /** Seed of the fault PRNGs; default 1. */
  seed?: number | undefined;
  /** How long a `timeout` fault holds a request before dropping the connection; default 10 s. */
  timeoutMs?: number | undefined;
  log: RequestLog;
  /** Reads what the exchange needs to know of a request before its body arrives. */
  open(req: IncomingMessage, pathname: string): ExchangeCall;
  controlPlane: Handler;
}

/** What every simulated exchange offers, whatever its protocol. */
export interface ServedExchange {
  url: string;
  setFault(endpoint: ExchangeEndpoint, spec: FaultSpec): void;
  clearFaults(): void;
  requestLog(): RequestLogEntry[];
  close(): Promise<void>;
}

/**
 * The serving shell every exchange simulator shares: fault injection and latency before
 * authentication, the request log, the `/_sim/` control plane, and a shutdown that cuts delays
 * short. Each simulator brings only its protocol (`open`).
 */
export async function serveExchange(opts: ExchangeShellOptions): Promise<ServedExchange> {
  const faults = new FaultPlan(opts.seed ?? 1);
  const delays = new Delays();
  const holdMs = opts.timeoutMs ?? 10_000;

  async function api(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const call = opts.open(req, pathname);
    const entry = opts.log.begin({
      endpoint: call.endpoint ?? "unknown",
      method: req.method ?? "GET",
      path: req.url ?? "/",
      ...(call.keyId ? { keyId: call.keyId } : {}),
      callerIp: callerIp(req),
    });
    const answer = (a: Answer, fault?: FaultKind) => {
      if (fault) entry.fault = fault;
      send(res, entry, a);
    };
    try {
      const body = await readBody(req);
      const decision = faults.decide(call.accept(body));
      // Latency is not cancelled when the client gives up: like a real exchange, the call still
      // takes effect after a client-side timeout, which is the ambiguous outcome callers must handle.
      if (decision.latencyMs > 0) await delays.start(decision.latencyMs).done;
      // Injected faults sit in front of authentication and the operation: the call has no effect.
      if (decision.fault === "timeout") {
        entry.fault = decision.fault;
        return await delays.holdThenDrop(res, holdMs);
      }
      if (decision.fault && decision.fault !== "5xx-after-effect") {
        return answer(call.fault(decision.fault), decision.fault);
      }
      const result = call.run(body);
      // The operation took effect; only its answer is lost. A refusal is answered as is (no effect to hide).
      if (decision.fault === "5xx-after-effect") return answer(call.fault(decision.fault), decision.fault);
      return answer(result);
    } catch (err) {
      return answer(call.refusal(err));
    }
  }

  const served = await serveSimulator({
    port: opts.port,
    host: opts.host,
    api,
    controlPlane: opts.controlPlane,
    delays,
  });
  return {
    url: served.url,
    setFault: (endpoint, spec) => faults.set(endpoint, spec),
    clearFaults: () => faults.clear(),
    requestLog: () => opts.log.snapshot(),
    close: served.close,
  };
}

function send(res: ServerResponse, entry: RequestLogEntry, answer: Answer): void {
  entry.status = res.destroyed ? 0 : answer.status;
  if ("html" in answer) {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(answer.status, {
      "content-type": "text/html",
      "content-length": Buffer.byteLength(answer.html),
    });
    res.end(answer.html);
    return;
  }
  sendJson(res, answer.status, answer.body, answer.headers);
}
