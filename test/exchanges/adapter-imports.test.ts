/**
 * The exchange adapters sit below the handler wiring: they import the core and `zod/mini` and
 * nothing from `src/commons/` (whose `zod.ts` loads zod's English messages as a side effect). An
 * adapter that imported it would make every adapter's zod messages depend on which module loaded
 * first; they report field paths only (`fieldPaths` in `http.ts`), so one way in for all of them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..", "..");
/** The shipped adapters, and the test protocol's (harness) so all of them read alike. */
const ADAPTERS = [
  join(ROOT, "src", "adapters", "exchange"),
  join(ROOT, "harness", "local", "exchange", "keyshift-sim"),
];
const SPECIFIER = /(?:\bfrom|\bimport)\s*\(?\s*["']([^"']+)["']/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith(".ts") ? [path] : [];
  });
}

function imports(file: string): string[] {
  return [...readFileSync(file, "utf8").matchAll(SPECIFIER)].map((m) => m[1] ?? "");
}

describe("exchange adapters' imports", () => {
  const files = ADAPTERS.flatMap(sources);

  it("finds the adapters (the scan looks at the right folder)", () => {
    const names = files.map((f) => relative(ROOT, f));
    expect(names).toContain("src/adapters/exchange/deribit/wire.ts");
    expect(names).toContain("harness/local/exchange/keyshift-sim/adapter.ts");
  });

  it("import nothing from src/commons/", () => {
    const upward = files.flatMap((f) =>
      imports(f)
        .filter((s) => /(^|\/)commons(\/|$)/.test(s))
        .map((s) => `${relative(ROOT, f)} -> ${s}`),
    );
    expect(upward).toEqual([]);
  });

  it("take zod as zod/mini, directly", () => {
    const other = files.flatMap((f) =>
      imports(f)
        .filter((s) => /(^|\/)zod(\/|$)/.test(s) && s !== "zod/mini")
        .map((s) => `${relative(ROOT, f)} -> ${s}`),
    );
    expect(other).toEqual([]);
  });
});
