/**
 * Reading request members the way the service does: a member with the wrong JSON type is a
 * `SerializationException`; a missing required member or a broken length/range/enum constraint
 * from the API model is a `ValidationException` (AWS's framework-level error). Member paths in
 * messages are lowerCamel, as AWS prints them. Values of sensitive members are never echoed.
 */
import { invalidName, serializationError, validationError } from "./errors";
import type { SecretValue } from "./types";

export type Input = Record<string, unknown>;

const camel = (member: string): string => member.charAt(0).toLowerCase() + member.slice(1);

function typeMismatch(member: string, expected: string): never {
  throw serializationError(`Expected ${expected} for member '${camel(member)}'.`);
}

export function optionalString(input: Input, member: string): string | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") typeMismatch(member, "a string");
  return value;
}

export function missingMember(member: string): never {
  throw validationError(
    `Value null at '${camel(member)}' failed to satisfy constraint: Member must not be null`,
  );
}

export function requiredString(input: Input, member: string): string {
  const value = optionalString(input, member);
  if (value === undefined) missingMember(member);
  return value;
}

export function requiredList(input: Input, member: string): unknown[] {
  const value = optionalList(input, member);
  if (value === undefined) missingMember(member);
  return value;
}

export function optionalBoolean(input: Input, member: string): boolean | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") typeMismatch(member, "a boolean");
  return value;
}

export function optionalInteger(input: Input, member: string): number | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) typeMismatch(member, "an integer");
  return value;
}

export function optionalList(input: Input, member: string): unknown[] | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) typeMismatch(member, "a list");
  return value;
}

export function asStructure(value: unknown, member: string): Input {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    typeMismatch(member, "a structure");
  return value as Input;
}

export function asString(value: unknown, member: string): string {
  if (typeof value !== "string") typeMismatch(member, "a string");
  return value;
}

/** Smithy `@length` on a string; `sensitive` members are named but their value is not shown. */
export function checkLength(
  value: string | undefined,
  member: string,
  min: number,
  max: number,
  sensitive = false,
): void {
  if (value === undefined) return;
  const length = [...value].length;
  const shown = sensitive ? "" : `'${value}' `;
  if (length < min) {
    throw validationError(
      `Value ${shown}at '${camel(member)}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`,
    );
  }
  if (length > max) {
    throw validationError(
      `Value ${shown}at '${camel(member)}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  }
}

export function checkListLength(list: unknown[] | undefined, member: string, min: number, max: number): void {
  if (list === undefined) return;
  if (list.length < min || list.length > max) {
    const bound = list.length < min ? `greater than or equal to ${min}` : `less than or equal to ${max}`;
    throw validationError(
      `Value at '${camel(member)}' failed to satisfy constraint: Member must have length ${bound}`,
    );
  }
}

export function checkRange(value: number | undefined, member: string, min: number, max: number): void {
  if (value === undefined) return;
  if (value < min) {
    throw validationError(
      `Value '${value}' at '${camel(member)}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`,
    );
  }
  if (value > max) {
    throw validationError(
      `Value '${value}' at '${camel(member)}' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  }
}

export function checkEnum(value: string, member: string, allowed: readonly string[]): void {
  if (!allowed.includes(value)) {
    throw validationError(
      `Value '${value}' at '${camel(member)}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(", ")}]`,
    );
  }
}

/** The secret value limit is 65,536 bytes, for strings (UTF-8) and binaries (decoded) alike. */
export const MAX_SECRET_BYTES = 65_536;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Reads `SecretString` / `SecretBinary`. Returns undefined when neither is present; callers
 * decide whether a value is required. "Both present" is left to the caller as well, because
 * AWS reports it as an `InvalidParameterException`, not a model violation.
 */
export function readSecretValue(input: Input): { string?: SecretValue; binary?: SecretValue } {
  const secretString = optionalString(input, "SecretString");
  const secretBinary = optionalString(input, "SecretBinary");
  const result: { string?: SecretValue; binary?: SecretValue } = {};
  if (secretString !== undefined) {
    const bytes = Buffer.byteLength(secretString, "utf8");
    if (bytes < 1) checkLength(secretString, "SecretString", 1, MAX_SECRET_BYTES, true);
    if (bytes > MAX_SECRET_BYTES) {
      throw validationError(
        `Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to ${MAX_SECRET_BYTES}`,
      );
    }
    result.string = { kind: "string", data: secretString };
  }
  if (secretBinary !== undefined) {
    if (!BASE64.test(secretBinary))
      throw serializationError("Expected base64-encoded data for member 'secretBinary'.");
    const bytes = Buffer.from(secretBinary, "base64").length;
    if (bytes < 1 || bytes > MAX_SECRET_BYTES) {
      const bound = bytes < 1 ? "greater than or equal to 1" : `less than or equal to ${MAX_SECRET_BYTES}`;
      throw validationError(
        `Value at 'secretBinary' failed to satisfy constraint: Member must have length ${bound}`,
      );
    }
    result.binary = { kind: "binary", data: secretBinary };
  }
  return result;
}

/** Documented name alphabet for CreateSecret: ASCII letters, digits and `/_+=.@-`. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]+$/;
/** What AWS's own error message lists (it adds `!`); used for lookups so no existing name is refused. */
const SECRET_ID_NAME = /^[A-Za-z0-9/_+=.@!-]+$/;

export function checkSecretName(name: string): void {
  checkLength(name, "Name", 1, 512);
  if (!SECRET_NAME.test(name)) throw invalidName();
}

export function checkSecretId(secretId: string): void {
  checkLength(secretId, "SecretId", 1, 2048);
  if (!secretId.startsWith("arn:") && !SECRET_ID_NAME.test(secretId)) throw invalidName();
}

export function checkVersionId(value: string | undefined, member: string): void {
  checkLength(value, member, 32, 64);
}

export function checkStage(value: string | undefined, member: string): void {
  checkLength(value, member, 1, 256);
}
