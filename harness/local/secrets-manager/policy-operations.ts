/**
 * GetResourcePolicy, PutResourcePolicy, DeleteResourcePolicy. Outputs carry `ARN` and `Name`, and
 * `ResourcePolicy` only when the secret has one (AWS omits it then). A document is validated
 * (`compilePolicy`) before it is stored, so every stored policy is one the emulator enforces.
 */
import { compilePolicy } from "./resource-policy";
import type { SecretsStore } from "./store";
import { checkLength, type Input, optionalBoolean, requiredString } from "./validation";
import { readSecretId } from "./version-operations";
import type { Output } from "./wire";

/** Secrets Manager's limit on a resource policy document, in characters. */
export const MAX_RESOURCE_POLICY_CHARS = 20_480;

export function getResourcePolicy(store: SecretsStore, input: Input): Output {
  const secret = store.require(readSecretId(input));
  const out: Output = { ARN: secret.arn, Name: secret.name };
  if (secret.resourcePolicy !== undefined) out.ResourcePolicy = secret.resourcePolicy;
  return out;
}

export function putResourcePolicy(store: SecretsStore, input: Input): Output {
  const secretId = readSecretId(input);
  const document = requiredString(input, "ResourcePolicy");
  // Not echoed: a 20 KB document in an error message helps nobody.
  checkLength(document, "ResourcePolicy", 1, MAX_RESOURCE_POLICY_CHARS, true);
  // AWS's default: public policies are not blocked unless asked.
  const block = optionalBoolean(input, "BlockPublicPolicy") ?? false;

  const secret = store.requireActive(secretId);
  compilePolicy(document, block);
  secret.resourcePolicy = document;
  store.markChanged();
  return { ARN: secret.arn, Name: secret.name };
}

export function deleteResourcePolicy(store: SecretsStore, input: Input): Output {
  const secret = store.requireActive(readSecretId(input));
  if (secret.resourcePolicy !== undefined) {
    delete secret.resourcePolicy;
    store.markChanged();
  }
  return { ARN: secret.arn, Name: secret.name };
}
