"use strict";
/**
 * The enrollment config check for `serverless package`: every rule lives once, in TypeScript
 * (src/core/enrollment/, read from disk by src/cli/enrollment-file.ts), and the CLI imports it
 * directly. osls `require()`s variable sources as CommonJS and cannot load TypeScript, so this file
 * bundles that module with esbuild (already what serverless-esbuild packages the functions with)
 * when packaging loads it, in memory, and runs the bundle: nothing to build first, nothing to go
 * stale, the same verdicts as the CLI by construction. It holds no rule of its own.
 *
 * Exports what src/cli/enrollment-file.ts exports (`loadEnrollment`, `validateEnrollment`,
 * `EnrollmentConfigError`, ...). infra/schedules.cjs compiles the rotation rules from it.
 */
const path = require("node:path");
const vm = require("node:vm");
const { createRequire } = require("node:module");
const esbuild = require("esbuild");

const ENTRY = path.resolve(__dirname, "..", "src", "cli", "enrollment-file.ts");

/** The TypeScript module as one CommonJS bundle; npm packages (yaml) stay `require`s of node_modules. */
function bundle() {
  const { outputFiles } = esbuild.buildSync({
    entryPoints: [ENTRY],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    packages: "external",
    write: false,
    logLevel: "error",
    // The module finds the service directory from its own place in the tree.
    define: { "import.meta.dirname": JSON.stringify(path.dirname(ENTRY)) },
  });
  return outputFiles[0].text;
}

/** Runs the bundle as the module at ENTRY would run: its `require` resolves from src/cli. */
function load(code) {
  const wrapped = vm.runInThisContext(
    `(function (exports, require, module, __filename, __dirname) {${code}\n})`,
    {
      filename: ENTRY,
    },
  );
  const loaded = { exports: {} };
  wrapped(loaded.exports, createRequire(ENTRY), loaded, ENTRY, path.dirname(ENTRY));
  return loaded.exports;
}

module.exports = load(bundle());
