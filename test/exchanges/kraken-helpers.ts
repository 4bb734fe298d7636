import { krakenSignature, krakenSignedRequest } from "../../src/adapters/exchange/kraken/signing";

export const FULL_TRADING = [
  "query-funds",
  "query-open-trades",
  "query-closed-trades",
  "modify-trades",
  "close-trades",
];

export interface RawAnswer {
  status: number;
  body: { error?: string[]; result?: Record<string, unknown> } | string;
}

/** One private call signed as Kraken's guide says, or tampered with through `tamper`. */
export async function rawKrakenCall(
  sim: { url: string },
  key: { keyId: string; secret: string },
  method: string,
  nonce: string | number,
  opts: {
    fetchImpl?: typeof fetch;
    signature?: string;
    params?: Record<string, string>;
    json?: boolean;
  } = {},
): Promise<RawAnswer> {
  const uriPath = `/0/private/${method}`;
  let headers: Record<string, string>;
  let body: string;
  if (opts.json) {
    body = JSON.stringify({ nonce: Number(nonce), ...opts.params });
    headers = {
      "API-Key": key.keyId,
      "API-Sign": krakenSignature(key.secret, { uriPath, nonce: String(nonce), postData: body }),
      "content-type": "application/json",
    };
  } else {
    ({ headers, body } = krakenSignedRequest(
      { apiKey: key.keyId, secret: key.secret },
      uriPath,
      String(nonce),
      opts.params,
    ));
  }
  if (opts.signature !== undefined) headers["API-Sign"] = opts.signature;
  const res = await (opts.fetchImpl ?? fetch)(`${sim.url}${uriPath}`, { method: "POST", headers, body });
  const text = await res.text();
  let parsed: RawAnswer["body"];
  try {
    parsed = JSON.parse(text) as RawAnswer["body"];
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed };
}
