/**
 * The line between the product and its harness (docs/architecture.md, "The line"): what ships —
 * src/, functions/, infra/, statemachines/ — never imports harness/ or test/. Two checks that do not
 * share a bug: Biome's noRestrictedImports (biome.json, run by `npm run lint` in CI), proven to
 * fire by planting a violation in a scratch project with the same configuration; and a scan here
 * that resolves every relative specifier in shipped code, `require` in infra's CommonJS included.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..", "..");
const SHIPPED = ["src", "packages", "functions", "infra", "statemachines"];
const FORBIDDEN = ["harness", "test"];
const SPECIFIER = /(?:\bfrom|\bimport|\brequire)\s*\(?\s*["'](\.{1,2}\/[^"']*)["']/g;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return filesUnder(path);
    return /\.(ts|mts|cts|js|mjs|cjs)$/.test(e.name) ? [path] : [];
  });
}

/** Every relative import of shipped code that lands in a forbidden folder, as "file -> specifier". */
function crossings(root: string): string[] {
  const found: string[] = [];
  for (const top of SHIPPED) {
    let files: string[];
    try {
      files = filesUnder(join(root, top));
    } catch {
      continue;
    }
    for (const file of files) {
      for (const m of readFileSync(file, "utf8").matchAll(SPECIFIER)) {
        const target = relative(root, resolve(dirname(file), m[1] ?? ""));
        if (FORBIDDEN.some((f) => target === f || target.startsWith(`${f}/`)))
          found.push(`${relative(root, file)} -> ${m[1]}`);
      }
    }
  }
  return found;
}

function biomeLint(project: string): { status: number | null; output: string } {
  const bin = join(ROOT, "node_modules", ".bin", "biome");
  const r = spawnSync(bin, ["lint", "--vcs-enabled=false", "--max-diagnostics=50", "."], {
    cwd: project,
    encoding: "utf8",
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe("the line between product and harness", () => {
  it("no shipped file imports harness/ or test/ (scan of every relative specifier)", () => {
    expect(crossings(ROOT)).toEqual([]);
  });

  it("the scan and the lint rule both catch a planted crossing; a clean tree passes the rule", () => {
    const scratch = mkdtempSync(join(tmpdir(), "keyshift-layering-"));
    try {
      cpSync(join(ROOT, "biome.json"), join(scratch, "biome.json"));
      mkdirSync(join(scratch, "src", "core"), { recursive: true });
      mkdirSync(join(scratch, "functions"), { recursive: true });
      writeFileSync(
        join(scratch, "src", "core", "clean.ts"),
        'import { x } from "./other";\nexport const y = x;\n',
      );
      writeFileSync(join(scratch, "src", "core", "other.ts"), "export const x = 1;\n");
      const clean = biomeLint(scratch);
      expect(clean.output).not.toMatch(/noRestrictedImports/);
      expect(crossings(scratch)).toEqual([]);

      writeFileSync(
        join(scratch, "src", "core", "planted.ts"),
        'import { FakeClock } from "../../harness/memory";\nexport const c = FakeClock;\n',
      );
      writeFileSync(
        join(scratch, "functions", "planted.ts"),
        'export const load = () => import("../test/unit/fakes");\n',
      );
      const planted = biomeLint(scratch);
      expect(planted.status).not.toBe(0);
      expect(planted.output.match(/lint\/style\/noRestrictedImports/g)).toHaveLength(2);
      expect(crossings(scratch).sort()).toEqual([
        "functions/planted.ts -> ../test/unit/fakes",
        "src/core/planted.ts -> ../../harness/memory",
      ]);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
