/**
 * Readable units (issue: the product/harness line): no function in src/ or in the consumer SDK's
 * package (packages/consumer/src/, what a trading service installs) over 80 lines, no file there over 300. Measured with the TypeScript parser: a function is any declaration, method,
 * accessor, constructor, arrow or function expression; its length is from its first to its last line.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..", "..");
const MAX_FUNCTION_LINES = 80;
const MAX_FILE_LINES = 300;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

function longFunctions(file: string, text: string, max: number): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > max) {
        const name = node.name && ts.isIdentifier(node.name) ? node.name.text : nameOfParent(node);
        found.push(`${relative(ROOT, file)}:${start + 1} ${name} (${lines} lines)`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

function nameOfParent(node: ts.Node): string {
  const p = node.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p)) && ts.isIdentifier(p.name))
    return p.name.text;
  return "<anonymous>";
}

describe("unit sizes in src/ and packages/consumer/src/", () => {
  const files = [...sources(join(ROOT, "src")), ...sources(join(ROOT, "packages", "consumer", "src"))];

  it(`no function over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = files
      .flatMap((f) => longFunctions(f, readFileSync(f, "utf8"), MAX_FUNCTION_LINES))
      .map((l) => l.replace(/:\d+ /, " ").replace(/ \(\d+ lines\)$/, ""));
    expect(long).toEqual([]);
  });

  it(`no file over ${MAX_FILE_LINES} lines`, () => {
    const long = files
      .map((f) => ({ f, lines: readFileSync(f, "utf8").split("\n").length - 1 }))
      .filter((x) => x.lines > MAX_FILE_LINES)
      .map((x) => relative(ROOT, x.f));
    expect(long).toEqual([]);
  });

  it("the measure sees a long function (planted)", () => {
    const body = Array.from({ length: 90 }, (_, i) => `  const v${i} = ${i};`).join("\n");
    expect(longFunctions(join(ROOT, "src/x.ts"), `export function big() {\n${body}\n}\n`, 80)).toEqual([
      "src/x.ts:1 big (92 lines)",
    ]);
  });
});
