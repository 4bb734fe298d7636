import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // `@keyshift/consumer` resolves to the SDK's TypeScript source in this repo (packages/consumer/package.json exports).
  // Vitest's own default minus `module` (which would pick the AWS SDK's extensionless dist-es builds).
  ssr: {
    resolve: { conditions: ["keyshift-source", ...defaultServerConditions.filter((c) => c !== "module")] },
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: integration files each start their own local stack; keep the pool small.
    maxWorkers: 2,
    env: { SLS_TELEMETRY_DISABLED: "1", SLS_NOTIFICATIONS_MODE: "off" },
  },
});
