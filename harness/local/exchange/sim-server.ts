import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

type Handler = (req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<void>;

/**
 * Delays a simulator cuts short at shutdown, so `close()` never waits on injected latency or on a
 * request a `timeout` fault is holding. Shared by every exchange simulator.
 */
export class Delays {
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
export async function serveSimulator(opts: {
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
