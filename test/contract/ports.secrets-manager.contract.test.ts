/**
 * The ports kept in Secrets Manager, one contract suite each (test/contract/ports/*.suite.ts), run
 * against the in-memory adapters the simulation decides on (harness/memory/) and the production
 * `SecretsManagerStore` built as src/commons/deps.ts builds it, on the local emulator — or on
 * KEYSHIFT_CONTRACT_SECRETS_MANAGER_ENDPOINT (real AWS, see secrets-manager-target.ts).
 */
import { randomUUID } from "node:crypto";
import { CreateSecretCommand, ListSecretVersionIdsCommand } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll } from "vitest";
import { InMemorySecretPolicyStore, InMemorySecretStore } from "../../harness/memory";
import { SecretsManagerStore } from "../../src/adapters/secrets-manager";
import { secretPolicyStoreContract } from "./ports/secret-policy-store.suite";
import { secretStoreContract } from "./ports/secret-store.suite";
import { counterIds, once } from "./ports/support";
import { eventually, openSecretsManagerTarget, type SecretsManagerTarget } from "./secrets-manager-target";

let sm: SecretsManagerTarget;

beforeAll(async () => {
  sm = await openSecretsManagerTarget();
});

afterAll(async () => {
  await sm?.close();
});

const emulator = {
  name: "secrets-manager",
  make: () => new SecretsManagerStore(sm.client),
  // Against AWS, the role the suite runs as: KEYSHIFT_CONTRACT_WRITER_ROLE_ARN.
  writer: () => sm.callerArn ?? process.env.KEYSHIFT_CONTRACT_WRITER_ROLE_ARN,
  id: (label: string) => sm.name(label),
  eventually,
  async createSecret(label: string, value: string) {
    const name = sm.name(label);
    const v1 = randomUUID();
    await sm.client.send(
      new CreateSecretCommand({ Name: name, SecretString: value, ClientRequestToken: v1 }),
    );
    return { name, v1 };
  },
  async allVersionIds(name: string) {
    const ids: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await sm.client.send(
        new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true, NextToken }),
      );
      ids.push(...(page.Versions ?? []).map((v) => v.VersionId ?? ""));
      NextToken = page.NextToken;
    } while (NextToken);
    return ids;
  },
};

/** A fresh in-memory world per test: the secrets, and the policies bound to them. */
let secrets = new InMemorySecretStore();
const ids = counterIds("keyshift/exchange/mem");
const inMemory = {
  name: "in-memory",
  id: ids,
  eventually: once,
  async createSecret(label: string, value: string) {
    const name = ids(label);
    return { name, v1: secrets.create(name, value) };
  },
  allVersionIds: async (name: string) => secrets.versions(name).map((v) => v.versionId),
};

secretStoreContract({
  ...inMemory,
  make: () => {
    secrets = new InMemorySecretStore();
    return secrets;
  },
});
secretStoreContract(emulator);

secretPolicyStoreContract({
  ...inMemory,
  make: () => {
    secrets = new InMemorySecretStore();
    return new InMemorySecretPolicyStore(secrets);
  },
});
secretPolicyStoreContract(emulator);
