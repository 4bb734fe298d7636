/**
 * ListSecrets `Filters`, as documented: `name`, `tag-key`, `tag-value`, `primary-region` and
 * `owning-service` are case-sensitive prefix matches, `description` a case-insensitive one, and
 * `all` matches the words of its value against every attribute, case-insensitively. A value
 * starting with `!` negates. Values of one filter are ORed; filters are ANDed.
 */
import { validationError } from "./errors";
import type { SecretRecord } from "./types";
import { asString, asStructure, checkEnum, checkListLength, type Input, optionalList } from "./validation";

const FILTER_KEYS = [
  "description",
  "name",
  "tag-key",
  "tag-value",
  "primary-region",
  "owning-service",
  "all",
] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
const FILTER_VALUE = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;

export interface Filter {
  key: FilterKey;
  values: string[];
}

export function readFilters(input: Input): Filter[] {
  const list = optionalList(input, "Filters") ?? [];
  checkListLength(list, "Filters", 0, 10);
  return list.map((raw, index) => {
    const path = `filters.${index + 1}.member`;
    const entry = asStructure(raw, "Filters");
    const key = asString(entry.Key, `${path}.key`);
    checkEnum(key, `${path}.key`, FILTER_KEYS);
    const values = (optionalList(entry, "Values") ?? []).map((value) => asString(value, `${path}.values`));
    checkListLength(values, `${path}.values`, 1, 10);
    for (const value of values) {
      if (value.length > 512 || !FILTER_VALUE.test(value)) {
        throw validationError(
          `Value '${value}' at '${path}.values' failed to satisfy constraint: Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$`,
        );
      }
    }
    return { key: key as FilterKey, values };
  });
}

function attributes(secret: SecretRecord, key: FilterKey, region: string): string[] {
  switch (key) {
    case "name":
      return [secret.name];
    case "description":
      return secret.description === undefined ? [] : [secret.description];
    case "tag-key":
      return secret.tags.map((tag) => tag.Key);
    case "tag-value":
      return secret.tags.map((tag) => tag.Value);
    case "primary-region":
      return [region];
    case "owning-service":
      return [];
    case "all":
      return [
        secret.name,
        secret.description ?? "",
        ...secret.tags.flatMap((tag) => [tag.Key, tag.Value]),
        region,
      ];
  }
}

function matchesValue(secret: SecretRecord, key: FilterKey, value: string, region: string): boolean {
  const candidates = attributes(secret, key, region);
  if (key === "all") {
    const words = value.toLowerCase().split(/\s+/).filter(Boolean);
    const haystack = candidates.flatMap((text) =>
      text
        .toLowerCase()
        .split(/[^a-z0-9]+/)
        .concat(text.toLowerCase()),
    );
    return words.every((word) => haystack.some((text) => text.startsWith(word)));
  }
  if (key === "description")
    return candidates.some((text) => text.toLowerCase().startsWith(value.toLowerCase()));
  return candidates.some((text) => text.startsWith(value));
}

export function matchesFilters(secret: SecretRecord, filters: Filter[], region: string): boolean {
  return filters.every((filter) =>
    filter.values.some((raw) => {
      const negated = raw.startsWith("!");
      const value = negated ? raw.slice(1) : raw;
      return negated !== matchesValue(secret, filter.key, value, region);
    }),
  );
}
