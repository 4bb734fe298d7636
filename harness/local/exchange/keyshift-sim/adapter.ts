import * as z from "zod/mini";
import {
  describeNetworkError,
  type ExchangeErrorDetail,
  fieldPaths,
  isTimeout,
  parseJsonOrUndefined as parseJson,
  ResponseTooLargeError,
  readBoundedText,
  resolveUrl,
  scrub,
} from "../../../../src/adapters/exchange/http";
import {
  ExchangeKeyNotFoundError,
  ExchangePermanentError,
  ExchangeRetryableError,
  safeExchangeCode,
  sanitizeErrorMessage,
} from "../../../../src/core/errors";
import type {
  CreatedExchangeKey,
  CreateKeyInput,
  Exchange,
  ExchangeCapabilities,
  ExchangeKey,
  ExchangeKeyCredential,
} from "../../../../src/core/ports/exchange";
import { signatureHeaders } from "./signing";

export type { ExchangeErrorDetail };

/** Where and as whom to manage an account's keys. Comes from the per-account admin secret. */
export interface ExchangeAdminCredential {
  endpoint: string;
  keyId: string;
  secret: string;
}

export type AdminCredentialSource = (account: string) => Promise<ExchangeAdminCredential>;

export interface SignedFetchOptions {
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * One signed call to the exchange with `credential` (admin or trading key). Returns the raw
 * response; a network failure or timeout rejects as `fetch` does. Consumers (simulated trading
 * services) use it for `GET /v1/account`.
 */
export async function signedFetch(
  credential: ExchangeAdminCredential,
  method: string,
  path: string,
  body?: unknown,
  opts: SignedFetchOptions = {},
): Promise<Response> {
  const url = resolveUrl(credential.endpoint, path);
  const payload = body === undefined ? "" : JSON.stringify(body);
  const upper = method.toUpperCase();
  const headers: Record<string, string> = signatureHeaders(
    credential,
    upper,
    url.pathname + url.search,
    payload,
  );
  if (payload) headers["content-type"] = "application/json";
  const doFetch = opts.fetchImpl ?? fetch;
  return doFetch(url, {
    method: upper,
    headers,
    ...(payload ? { body: payload } : {}),
    signal: AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
  });
}

const keySchema = z.object({
  keyId: z.string(),
  label: z.string(),
  permissions: z.array(z.string()),
  status: z.enum(["active", "disabled"]),
  createdAt: z.string(),
  lastUsedAt: z.optional(z.string()),
});
const createdKeySchema = z.extend(keySchema, { secret: z.string().check(z.minLength(1)) });
const listSchema = z.object({
  account: z.string(),
  keys: z.array(keySchema),
  maxActiveKeys: z.int().check(z.positive()),
});
/** The exchange's own answer to a removal; anything else on a 2xx (a login page, `{"ok":true}`) is not one. */
const removedSchema = z.object({ keyId: z.string(), status: z.literal("removed") });
/** The exchange's own "no such key" code: a 404 without it is a proxy's, a wrong path's or a wrong account's. */
const NOT_FOUND_CODE = "KEY_NOT_FOUND";
const accountSchema = z.object({ account: z.string(), keyId: z.string(), permissions: z.array(z.string()) });
const errorSchema = z.object({
  error: z.object({ code: z.optional(z.string()), message: z.optional(z.string()) }),
});

interface CallContext {
  operation: string;
  account: string;
  /** Every secret involved in the call, scrubbed from anything the exchange echoes back. */
  secrets: string[];
}

type CallResult =
  | { ok: true; status: number; json: unknown }
  | { ok: false; notFound: true; message: string; code: string | undefined };

/**
 * The `Exchange` port over the exchange's signed HTTP API.
 *
 * Classification: network error, timeout, 5xx and 429 → `ExchangeRetryableError`; a 404 carrying
 * the exchange's own `KEY_NOT_FOUND` → `"not-found"` on remove (`ExchangeKeyNotFoundError`
 * elsewhere), any other 404 (a proxy's HTML, a wrong path, a wrong account) and any other 4xx →
 * `ExchangePermanentError`; a 2xx on remove counts only with the exchange's removal answer, and a
 * listing only for the account asked for. A timeout on a mutating call is ambiguous (the exchange
 * may have acted): the core confirms every removal with a listing (`core/revocation/through-ledger.ts`).
 */
export class HttpExchange implements Exchange {
  private readonly credentials: AdminCredentialSource;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch | undefined;

  constructor(opts: { credentials: AdminCredentialSource; timeoutMs?: number; fetchImpl?: typeof fetch }) {
    this.credentials = opts.credentials;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetchImpl = opts.fetchImpl;
  }

  /** keyshift's own test protocol: disable exists but no enable, so revocation is one-stage here. */
  async capabilities(): Promise<ExchangeCapabilities> {
    return { exchange: "keyshift-sim", disable: false, limitCounts: "active" };
  }

  async createKey(account: string, input: CreateKeyInput): Promise<CreatedExchangeKey> {
    const admin = await this.credentials(account);
    const ctx = { operation: "createKey", account, secrets: [admin.secret] };
    const body = { label: input.label, permissions: input.permissions };
    const json = found(await this.call(ctx, admin, "POST", "/v1/keys", body));
    return this.parse(ctx, createdKeySchema, json);
  }

  async listKeys(account: string): Promise<{ keys: ExchangeKey[]; maxActiveKeys: number }> {
    const admin = await this.credentials(account);
    const ctx = { operation: "listKeys", account, secrets: [admin.secret] };
    const json = found(await this.call(ctx, admin, "GET", "/v1/keys"));
    const listing = this.parse(ctx, listSchema, json);
    if (listing.account !== account) {
      // A listing of another account would "confirm" any removal: refuse it outright.
      throw new ExchangePermanentError(
        scrub(
          `exchange listKeys on account ${account}: the admin credential lists account ${listing.account}; fix the admin secret`,
          ctx.secrets,
        ),
      );
    }
    return { keys: listing.keys, maxActiveKeys: listing.maxActiveKeys };
  }

  async verifyKey(account: string, key: ExchangeKeyCredential): Promise<void> {
    const admin = await this.credentials(account);
    const ctx = { operation: `verifyKey ${key.keyId}`, account, secrets: [admin.secret, key.secret] };
    const signer = { endpoint: admin.endpoint, keyId: key.keyId, secret: key.secret };
    const json = found(await this.call(ctx, signer, "GET", "/v1/account"));
    const who = this.parse(ctx, accountSchema, json);
    if (who.keyId !== key.keyId || who.account !== account) {
      throw new ExchangePermanentError(
        scrub(
          `exchange verifyKey on account ${account}: key ${key.keyId} authenticated as key ${who.keyId} of account ${who.account}`,
          ctx.secrets,
        ),
      );
    }
  }

  async disableKey(account: string, keyId: string): Promise<void> {
    const admin = await this.credentials(account);
    const ctx = { operation: `disableKey ${keyId}`, account, secrets: [admin.secret] };
    const path = `/v1/keys/${encodeURIComponent(keyId)}/disable`;
    found(await this.call(ctx, admin, "POST", path));
  }

  async enableKey(account: string, keyId: string): Promise<void> {
    throw new ExchangePermanentError(
      `exchange enableKey ${keyId} on account ${account}: keyshift's test protocol has no enable; nothing was changed`,
    );
  }

  async removeKey(account: string, keyId: string): Promise<"removed" | "not-found"> {
    const admin = await this.credentials(account);
    const ctx = { operation: `removeKey ${keyId}`, account, secrets: [admin.secret] };
    const result = await this.call(ctx, admin, "DELETE", `/v1/keys/${encodeURIComponent(keyId)}`);
    if (!result.ok) {
      if (result.code === NOT_FOUND_CODE) return "not-found";
      throw new ExchangePermanentError(
        `${result.message} (a 404 without the exchange's ${NOT_FOUND_CODE}: a proxy, a wrong path or a wrong account; not counted as removed)`,
        404,
      );
    }
    const answer = removedSchema.safeParse(result.json);
    if (!answer.success || answer.data.keyId !== keyId) {
      throw new ExchangePermanentError(
        `exchange removeKey ${keyId} on account ${account}: HTTP ${result.status} without the exchange's removal answer; not counted as removed`,
      );
    }
    return "removed";
  }

  private async call(
    ctx: CallContext,
    credential: ExchangeAdminCredential,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<CallResult> {
    const where = `exchange ${ctx.operation} on account ${ctx.account}`;
    let response: Response;
    let text: string;
    try {
      response = await signedFetch(credential, method, path, body, {
        timeoutMs: this.timeoutMs,
        ...(this.fetchImpl ? { fetchImpl: this.fetchImpl } : {}),
      });
      text = await readBoundedText(response, where);
    } catch (err) {
      if (err instanceof ResponseTooLargeError) throw err;
      if (isTimeout(err)) {
        throw new ExchangeRetryableError(`${where}: no answer within ${this.timeoutMs} ms`);
      }
      // The cause stays for debugging; fetch errors carry the URL and socket errno, never headers.
      const reason = sanitizeErrorMessage(this.scrub(ctx, describeNetworkError(err)), 200);
      throw new ExchangeRetryableError(`${where}: network error: ${reason}`, undefined, { cause: err });
    }
    if (response.ok) return { ok: true, status: response.status, json: parseJson(text) };

    const detail = errorSchema.safeParse(parseJson(text));
    // The code is the exchange's word only in shape: an echo of the request must not reach a message.
    const rawCode = detail.success ? detail.data.error.code : undefined;
    const code = rawCode === undefined ? undefined : safeExchangeCode(rawCode, ctx.secrets);
    const exchangeMessage = detail.success ? (detail.data.error.message ?? "") : "";
    const safe = sanitizeErrorMessage(this.scrub(ctx, exchangeMessage), 300);
    const message = `${where}: HTTP ${response.status}${code ? ` ${code}` : ""}${safe ? `: ${safe}` : ""}`;
    const status = response.status;

    if (status === 404) return { ok: false, notFound: true, message, code };
    if (status === 429 || status >= 500) {
      const retryAfter = Number(response.headers.get("retry-after"));
      throw withDetail(new ExchangeRetryableError(message, status), {
        ...(code ? { exchangeCode: code } : {}),
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
      });
    }
    throw withDetail(new ExchangePermanentError(message, status), code ? { exchangeCode: code } : {});
  }

  private parse<T>(ctx: CallContext, schema: z.ZodMiniType<T>, json: unknown): T {
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      // Only field paths, never values: the body of a createKey response holds a secret.
      const fields = fieldPaths(parsed.error.issues, ctx.secrets);
      throw new ExchangePermanentError(
        `exchange ${ctx.operation} on account ${ctx.account}: unexpected response shape (${fields})`,
      );
    }
    return parsed.data;
  }

  private scrub(ctx: CallContext, text: string): string {
    return scrub(text, ctx.secrets);
  }
}

function found(result: CallResult): unknown {
  if (result.ok) return result.json;
  throw new ExchangeKeyNotFoundError(result.message);
}

function withDetail<E extends Error>(err: E, detail: ExchangeErrorDetail): E & ExchangeErrorDetail {
  return Object.assign(err, detail);
}
