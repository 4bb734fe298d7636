/**
 * Shared pieces of the Secrets Manager contract suites: the target the entry file opens, and
 * small SDK-only helpers (no emulator internals), so every assertion holds against AWS too.
 */
import { randomUUID } from "node:crypto";
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  type SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { expect } from "vitest";
import type { SecretsManagerTarget } from "../secrets-manager-target";

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DAY_MS = 86_400_000;

let current: SecretsManagerTarget | undefined;

/** Set by the entry file's beforeAll; suites read it only inside tests. */
export function useTarget(next: SecretsManagerTarget | undefined): void {
  current = next;
}

export function target(): SecretsManagerTarget {
  if (!current) throw new Error("The Secrets Manager contract target is not open (beforeAll has not run).");
  return current;
}

export const sm = (): SecretsManagerClient => target().client;

export async function rejection<E extends Error>(
  call: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
  name: string,
): Promise<E> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected ${name}`).toBeInstanceOf(type);
  expect((error as Error).name).toBe(name);
  expect((error as SecretsManagerServiceException).$metadata.httpStatusCode).toBe(400);
  return error as E;
}

export async function createWithValue(
  label: string,
  value = "value-1",
): Promise<{ name: string; versionId: string }> {
  const name = target().name(label);
  const versionId = randomUUID();
  await sm().send(
    new CreateSecretCommand({ Name: name, SecretString: value, ClientRequestToken: versionId }),
  );
  return { name, versionId };
}

export async function put(name: string, value: string, stages?: string[]): Promise<string> {
  const versionId = randomUUID();
  await sm().send(
    new PutSecretValueCommand({
      SecretId: name,
      SecretString: value,
      ClientRequestToken: versionId,
      VersionStages: stages,
    }),
  );
  return versionId;
}

export async function stagesOf(name: string): Promise<Record<string, string[]>> {
  const described = await sm().send(new DescribeSecretCommand({ SecretId: name }));
  const sorted: Record<string, string[]> = {};
  for (const [id, stages] of Object.entries(described.VersionIdsToStages ?? {}))
    sorted[id] = [...stages].sort();
  return sorted;
}

export async function listedVersionIds(name: string, includeDeprecated: boolean): Promise<string[]> {
  const ids: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await sm().send(
      new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: includeDeprecated, NextToken }),
    );
    ids.push(...(page.Versions ?? []).map((version) => version.VersionId ?? ""));
    NextToken = page.NextToken;
  } while (NextToken);
  return ids.sort();
}
