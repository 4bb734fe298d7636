import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface CannedAnswer {
  status: number;
  body: string | Buffer;
  contentType?: string;
}

/**
 * An HTTP proxy in front of the Deribit simulator: forwards every call unchanged, except those
 * `intercept` answers itself (by JSON-RPC method name taken from the path) — the 404 page of a
 * misrouted load balancer, a login page, a truncated or oversized body. `replay` sends a call to
 * the simulator twice, byte for byte, and answers with the second answer (a replayed nonce).
 */
export async function startDeribitProxy(
  target: string,
  opts: {
    intercept?: (method: string, body: string) => CannedAnswer | undefined;
    replay?: (method: string) => boolean;
    /** Bends the simulator's answer text for `method` (the exchange answering otherwise). */
    rewrite?: (method: string, text: string) => string;
  },
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const method = (req.url ?? "").replace(/^\/api\/v2\//, "").replace(/\?.*$/, "");
      const canned = opts.intercept?.(method, body);
      if (canned) {
        res.writeHead(canned.status, { "content-type": canned.contentType ?? "application/json" });
        res.end(canned.body);
        return;
      }
      const forward = () =>
        fetch(new URL(req.url ?? "/", target), {
          method: req.method ?? "GET",
          headers: {
            ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
            "content-type": "application/json",
          },
          ...(req.method === "POST" ? { body } : {}),
        });
      let answer = await forward();
      if (opts.replay?.(method)) {
        await answer.arrayBuffer();
        answer = await forward();
      }
      res.writeHead(answer.status, {
        "content-type": answer.headers.get("content-type") ?? "application/json",
      });
      const bytes = Buffer.from(await answer.arrayBuffer());
      res.end(opts.rewrite ? opts.rewrite(method, bytes.toString("utf8")) : bytes);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export const HTML_404: CannedAnswer = {
  status: 404,
  body: "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center></body></html>",
  contentType: "text/html",
};
