/**
 * The consumer SDK ships alone (packages/consumer), so it carries its own copy of two things keyshift
 * also has: the fingerprint derivation (the protocol: what the SDK reports must be what the server
 * computes) and the error scrubber. These checks keep each copy giving the same answers as the
 * original, on generated inputs of the shapes each one meets.
 */
import { describe, expect, it } from "vitest";
import { fingerprint as sdkFingerprint } from "../../packages/consumer/src";
import { SECRET_ID as sdkSecretId } from "../../packages/consumer/src/options";
import {
  maskSecrets as sdkMaskSecrets,
  sanitizeErrorMessage as sdkSanitize,
} from "../../packages/consumer/src/scrub";
import {
  AUTH_FAILURE_KINDS as SDK_AUTH_FAILURE_KINDS,
  ENDPOINT_CLASSES as SDK_ENDPOINT_CLASSES,
  MAX_HOURS_PER_HEARTBEAT as SDK_MAX_HOURS,
} from "../../packages/consumer/src/usage";
import { maskSecrets, sanitizeErrorMessage } from "../../src/core/errors";
import { fingerprint } from "../../src/core/fingerprint";
import { ENDPOINT_CLASSES } from "../../src/core/misuse/model";
import { AUTH_FAILURE_KINDS, MAX_USAGE_HOURS_PER_HEARTBEAT } from "../../src/core/misuse/usage";
import { SECRET_ID } from "../../src/core/secret-id";
import { seeded } from "./support/consumer-fakes";

const CHARS = `ABCabcxyz0189+/=_.-~ ,;:&}]){['"\\\n\té€😀`;
const WORDS = [
  "secret",
  "apiSecret",
  "password",
  "token",
  "Authorization: ",
  "Bearer ",
  "sig=",
  "HTTP 500: ",
];

function text(random: () => number, length: number): string {
  let out = "";
  while (out.length < length) {
    out +=
      random() < 0.2
        ? (WORDS[Math.floor(random() * WORDS.length)] ?? "")
        : (CHARS[Math.floor(random() * CHARS.length)] ?? "");
  }
  return out;
}

describe("the SDK's copies agree with keyshift's originals", () => {
  it("usage vocabulary: the same endpoint classes, auth-failure kinds and hours per heartbeat as the server validates", () => {
    expect([...SDK_ENDPOINT_CLASSES]).toEqual([...ENDPOINT_CLASSES]);
    expect([...SDK_AUTH_FAILURE_KINDS]).toEqual([...AUTH_FAILURE_KINDS]);
    expect(SDK_MAX_HOURS).toBe(MAX_USAGE_HOURS_PER_HEARTBEAT);
  });

  it("fingerprint: the same for 2,000 generated values, JSON keys and unicode included", () => {
    const random = seeded(7);
    for (let i = 0; i < 2000; i++) {
      const value =
        i % 2 ? JSON.stringify({ keyId: `k-${i}`, secret: text(random, 30) }) : text(random, i % 90);
      expect(sdkFingerprint(value)).toBe(fingerprint(value));
    }
  });

  it("sanitizeErrorMessage and maskSecrets: the same for 2,000 generated messages and lengths", () => {
    const random = seeded(11);
    for (let i = 0; i < 2000; i++) {
      const message = text(random, Math.floor(random() * 700));
      const max = 20 + Math.floor(random() * 400);
      const err = i % 3 ? new Error(message) : message;
      expect(sdkSanitize(err, max)).toBe(sanitizeErrorMessage(err, max));
      const secrets = [text(random, 5 + Math.floor(random() * 30)), message.slice(10, 40)];
      expect(sdkMaskSecrets(message, secrets)).toBe(maskSecrets(message, secrets));
    }
  });

  it("the secret-id rule: the SDK refuses at start-up exactly what the heartbeat endpoint would refuse", () => {
    expect(sdkSecretId.source).toBe(SECRET_ID.source);
    expect(sdkSecretId.flags).toBe(SECRET_ID.flags);
  });
});
