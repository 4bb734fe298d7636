import type { AuthFailureKind, EndpointClass, UsageCounter } from "./usage.js";

type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** How `wrapFetch` tells what a request was and whether the exchange refused its key. */
export interface UsageClassifier {
  /** The endpoint class of a request to the exchange; undefined: not counted (not an exchange call). */
  classify(url: URL, init: RequestInit | undefined): EndpointClass | undefined;
  /**
   * Whether the answer is an authentication failure, and which. Default: HTTP 401 `invalid-key`,
   * 403 `permission-denied`. Exchanges that answer 200 with an error code (Deribit, Bybit) need
   * their own; read the body from `response.clone()`, never the original.
   */
  authFailure?(response: Response): AuthFailureKind | undefined | Promise<AuthFailureKind | undefined>;
}

const byStatus = (response: Response): AuthFailureKind | undefined =>
  response.status === 401 ? "invalid-key" : response.status === 403 ? "permission-denied" : undefined;

/**
 * A fetch that counts what it sends to the exchange: each request the exchange answered (any
 * status) under its class, each authentication failure under its kind. A request that never got
 * an answer (network error, abort) is not counted: the exchange did not see it either — or cannot
 * say it did. The answer is returned untouched; counting never throws into the caller.
 */
export function usageFetch<F extends FetchLike>(
  fetchImpl: F,
  counter: UsageCounter,
  how: UsageClassifier,
): F {
  const wrapped = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await fetchImpl(input, init);
    try {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const cls = how.classify(url, init);
      if (cls) {
        counter.recordRequest(cls);
        const failure = await (how.authFailure ?? byStatus)(response);
        if (failure) counter.recordAuthFailure(failure);
      }
    } catch {
      // A classifier that throws costs its count, never the caller's answer.
    }
    return response;
  };
  return wrapped as F;
}
