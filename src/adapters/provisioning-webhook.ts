import type { ProvisioningRecord } from "../core/operator/provisioning";

/**
 * Posts a provisioning record to the firm's tracker: one JSON `POST` to `url` (a generic webhook;
 * docs/deploy.md shows the payload and a GitHub Issues / Jira mapping), `content-type:
 * application/json`, `idempotency-key` header = the record's key. Any 2xx is success; anything else,
 * a timeout or a network error throws with the status or the error's name — never the URL's query
 * (a token may ride in it) and never a body.
 */
export async function postProvisioningRecord(
  url: string,
  record: ProvisioningRecord,
  opts: { timeoutMs?: number; fetchImpl?: typeof fetch } = {},
): Promise<{ status: number }> {
  const target = new URL(url);
  if (target.protocol !== "https:" && !["127.0.0.1", "localhost", "[::1]"].includes(target.hostname)) {
    throw new Error(`the provisioning webhook must be https (got ${target.protocol}//${target.host})`);
  }
  const where = `${target.protocol}//${target.host}${target.pathname}`;
  let response: Response;
  try {
    response = await (opts.fetchImpl ?? fetch)(target, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": record.idempotencyKey },
      body: JSON.stringify(record),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
    });
  } catch (err) {
    throw new Error(`provisioning webhook ${where} did not answer: ${(err as Error).name}`);
  }
  await response.body?.cancel();
  if (response.status < 200 || response.status > 299) {
    throw new Error(`provisioning webhook ${where} answered HTTP ${response.status}`);
  }
  return { status: response.status };
}
