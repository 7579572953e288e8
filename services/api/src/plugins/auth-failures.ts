/**
 * Failed authentications per client address in fixed one-minute windows. The auth hook asks
 * `blocked` before it looks at the presented key, so once an address has used up its failures
 * every further request from it gets 429 without a key comparison: guessing costs a window per
 * `limit` tries. Memory is bounded: past `maxAddresses` the address seen longest ago is forgotten.
 */
export class FailureWindows {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly maxAddresses = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the address may try again, or 0 when it is not blocked. */
  blocked(address: string): number {
    const w = this.windows.get(address);
    if (!w) return 0;
    const left = w.resetAt - this.now();
    if (left <= 0) {
      this.windows.delete(address);
      return 0;
    }
    return w.count >= this.limit ? Math.ceil(left / 1000) : 0;
  }

  record(address: string): void {
    const t = this.now();
    const w = this.windows.get(address);
    if (w && w.resetAt > t) {
      w.count++;
      return;
    }
    this.windows.delete(address);
    this.windows.set(address, { count: 1, resetAt: t + this.windowMs });
    if (this.windows.size > this.maxAddresses) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
  }
}
