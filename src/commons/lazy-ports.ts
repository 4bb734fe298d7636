import type { Alerts } from "../core/ports";

/**
 * Alerts whose adapter (and its SDK client) is built on the first alert, not at cold start: a
 * heartbeat container that never alerts never builds an SNS client. The SDK module is imported
 * statically on purpose: a dynamic `import()` of it is inlined by esbuild anyway, as a whole
 * namespace that cannot be tree-shaken — twice the bytes for Lambda to compile at init.
 */
export function firstUse(build: () => Alerts): Alerts {
  let built: Alerts | undefined;
  return {
    send: (alert) => {
      built ??= build();
      return built.send(alert);
    },
  };
}
