import * as z from "zod/mini";

/**
 * Reading an exchange's history endpoints in the windows they allow (issue 20): Bybit's
 * `/v5/execution/list` and universal-transfer list take at most 7 days a request, OKX's
 * `/api/v5/trade/fills` serves the last 3 days. One stream is one endpoint (and category); its
 * state — the window being read and, when a pull stopped inside it, the page to go on from — is
 * part of the adapter's opaque cursor.
 */

/** A first pull reads this far back: the detector's novelty bootstrap learns from it. */
export const FIRST_PULL_LOOKBACK_MS = 24 * 3_600_000;
/** A window ends this long before now, so a row written late falls in the next one. */
export const SETTLE_MS = 5_000;

export const windowStateSchema = z.object({
  fromMs: z.number(),
  toMs: z.number(),
  page: z.optional(z.string()),
});
export type WindowState = z.infer<typeof windowStateSchema>;

export interface StreamPage<R> {
  rows: R[];
  /** The page after this one, as the exchange names it; absent: the window is read. */
  next?: string | undefined;
}

export interface Stream<R> {
  /** For `skipped`: what the stream reads (`executions (linear)`). */
  label: string;
  /** The longest window one request may ask for. */
  maxWindowMs: number;
  /** How far back the endpoint serves at all; absent: further than any cursor. */
  retentionMs?: number;
  /** Where this stream stops (another endpoint serves what is newer); absent: a few seconds ago. */
  untilMs?: number;
  /** Pages a window a pull: past them the window's page is kept for the next pull. */
  maxPages: number;
  /** Windows a pull: a cursor far behind catches up over several pulls. */
  maxWindows: number;
  read(window: { fromMs: number; toMs: number }, page: string | undefined): Promise<StreamPage<R>>;
  timeOf(row: R): number;
  idOf(row: R): string;
}

/**
 * Reads one stream from where `last` left it up to `SETTLE_MS` before `now`.
 * 1. Resume the window `last` stopped inside (its page), or start the next one at its end + 1 ms
 *    (a first pull: a day ago), never further back than the endpoint serves — that gap is said
 *    in `skipped` (it can never be read).
 * 2. Each window is at most `maxWindowMs`; its pages are followed to the end, rows outside the
 *    window (an endpoint that rounds to seconds) and rows seen twice dropped.
 * 3. A window cut by `maxPages` keeps its page in the returned state and ends the stream's pull;
 *    past `maxWindows` the next pull goes on from the last window read.
 */
export async function readStream<R>(
  stream: Stream<R>,
  last: WindowState | undefined,
  now: number,
  skipped: string[],
): Promise<{ rows: R[]; state: WindowState }> {
  const end = Math.min(now - SETTLE_MS, stream.untilMs ?? Infinity);
  let state: WindowState;
  if (last?.page !== undefined) {
    state = last;
  } else {
    let fromMs = last ? last.toMs + 1 : now - FIRST_PULL_LOOKBACK_MS;
    const floor = stream.retentionMs !== undefined ? now - stream.retentionMs + 60_000 : -Infinity;
    if (fromMs < floor) {
      skipped.push(
        `${stream.label}: ${new Date(fromMs).toISOString()} to ${new Date(floor).toISOString()} is older than the exchange serves; not read`,
      );
      fromMs = floor;
    }
    if (end < fromMs) return { rows: [], state: last ?? { fromMs, toMs: fromMs - 1 } };
    state = { fromMs, toMs: Math.min(end, fromMs + stream.maxWindowMs - 1) };
  }
  const rows: R[] = [];
  const seen = new Set<string>();
  for (let w = 0; w < stream.maxWindows; w++) {
    const window = { fromMs: state.fromMs, toMs: state.toMs };
    let page = state.page;
    for (let p = 0; ; p++) {
      if (p >= stream.maxPages) return { rows, state: { ...window, ...(page ? { page } : {}) } };
      const answer = await stream.read(window, page);
      for (const row of answer.rows) {
        const at = stream.timeOf(row);
        const id = stream.idOf(row);
        if (at < window.fromMs || at > window.toMs || seen.has(id)) continue;
        seen.add(id);
        rows.push(row);
      }
      // A page cursor handed back twice would loop: the window is read as far as it goes.
      if (!answer.next || answer.next === page || answer.rows.length === 0) break;
      page = answer.next;
    }
    state = window;
    if (window.toMs >= end) break;
    state = { fromMs: window.toMs + 1, toMs: Math.min(end, window.toMs + stream.maxWindowMs) };
    if (w === stream.maxWindows - 1) return { rows, state: window };
  }
  return { rows, state };
}

/** An adapter's cursor: one window state per stream, opaque to the core. */
export const streamsCursorSchema = z.object({
  v: z.literal(1),
  streams: z.record(z.string(), windowStateSchema),
});
export type StreamsCursor = z.infer<typeof streamsCursorSchema>;

/** The stored cursor, or a fresh one (said in `skipped`) when it cannot be read. */
export function readStreamsCursor(text: string | undefined, skipped: string[]): StreamsCursor {
  return parseStoredCursor(text, streamsCursorSchema, () => ({ v: 1, streams: {} }), skipped);
}

/**
 * An adapter's stored cursor as `schema` reads it; absent: `fresh()`. One that is no longer
 * readable (not JSON, another shape) is `fresh()` too, and said in `skipped`: a first pull again.
 */
export function parseStoredCursor<T>(
  text: string | undefined,
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } },
  fresh: () => T,
  skipped: string[],
): T {
  if (text === undefined) return fresh();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  skipped.push("the stored cursor was unreadable: read again as a first pull (the last day)");
  return fresh();
}
