/**
 * Opaque NextToken values. A token names the listing it belongs to and the sort key of the
 * last item returned, so items added or deleted between pages neither repeat nor make the
 * listing skip (a plain offset would).
 */
import { invalidNextToken } from "./errors";

interface Cursor {
  scope: string;
  after: string;
}

/** Fixed-width decimal so numeric keys compare correctly as strings. */
export const sortable = (n: number): string => Math.max(0, Math.trunc(n)).toString().padStart(16, "0");

function encodeToken(scope: string, after: string): string {
  return Buffer.from(JSON.stringify({ scope, after } satisfies Cursor), "utf8").toString("base64url");
}

function decodeToken(token: string | undefined, scope: string): string | undefined {
  if (token === undefined) return undefined;
  try {
    const cursor = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Partial<Cursor>;
    if (cursor.scope === scope && typeof cursor.after === "string") return cursor.after;
  } catch {
    // Falls through: any token not issued for this listing is invalid.
  }
  throw invalidNextToken();
}

export interface PageRequest {
  /** Identifies the listing (operation, secret, filters); a token from another listing is refused. */
  scope: string;
  nextToken: string | undefined;
  maxResults: number;
  descending?: boolean;
}

/**
 * One page of `items`, ordered by their unique `key` (ascending unless `descending`), starting
 * after the token's cursor; `nextToken` is set when more items remain.
 */
export function paginate<T>(
  items: T[],
  key: (item: T) => string,
  request: PageRequest,
): { page: T[]; nextToken?: string } {
  const direction = request.descending ? -1 : 1;
  const ordered = items
    .map((item) => ({ item, key: key(item) }))
    .sort((a, b) => (a.key < b.key ? -direction : a.key > b.key ? direction : 0));
  const after = decodeToken(request.nextToken, request.scope);
  const remaining =
    after === undefined
      ? ordered
      : ordered.filter((entry) => (request.descending ? entry.key < after : entry.key > after));
  const page = remaining.slice(0, request.maxResults);
  const last = page[page.length - 1];
  const result: { page: T[]; nextToken?: string } = { page: page.map((entry) => entry.item) };
  if (remaining.length > request.maxResults && last) result.nextToken = encodeToken(request.scope, last.key);
  return result;
}
