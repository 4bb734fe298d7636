#!/usr/bin/env node
// `npx keyshift ...` from a checkout: runs the TypeScript CLI in this process through the project's
// own tsx (a devDependency), so there is no build step to forget and the exit code is the CLI's.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
