/**
 * Kraken's nonce: "always increasing, unsigned 64-bit integer", kept per API key by Kraken (a
 * nonce not above the key's highest one is refused with `EAPI:Invalid nonce`, unless it falls
 * inside the key's "nonce window"). The guide recommends the UNIX time in milliseconds.
 *
 * Milliseconds on purpose: keyshift signs with a key that a consumer also signs with (the new key
 * before handover, the old one when proving it is gone). A nonce on a larger scale (µs, ns) would
 * lift the key's highest nonce above the consumer's millisecond nonces and lock the consumer out
 * until its clock caught up; milliseconds match the guide and the common clients (krakenex,
 * ccxt). Within one process two calls in the same millisecond still get increasing nonces.
 */
export class MonotonicNonce {
  private last = 0;

  constructor(private readonly nowMs: () => number = Date.now) {}

  next(): string {
    const now = Math.floor(this.nowMs());
    this.last = now > this.last ? now : this.last + 1;
    return String(this.last);
  }
}

/** One per process: every Kraken call of this Lambda draws from it, whichever key signs. */
export const processNonce = new MonotonicNonce();
