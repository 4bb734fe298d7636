/**
 * dynalite, with one defect of its global secondary indexes mended before it is loaded.
 *
 * dynalite 4.0.0 keys an index entry by the index's key plus the first six hex digits of an md5 of
 * the item's table key (`createIndexKey` in `dynalite/db/index.js`: "for now just first six
 * chars"). Two items with the same index key whose table keys share those 24 bits get the same
 * index entry: the second write replaces the first, and the first item is never returned by a Query
 * of that index again. With n items on one index key about n²/2²⁵ are lost — 0.7 of 5,000 due
 * ledger entries with one `sweepAt`, which is what the fleet bench saw (issue 19: 1 and then 2 of
 * 5,000 never swept). DynamoDB itself keeps every item of an index key. The fix keys the index
 * entry by the whole table key, which is unique per item; the start key of a paged Query is built
 * by the same function, so paging is unchanged.
 */
import { readFileSync } from "node:fs";
import { createRequire, Module } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

const DEFECT = "return createKey(item, table, keySchema) + hashPrefix.apply(this, tableKeyPieces)";
const MENDED = "return createKey(item, table, keySchema) + createKey(item, table)";

type Dynalite = typeof import("dynalite").default;

interface CompilableModule {
  filename: string;
  paths: string[];
  loaded: boolean;
  _compile(source: string, filename: string): void;
}

/** The `dynalite` factory, its index keys mended (throws if dynalite changed so the fix no longer applies). */
export function loadDynalite(): Dynalite {
  const dbFile = join(dirname(require.resolve("dynalite")), "db", "index.js");
  if (!require.cache[dbFile]) {
    const source = readFileSync(dbFile, "utf8");
    if (!source.includes(DEFECT)) {
      throw new Error(
        `${dbFile} no longer has the index-key line harness/local/dynalite-loader.ts mends: ` +
          "check whether the new dynalite still truncates the table key in createIndexKey, then update or drop the fix",
      );
    }
    const ModuleClass = Module as unknown as {
      new (id: string, parent?: unknown): CompilableModule;
      _nodeModulePaths(dir: string): string[];
    };
    const mod = new ModuleClass(dbFile);
    mod.filename = dbFile;
    mod.paths = ModuleClass._nodeModulePaths(dirname(dbFile));
    mod._compile(source.replace(DEFECT, MENDED), dbFile);
    mod.loaded = true;
    require.cache[dbFile] = mod as unknown as NodeJS.Module;
  }
  return require("dynalite") as Dynalite;
}

/** Whether the dynalite this process loaded keys index entries by the whole table key. */
export function dynaliteIndexKeysMended(): boolean {
  const dbFile = join(dirname(require.resolve("dynalite")), "db", "index.js");
  const db = require.cache[dbFile]?.exports as
    | { createIndexKey?: (item: unknown, table: unknown, keySchema: unknown) => string }
    | undefined;
  return db?.createIndexKey?.toString().includes("createKey(item, table)") ?? false;
}
