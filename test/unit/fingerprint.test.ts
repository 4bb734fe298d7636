import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FINGERPRINT_PATTERN, fingerprint } from "../../src/core/fingerprint";

describe("fingerprint", () => {
  it("is fp1_ followed by 16 lowercase hex digits", () => {
    expect(fingerprint('{"keyId":"k1","secret":"s"}')).toMatch(/^fp1_[0-9a-f]{16}$/);
    expect(fingerprint("")).toMatch(FINGERPRINT_PATTERN);
  });

  it("matches the first 16 hex digits of SHA-256 over the UTF-8 bytes (known vector)", () => {
    const value = '{"account":"acct","keyId":"k-1","secret":"clé-ß-✓"}';
    const independent = createHash("sha256").update(Buffer.from(value, "utf8")).digest("hex").slice(0, 16);

    expect(fingerprint(value)).toBe(`fp1_${independent}`);
    // sha256("hello") = 2cf24dba5fb0a30e26e83b2ac5b9e29e…
    expect(fingerprint("hello")).toBe("fp1_2cf24dba5fb0a30e");
  });

  it("differs for different values, even one character apart", () => {
    expect(fingerprint("secret-a")).not.toBe(fingerprint("secret-b"));
    expect(fingerprint('{"secret":"x"}')).not.toBe(fingerprint('{"secret":"x" }'));
  });
});
