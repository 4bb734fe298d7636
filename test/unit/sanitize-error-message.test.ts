import { describe, expect, it } from "vitest";
import { sanitizeErrorMessage } from "../../src/core/errors";

/** Small deterministic PRNG (mulberry32): the same cases on every run, a failure names its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Every substring of `secret` of length `n` found in `text`: what a leak looks like. */
function leakedPieces(text: string, secret: string, n = 6): string[] {
  const pieces: string[] = [];
  for (let i = 0; i + n <= secret.length; i++) {
    const piece = secret.slice(i, i + n);
    if (text.includes(piece)) pieces.push(piece);
  }
  return pieces;
}

const TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** Characters an unquoted value can hold (base64, base64url, hex, URL-safe punctuation). */
const BARE_CHARS = `${TOKEN_CHARS}+/=_.-~!*`;
/** Inside quotes anything goes: spaces, separators, quotes of the other kind, backslashes. */
const QUOTED_CHARS = `${BARE_CHARS} ,;:&}]){['"\\`;

function pick(random: () => number, chars: string, min: number, max: number): string {
  const length = min + Math.floor(random() * (max - min + 1));
  let out = "";
  for (let i = 0; i < length; i++) out += chars[Math.floor(random() * chars.length)];
  return out;
}

/** A message template: how an echoed secret of a given alphabet can appear in an error. */
interface Template {
  chars: string;
  render: (secret: string) => string;
}

const quoted = (q: string, escapeChars: (s: string) => string) => (s: string) => `${q}${escapeChars(s)}${q}`;
const singleQuoted = quoted("'", (s) => s.replace(/\\/g, "\\\\").replace(/'/g, "\\'"));
const doubleQuoted = quoted('"', (s) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"'));
const json = (key: string) => (s: string) =>
  JSON.stringify({ keyId: "k-1", [key]: s, permissions: ["trade"] });

const TEMPLATES: Template[] = [
  ...[
    "secret",
    "secret_key",
    "secretKey",
    "apiSecret",
    "api_secret",
    "client_secret",
    "password",
    "passphrase",
    "private_key",
    "privateKey",
    "token",
    "access_token",
    "signature",
    "sign",
    "sig",
    "X-BAPI-SIGN",
    "SecretString",
  ].flatMap((key): Template[] => [
    { chars: BARE_CHARS, render: (s) => `${key}=${s}` },
    { chars: BARE_CHARS, render: (s) => `${key}: ${s}` },
    { chars: BARE_CHARS, render: (s) => `?api_key=k-1&${key}=${s}&recv_window=5000` },
    { chars: QUOTED_CHARS, render: (s) => `${key}=${doubleQuoted(s)}` },
    { chars: QUOTED_CHARS, render: (s) => `${key}: ${singleQuoted(s)}` },
    { chars: QUOTED_CHARS, render: json(key) },
    // Escaped JSON: a JSON body carried inside another JSON string.
    { chars: QUOTED_CHARS, render: (s) => JSON.stringify(json(key)(s)) },
    { chars: QUOTED_CHARS, render: (s) => JSON.stringify({ body: json(key)(s) }) },
    { chars: QUOTED_CHARS, render: (s) => JSON.stringify(JSON.stringify({ body: json(key)(s) })) },
  ]),
  { chars: BARE_CHARS, render: (s) => `Authorization: Bearer ${s}` },
  { chars: BARE_CHARS, render: (s) => `authorization=Bearer ${s}` },
  { chars: BARE_CHARS, render: (s) => `request had Bearer ${s} attached` },
  { chars: BARE_CHARS, render: (s) => JSON.stringify({ headers: { Authorization: `Bearer ${s}` } }) },
  {
    chars: BARE_CHARS,
    render: (s) => `Authorization: deri-hmac-sha256 id=k-1,ts=1700000000000,sig=${s},nonce=n1`,
  },
  { chars: BARE_CHARS, render: (s) => `deri-hmac-sha256 id=k-1,ts=1700000000000,sig=${s},nonce=n1,data=` },
  { chars: BARE_CHARS, render: (s) => `X-BAPI-API-KEY: k-1\nX-BAPI-SIGN: ${s}\nX-BAPI-TIMESTAMP: 1` },
];

const WORDS = [
  "HTTP",
  "502",
  "upstream",
  "echoing",
  "for",
  "key",
  "k-1",
  "on",
  "account",
  "acct-main",
  "failed:",
];

function filler(random: () => number): string {
  const n = Math.floor(random() * 12);
  return Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");
}

describe("sanitizeErrorMessage scrubs before it truncates", () => {
  it("break 11: masks the spellings exchanges and HTTP use for secrets", () => {
    const cases: Array<[string, string]> = [
      ["secret_key=sk_live_abc123xyz", "sk_live_abc123xyz"],
      ["secretKey: sk_live_abc123xyz", "sk_live_abc123xyz"],
      ["api_secret=sk_live_abc123xyz", "sk_live_abc123xyz"],
      ["client_secret=sk_live_abc123xyz", "sk_live_abc123xyz"],
      ["X-BAPI-SIGN: 9f86d081884c7d659a2f", "9f86d081884c7d659a2f"],
      ["GET /v5/order?api_key=k-1&sign=9f86d081884c7d659a2f", "9f86d081884c7d659a2f"],
      ["passphrase=correct-horse-battery", "correct-horse-battery"],
      ["private_key=MIIEvQIBADANBgkq", "MIIEvQIBADANBgkq"],
      ['HTTP 502 {\\"keyId\\":\\"k-1\\",\\"secret\\":\\"sk_live_abc123xyz\\"}', "sk_live_abc123xyz"],
      ["Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30", "eyJhbGciOiJIUzI1NiJ9.e30"],
      ["sent Bearer eyJhbGciOiJIUzI1NiJ9.e30 twice", "eyJhbGciOiJIUzI1NiJ9.e30"],
      ["deri-hmac-sha256 id=k-1,ts=1,sig=9f86d081884c7d659a2f,nonce=abc", "9f86d081884c7d659a2f"],
      ["password: 'correct horse battery staple'", "horse battery staple"],
      ['secret="correct horse, battery} staple"', "horse, battery} staple"],
    ];
    for (const [message, secret] of cases) {
      const out = sanitizeErrorMessage(new Error(message));

      expect(leakedPieces(out, secret), `${message} -> ${out}`).toEqual([]);
    }
  });

  it("never leaves the start of a secret the length limit cuts through (scrubbed whole, then cut)", () => {
    const secret = "sk_live_0123456789abcdef0123456789abcdef";
    const message = `HTTP 502 ${"x".repeat(260)} secret=${secret}`;

    for (let maxLength = 250; maxLength <= 320; maxLength++) {
      const out = sanitizeErrorMessage(message, maxLength);

      expect(leakedPieces(out, secret), `maxLength ${maxLength}: ${out}`).toEqual([]);
      expect(out.length).toBeLessThanOrEqual(maxLength + 1);
    }
  });

  it("break 11: no 6-character piece of a random secret survives, whatever the template, position and limit", () => {
    const random = seeded(11);
    for (let run = 0; run < 3000; run++) {
      const template = TEMPLATES[Math.floor(random() * TEMPLATES.length)] as Template;
      const secret = pick(random, template.chars, 8, 48);
      const message = `${filler(random)} ${template.render(secret)} ${filler(random)}`.trim();
      const maxLength = 1 + Math.floor(random() * (message.length + 40));
      const err = random() < 0.5 ? new Error(message) : message;

      const out = sanitizeErrorMessage(err, maxLength);

      expect(
        leakedPieces(out, secret),
        `run ${run}: ${JSON.stringify(message)} (max ${maxLength}) -> ${out}`,
      ).toEqual([]);
      expect(out.length).toBeLessThanOrEqual(maxLength + 1);
    }
  });

  it("keeps ids, key ids and fingerprints readable around a masked value", () => {
    const out = sanitizeErrorMessage(
      new Error(
        'exchange removeKey k-1 on account acct-main: HTTP 401 {"keyId":"k-1","secret":"a b c","fingerprint":"fp1_0123456789abcdef"}',
      ),
    );

    expect(out).toBe(
      'Error: exchange removeKey k-1 on account acct-main: HTTP 401 {"keyId":"k-1","secret":***,"fingerprint":"fp1_0123456789abcdef"}',
    );
  });

  it("cuts before a mask rather than through it", () => {
    const out = sanitizeErrorMessage("secret=abcdefgh and more", 8);

    expect(out).toBe("secret=…");
  });
});

describe("sanitizeErrorMessage on a huge message", () => {
  it("scrubs a bounded window and masks a secret the window cuts through to the end", () => {
    const secret = "sk_live_0123456789abcdef0123456789abcdef";
    // Masks shrink what comes before, so text past the window would fit under the limit.
    const shrinking = `password="${"q".repeat(500)}" `.repeat(15);
    for (const at of [8150, 8170, 8180, 8185, 8190, 8200]) {
      const pad = "y".repeat(at - shrinking.length);
      const message = `${shrinking}${pad} secret="${secret} with spaces" and ${"z".repeat(100_000)}`;

      const out = sanitizeErrorMessage(message, 2000);

      expect(leakedPieces(out, secret), `at ${at}`).toEqual([]);
      expect(out.endsWith("…")).toBe(true);
      expect(out.length).toBeLessThanOrEqual(2001);
    }
  });
});
