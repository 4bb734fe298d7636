/**
 * Reading an exchange's history in the windows it allows (issue 20, Bybit and OKX): contiguous
 * windows of at most the endpoint's length, a bounded number a pull, pages resumed across pulls,
 * rows outside the window or seen twice dropped, retention gaps said, never hidden.
 */
import { describe, expect, it } from "vitest";
import {
  FIRST_PULL_LOOKBACK_MS,
  readStream,
  readStreamsCursor,
  SETTLE_MS,
  type Stream,
} from "../../src/adapters/exchange/activity-windows";

const NOW = Date.parse("2031-01-10T00:00:00.000Z");
const HOUR = 3_600_000;

interface Row {
  id: string;
  at: number;
}

/** A stream over `rows`, `pageSize` a page, newest first; records every request. */
function stream(rows: Row[], opts: Partial<Stream<Row>> & { pageSize?: number } = {}) {
  const asked: Array<{ fromMs: number; toMs: number; page: string | undefined }> = [];
  const s: Stream<Row> = {
    label: "test rows",
    maxWindowMs: 10 * HOUR,
    maxPages: 3,
    maxWindows: 2,
    read: async (window, page) => {
      asked.push({ ...window, page });
      const inWindow = rows
        .filter((r) => r.at >= window.fromMs && r.at <= window.toMs)
        .sort((a, b) => b.at - a.at);
      const offset = page ? Number(page) : 0;
      const size = opts.pageSize ?? 2;
      const slice = inWindow.slice(offset, offset + size);
      return { rows: slice, next: offset + size < inWindow.length ? String(offset + size) : undefined };
    },
    timeOf: (r) => r.at,
    idOf: (r) => r.id,
    ...opts,
  };
  return { s, asked };
}

describe("readStream", () => {
  it("a first pull reads the last day up to the settle delay, in windows no longer than allowed", async () => {
    const { s, asked } = stream([], { maxWindows: 5 });
    const out = await readStream(s, undefined, NOW, []);
    expect(asked[0]?.fromMs).toBe(NOW - FIRST_PULL_LOOKBACK_MS);
    for (const w of asked) expect(w.toMs - w.fromMs).toBeLessThan(10 * HOUR);
    // Three contiguous windows of at most 10 h cover the day.
    expect(asked).toHaveLength(3);
    expect(asked.map((w) => w.fromMs).slice(1)).toEqual(asked.map((w) => w.toMs + 1).slice(0, -1));
    expect(out.state.toMs).toBe(NOW - SETTLE_MS);
  });

  it("past maxWindows the state is the last window read; the next pull goes on from its end", async () => {
    const { s, asked } = stream([], { maxWindows: 2 });
    const last = { fromMs: 0, toMs: NOW - 100 * HOUR };
    const out = await readStream(s, last, NOW, []);
    expect(asked).toHaveLength(2);
    expect(out.state).toEqual({ fromMs: NOW - 90 * HOUR + 1, toMs: NOW - 80 * HOUR });
  });

  it("a window cut by the page bound keeps its page; the next pull finishes it and reads each row once", async () => {
    const rows = Array.from({ length: 9 }, (_, i) => ({ id: `r${i}`, at: NOW - HOUR - i }));
    const { s } = stream(rows);
    const first = await readStream(s, { fromMs: 0, toMs: NOW - 2 * HOUR }, NOW, []);
    expect(first.rows).toHaveLength(6);
    expect(first.state.page).toBe("6");
    const second = await readStream(s, first.state, NOW, []);
    expect(second.rows.map((r) => r.id)).toEqual(["r6", "r7", "r8"]);
    expect(second.state.page).toBeUndefined();
  });

  it("drops rows outside the window and rows answered twice; stops on a page cursor handed back again", async () => {
    const last = { fromMs: 0, toMs: NOW - 2 * HOUR };
    let calls = 0;
    const s: Stream<Row> = {
      label: "echo",
      maxWindowMs: 10 * HOUR,
      maxPages: 10,
      maxWindows: 1,
      read: async () => {
        calls++;
        return {
          rows: [
            { id: "inside", at: NOW - HOUR },
            { id: "before", at: NOW - 3 * HOUR },
          ],
          next: "same",
        };
      },
      timeOf: (r) => r.at,
      idOf: (r) => r.id,
    };
    const out = await readStream(s, last, NOW, []);
    expect(out.rows.map((r) => r.id)).toEqual(["inside"]);
    expect(calls).toBe(2);
  });

  it("a gap older than the endpoint serves is said in skipped and read from the oldest it serves", async () => {
    const skipped: string[] = [];
    const { s, asked } = stream([], { retentionMs: 72 * HOUR, maxWindowMs: 72 * HOUR });
    await readStream(s, { fromMs: 0, toMs: NOW - 100 * HOUR }, NOW, skipped);
    expect(skipped.join()).toMatch(/^test rows: .* older than the exchange serves; not read$/);
    expect(asked[0]?.fromMs).toBe(NOW - 72 * HOUR + 60_000);
  });

  it("stops at untilMs, where another endpoint takes over", async () => {
    const { s, asked } = stream([], { untilMs: NOW - 50 * HOUR, maxWindows: 10 });
    const out = await readStream(s, { fromMs: 0, toMs: NOW - 70 * HOUR }, NOW, []);
    expect(asked.at(-1)?.toMs).toBe(NOW - 50 * HOUR);
    expect(out.state.toMs).toBe(NOW - 50 * HOUR);
  });

  it("an unreadable stored cursor is a first pull, and says so", () => {
    const skipped: string[] = [];
    expect(readStreamsCursor("{not json", skipped)).toEqual({ v: 1, streams: {} });
    expect(readStreamsCursor(JSON.stringify({ v: 2, streams: {} }), skipped)).toEqual({ v: 1, streams: {} });
    expect(skipped).toHaveLength(2);
    expect(readStreamsCursor(undefined, skipped)).toEqual({ v: 1, streams: {} });
    expect(skipped).toHaveLength(2);
  });
});
