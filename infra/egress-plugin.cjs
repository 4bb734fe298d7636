"use strict";
/**
 * The per-function half of the fixed egress (infra/egress.cjs has the network): with
 * `--param egress=...`, each function of EXCHANGE_CALLERS gets a `vpc` and `KEYSHIFT_EGRESS_IPS`
 * before osls compiles the functions. Setting osls's own `vpc` rather than patching the compiled
 * template keeps the rest native: `VpcConfig` on the function, and serverless-iam-roles-per-function
 * attaching AWSLambdaVPCAccessExecutionRole (the ENI actions Lambda needs) to that function's role
 * only. Without `egress` it changes nothing.
 */
const { EGRESS_KEYS, EXCHANGE_CALLERS, egressFunctionConfig, egressSettings } = require("./egress.cjs");

class KeyshiftEgress {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { "before:package:compileFunctions": () => this.placeFunctions() };
  }

  placeFunctions() {
    const service = this.serverless.service;
    const block = service.custom?.egress ?? {};
    const settings = egressSettings(Object.fromEntries(EGRESS_KEYS.map((k) => [k, block[k]])));
    if (!settings) return;
    const { vpc, ips } = egressFunctionConfig(settings);
    for (const name of EXCHANGE_CALLERS) {
      const fn = service.functions?.[name];
      if (!fn)
        throw new Error(
          `infra/egress.cjs: no function ${name} in serverless.yml (EXCHANGE_CALLERS is stale)`,
        );
      fn.vpc = vpc;
      fn.environment = { ...fn.environment, KEYSHIFT_EGRESS_IPS: ips };
    }
  }
}

module.exports = KeyshiftEgress;
