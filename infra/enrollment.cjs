"use strict";
/**
 * The enrollment rules (src/core/enrollment/, read from disk by src/cli/enrollment-file.ts) for a
 * plain CommonJS Node process: this file bundles that module with esbuild in memory and runs the
 * bundle, so tooling that cannot load TypeScript gets the CLI's verdicts by construction. It holds
 * no rule of its own. `serverless package` no longer loads it: the template does not depend on the
 * enrollment file (the schedules are made at run time, docs/deploy.md "Rotation schedules").
 *
 * Exports what src/cli/enrollment-file.ts exports (`loadEnrollment`, `validateEnrollment`,
 * `EnrollmentConfigError`, ...).
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
