/**
 * The Secrets Manager behaviour keyshift relies on, written against the real SDK client only,
 * as AWS documents it. Runs against the local emulator by default and against any endpoint in
 * KEYSHIFT_CONTRACT_SECRETS_MANAGER_ENDPOINT (see secrets-manager-target.ts). The cases live in
 * secrets-manager/*.suite.ts, one file per area, sharing the one target opened here. The deviations
 * from AWS that remain by design are listed in secrets-manager/auth.suite.ts.
 */
import { afterAll, beforeAll } from "vitest";
import { authContract } from "./secrets-manager/auth.suite";
import { useTarget } from "./secrets-manager/helpers";
import { lifecycleContract } from "./secrets-manager/lifecycle.suite";
import { policyContract } from "./secrets-manager/policy.suite";
import { secretsContract } from "./secrets-manager/secrets.suite";
import { versionsContract } from "./secrets-manager/versions.suite";
import { wireContract } from "./secrets-manager/wire.suite";
import { openSecretsManagerTarget, type SecretsManagerTarget } from "./secrets-manager-target";

let opened: SecretsManagerTarget | undefined;

beforeAll(async () => {
  opened = await openSecretsManagerTarget();
  useTarget(opened);
});

afterAll(async () => {
  useTarget(undefined);
  await opened?.close();
});

secretsContract();
versionsContract();
lifecycleContract();
wireContract();
policyContract();
authContract();
