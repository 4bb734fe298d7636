/**
 * Errors are the state machine's API: ASL `Retry`/`Catch` match on `name`, so every failure
 * has its own class with a stable name. Messages carry ids, key ids and fingerprints only —
 * never a secret value (see `sanitizeErrorMessage`).
 */
export class KeyshiftError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input to a step or an endpoint failed validation. Not retryable. */
export class InvalidInputError extends KeyshiftError {}

/** Another rotation holds the per-secret lock. */
export class RotationInProgressError extends KeyshiftError {}

/** The exchange already holds its maximum of active keys; names the unrevoked key and its ledger status. */
export class ExchangeKeyLimitError extends KeyshiftError {}

/**
 * The key to be replaced is bound to IPs that do not let keyshift's egress in: the new key would
 * copy that binding and could not be verified. Refused before anything is created; names the
 * missing IPs and the fix.
 */
export class EgressNotBoundError extends KeyshiftError {}

/** The secret is not enrolled (no settings row). */
export class SecretNotEnrolledError extends KeyshiftError {}

/** The secret's versions/labels are not in a state this step can act on. */
export class RotationStateError extends KeyshiftError {}

/** A freshly created key did not authenticate against the exchange (the `testSecret` step). */
export class KeyVerificationFailedError extends KeyshiftError {}

/** RevokePrevious re-checked the gate and a consumer is not on current any more: wait again. */
export class ConsumersNotReadyError extends KeyshiftError {}

/** A revocation on the exchange failed; the ledger entry records the attempt. */
export class RevocationFailedError extends KeyshiftError {}

/**
 * A revocation was refused by the core's own rule (I1): the key is current or pending again, or
 * the records it is judged against are missing. Not retryable: the workflow parks for an operator.
 */
export class RevocationRefusedError extends KeyshiftError {}

/** The exchange answered with something worth retrying (5xx, 429, timeout, network). */
export class ExchangeRetryableError extends KeyshiftError {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The exchange accepts each 2FA (TOTP) code once and this 30-second window's code is spent: the
 * call needs the next window. Thrown instead of sleeping inside a Lambda's timeout; the state
 * machine's Retry waits the window out (`TotpWindowError`, 30 s, no jitter) and calls again.
 */
export class TotpWindowError extends ExchangeRetryableError {}

/** The exchange refused in a way a retry will not fix (4xx other than 404/429). */
export class ExchangePermanentError extends KeyshiftError {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The exchange refused the caller's address: the key's IP binding does not let keyshift's egress
 * in (Bybit retCode 10010, Deribit's and OKX's IP-whitelist errors). Permanent until a person adds
 * the egress IPs to the binding; the hygiene audit reports it as such.
 */
export class ExchangeIpRefusedError extends ExchangePermanentError {}

/** The exchange has no such key. Revocation treats this as done. */
export class ExchangeKeyNotFoundError extends KeyshiftError {}

/** A heartbeat's caller is not registered for the secret. Mapped to HTTP 403. */
export class PrincipalNotAllowedError extends KeyshiftError {}

/** An operator action that makes no sense in the current state (e.g. rollback after revocation). */
export class OperatorActionRejectedError extends KeyshiftError {}

/**
 * An approval, denial or sign-off the two-person rule refuses: by the principal that opened the
 * request, on a request no longer waiting (approved, executed, denied, expired), or unknown.
 */
export class ApprovalRefusedError extends KeyshiftError {}

/** The audit chain does not verify. */
export class AuditChainBrokenError extends KeyshiftError {}

/**
 * The read policy the registry calls for would pass Secrets Manager's 20,480-character limit on a
 * resource policy. Nothing is written: the registration that would need it is refused.
 */
export class ReadPolicyTooLargeError extends KeyshiftError {}

/**
 * The read policy on a secret still differs from the registry after every pass of a sync (the
 * registry kept changing, or another writer kept putting an older policy): the change that asked
 * for the sync did not take full effect, e.g. a removed consumer's role can still read.
 */
export class ReadPolicyOutOfSyncError extends KeyshiftError {}

/** keyshift's own configuration is missing or wrong; the message names the variable and the fix. */
export class ConfigurationError extends KeyshiftError {}

/**
 * Where a secret value starts: after a key naming one (`secret`, `secret_key`, `apiSecret`,
 * `client_secret`, `password`, `passphrase`, `private_key`, `access_token`, `signature`, `sign`,
 * `sig`, `X-BAPI-SIGN`, `Authorization`, ...; bare, quoted, or quoted inside escaped JSON) and its
 * `:` or `=`; or after an HTTP auth scheme (`Bearer`, `deri-hmac-sha256`, ...). Matching starts at
 * the word, not at the start of the key, so no leading `[\w]*` can backtrack. Over-matching
 * (`design=`) costs one readable word; under-matching costs a key.
 */
const SECRET_START =
  /(?:secret|passw(?:or)?d|passphrase|pwd|token|sig|private[_-]?key|credential|auth|cookie)[\w.-]*(?:\\*["'])?\s*[:=]\s*|\b(?:bearer|basic|digest|deri-hmac-sha256)[ \t]+/gi;
/** An `Authorization` value without quotes runs to the end of the line (`Digest a="x", b="y"`). */
const AUTHORIZATION = /authorization/i;
/** A bare value ends at whitespace or at a separator of the text around it. */
const BARE_END = /[\s,;&}\])"'\\]/;
const MASK = "***";
/** Scrubbing is linear, but a megabyte of text is never worth it: far past any limit, cut first. */
const MIN_SCRUB_WINDOW = 8192;

/**
 * Trims an error message to something safe for a ledger, an audit entry or a log: every value that
 * looks secret masked, then bounded length. Adapters already avoid putting values in messages;
 * this is the second belt.
 *
 * Order matters: the whole message is scrubbed first (a secret is recognised by its key, which a
 * cut could separate from it), then cut; the cut never lands inside a mask. A value that reaches
 * the end of the text (an unterminated quote, a bare value at the end) is masked to the end, so
 * even the bounded window scrubbed for a huge message cannot leave the start of a secret.
 */
export function sanitizeErrorMessage(err: unknown, maxLength = 300): string {
  const raw = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const window = Math.max(MIN_SCRUB_WINDOW, 4 * maxLength);
  const { text, masks } = scrubSecrets(raw.length > window ? raw.slice(0, window) : raw);
  if (text.length <= maxLength && raw.length <= window) return text;
  const inside = masks.find((m) => m.start < maxLength && maxLength < m.end);
  return `${text.slice(0, inside ? inside.start : maxLength)}…`;
}

/** `text` with every secret-looking value replaced by `***`, and where each mask landed. */
function scrubSecrets(input: string): { text: string; masks: Array<{ start: number; end: number }> } {
  const masks: Array<{ start: number; end: number }> = [];
  let text = "";
  let copied = 0;
  const start = new RegExp(SECRET_START.source, SECRET_START.flags);
  for (let m = start.exec(input); m; m = start.exec(input)) {
    const valueStart = m.index + m[0].length;
    const scheme = !/[:=]\s*$/.test(m[0]);
    const end = scheme ? bareEnd(input, valueStart) : valueEnd(input, valueStart, AUTHORIZATION.test(m[0]));
    if (end === valueStart) continue;
    text += input.slice(copied, valueStart);
    masks.push({ start: text.length, end: text.length + MASK.length });
    text += MASK;
    copied = end;
    start.lastIndex = end;
  }
  return { text: text + input.slice(copied), masks };
}

/** Where the value starting at `at` ends: a quoted string (at any JSON escaping depth) or a bare value. */
function valueEnd(text: string, at: number, authorization: boolean): number {
  let slashes = 0;
  while (text[at + slashes] === "\\") slashes++;
  const quote = text[at + slashes];
  if (quote === '"' || quote === "'") {
    // `"` is depth 0, `\"` depth 1 (JSON inside a JSON string), `\\\"` depth 2, ...
    const depth = Math.floor(Math.log2(slashes + 1));
    return quotedEnd(text, at + slashes + 1, depth, quote);
  }
  if (authorization) {
    const eol = text.slice(at).search(/[\r\n]/);
    return eol < 0 ? text.length : at + eol;
  }
  return bareEnd(text, at);
}

function bareEnd(text: string, at: number): number {
  const stop = text.slice(at).search(BARE_END);
  return stop < 0 ? text.length : at + stop;
}

/**
 * The index just past the closing quote of a string opened at escaping depth `depth`, reading
 * `text` from `at` with one level of `\x` escapes undone per depth. Unterminated: the end of text.
 */
function quotedEnd(text: string, at: number, depth: number, quote: string): number {
  const read = (i: number, d: number): { c: string; next: number } | undefined => {
    const c = text[i];
    if (c === undefined) return undefined;
    if (d === 0) return { c, next: i + 1 };
    const outer = read(i, d - 1);
    if (outer?.c !== "\\") return outer;
    return read(outer.next, d - 1);
  };
  let i = at;
  for (;;) {
    const r = read(i, depth);
    if (!r) return text.length;
    i = r.next;
    if (r.c === quote) return i;
    if (r.c === "\\") {
      const escaped = read(i, depth);
      if (!escaped) return text.length;
      i = escaped.next;
    }
  }
}

/** What an exchange's code is shown as when it does not have a code's shape (it may be an echo). */
export const UNSHOWN_CODE = "(code not shown)";
/** A code: an integer, or a short token of words (`KEY_LIMIT_EXCEEDED`, `tfa_code_not_matched`). */
const CODE_SHAPE = /^(?:-?\d{1,12}|[A-Za-z0-9_.-]{1,40})$/;
/** A run of letters and digits this long is no word of a code: it may be secret material. */
const MAX_CODE_RUN = 15;
/** A run mixing letters and digits longer than this (`a1B2c3D4e`) reads as a key, not a code. */
const MAX_MIXED_CODE_RUN = 8;

/**
 * An exchange's error code as it may appear in a message or on an error: codes are untrusted
 * input an exchange (or a proxy) may fill with an echo of the request, so only a strict shape is
 * kept — a safe integer, or a token of short words — and never one holding any of `secrets` (or a
 * 16-character piece of one); anything else is `UNSHOWN_CODE`. Known codes keep their text, so
 * callers that act on them still can.
 */
export function safeExchangeCode(code: unknown, secrets: readonly string[] = []): string {
  const text = typeof code === "number" ? (Number.isSafeInteger(code) ? String(code) : "") : code;
  if (typeof text !== "string" || !CODE_SHAPE.test(text)) return UNSHOWN_CODE;
  const runs = text.split(/[_.-]/);
  const suspicious = runs.some(
    (run) =>
      run.length > MAX_CODE_RUN ||
      (run.length > MAX_MIXED_CODE_RUN && /\d/.test(run) && /[A-Za-z]/.test(run)),
  );
  if (suspicious || maskSecrets(text, secrets) !== text) return UNSHOWN_CODE;
  return text;
}

/** How long a shared run must be to count as an echo of a secret (the leak oracles use the same). */
const ECHO_PIECE = 16;

/**
 * `text` with every occurrence of each of `secrets` — and every 16-character piece of one, so a
 * truncated or partly echoed secret goes too — replaced by `***`. For text an exchange sent back
 * (messages, reasons, ids) before it reaches any message: the caller knows which secrets the
 * call involved, the generic `sanitizeErrorMessage` cannot.
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const ranges: Array<[number, number]> = [];
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) {
      for (let at = text.indexOf(form); at >= 0; at = text.indexOf(form, at + 1))
        ranges.push([at, at + form.length]);
      if (form.length <= ECHO_PIECE) continue;
      const pieces = new Set<string>();
      for (let i = 0; i + ECHO_PIECE <= form.length; i++) pieces.add(form.slice(i, i + ECHO_PIECE));
      for (let i = 0; i + ECHO_PIECE <= text.length; i++)
        if (pieces.has(text.slice(i, i + ECHO_PIECE))) ranges.push([i, i + ECHO_PIECE]);
    }
  }
  if (ranges.length === 0) return text;
  ranges.sort((a, b) => a[0] - b[0]);
  let out = "";
  let cursor = 0;
  for (const [start, stop] of ranges) {
    if (start >= cursor) {
      out += text.slice(cursor, start) + MASK;
      cursor = stop;
    } else if (stop > cursor) {
      cursor = stop;
    }
  }
  return out + text.slice(cursor);
}
/**
 * `rotate --compromised` cannot get the compromised key dead in this state of the secret (an earlier
 * key that would make a new key the third cannot be revoked, a rollback is unfinished…): the message
 * says exactly why and what to run. Nothing of a running rotation was changed.
 */
export class EmergencyRefusedError extends KeyshiftError {}
