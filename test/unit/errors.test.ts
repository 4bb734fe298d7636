import { describe, expect, it } from "vitest";
import { ExchangeRetryableError, RotationInProgressError, sanitizeErrorMessage } from "../../src/core/errors";

describe("sanitizeErrorMessage", () => {
  it("masks secret=… and keeps the rest of the message", () => {
    const out = sanitizeErrorMessage(
      new Error("signing failed for key k-1 with secret=sk_live_abc123, retry later"),
    );

    expect(out).toBe("Error: signing failed for key k-1 with secret=***, retry later");
  });

  it('masks "secret":"…" inside echoed JSON', () => {
    const body = '{"account":"a","keyId":"k-1","secret":"sk_live_abc123","permissions":["trade"]}';
    const out = sanitizeErrorMessage(new ExchangeRetryableError(`HTTP 502 echoing ${body}`));

    expect(out).not.toContain("sk_live_abc123");
    expect(out).toContain('"secret":***');
    expect(out).toContain('"keyId":"k-1"');
    expect(out.startsWith("ExchangeRetryableError: ")).toBe(true);
  });

  it("masks a JSON string value whole, escaped quotes included", () => {
    const out = sanitizeErrorMessage(`echo ${JSON.stringify({ keyId: "k-1", secret: 'ab"cd\\ef' })}`);

    expect(out).not.toContain("cd");
    expect(out).not.toContain("ef");
    expect(out).toContain('"keyId":"k-1"');
  });

  it("masks the other secret-ish names too", () => {
    const out = sanitizeErrorMessage("token=t0k3n password: hunter2 signature=abcdef SecretString=xyz");

    for (const leaked of ["t0k3n", "hunter2", "abcdef", "xyz"]) expect(out).not.toContain(leaked);
  });

  it("truncates to the limit with an ellipsis", () => {
    const out = sanitizeErrorMessage(new Error("x".repeat(1000)));

    expect(out).toHaveLength(301);
    expect(out.endsWith("…")).toBe(true);
    expect(sanitizeErrorMessage("short", 10)).toBe("short");
    expect(sanitizeErrorMessage("0123456789abc", 10)).toBe("0123456789…");
  });
});

describe("KeyshiftError", () => {
  it("carries its class name (what ASL Retry/Catch match on) and the cause", () => {
    const cause = new Error("underlying");
    const err = new RotationInProgressError("held", { cause });

    expect(err.name).toBe("RotationInProgressError");
    expect(err.cause).toBe(cause);
  });
});
