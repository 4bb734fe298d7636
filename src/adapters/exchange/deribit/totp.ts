import { createHmac } from "node:crypto";

/**
 * RFC 6238 TOTP (on RFC 4226 HOTP), computed locally so the 2FA seed never leaves the process.
 * Deribit's security-key challenge takes the current 6-digit, 30-second, HMAC-SHA1 code of the
 * account's base32 2FA secret. Nothing here logs, and no error message carries a seed or a code.
 */
export type TotpAlgorithm = "sha1" | "sha256" | "sha512";

export interface TotpOptions {
  digits?: number;
  stepSeconds?: number;
  algorithm?: TotpAlgorithm;
}

const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Thrown for a seed that is not base32; the message never contains the seed. */
export class InvalidTotpSeedError extends Error {
  override name = "InvalidTotpSeedError";
}

/**
 * RFC 4648 base32, as authenticator apps show it: case-insensitive, spaces and `-` between groups
 * and trailing `=` padding ignored.
 */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s-]/g, "").replace(/=+$/, "").toUpperCase();
  if (clean.length === 0) throw new InvalidTotpSeedError("TOTP seed is empty");
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const value = BASE32_ALPHABET.indexOf(char);
    if (value < 0) throw new InvalidTotpSeedError("TOTP seed is not base32 (A-Z, 2-7)");
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** RFC 4226 HOTP: HMAC over the 8-byte big-endian counter, dynamic truncation, `digits` digits. */
export function hotp(key: Buffer, counter: number, digits = 6, algorithm: TotpAlgorithm = "sha1"): string {
  if (!Number.isSafeInteger(counter) || counter < 0)
    throw new RangeError("HOTP counter must be a safe integer ≥ 0");
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(message).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/** The RFC 6238 time step (T0 = 0) that `unixMs` falls in. */
export function totpStep(unixMs: number, stepSeconds = 30): number {
  return Math.floor(unixMs / 1000 / stepSeconds);
}

/** The TOTP code at `unixMs` (default: 6 digits, 30 s steps, HMAC-SHA1, as Deribit uses). */
export function totp(key: Buffer, unixMs: number, opts: TotpOptions = {}): string {
  return hotp(key, totpStep(unixMs, opts.stepSeconds ?? 30), opts.digits ?? 6, opts.algorithm ?? "sha1");
}
