/**
 * A token bucket: `burst` tokens, refilled at `ratePerSecond`. Each event takes one; an empty
 * bucket refuses. Refusals are counted over the last minute, so persistent abuse can be told apart
 * from a burst.
 */
export function createTokenBucket(opts: { ratePerSecond: number; burst: number }, now: () => number = Date.now) {
  let tokens = opts.burst;
  let last = now();
  const refusedAt: number[] = [];
  return {
    /** true: allowed (a token was taken). */
    take(): boolean {
      const t = now();
      tokens = Math.min(opts.burst, tokens + ((t - last) / 1000) * opts.ratePerSecond);
      last = t;
      if (tokens >= 1) {
        tokens -= 1;
        return true;
      }
      refusedAt.push(t);
      while (refusedAt.length > 0 && (refusedAt[0] as number) <= t - 60_000) refusedAt.shift();
      return false;
    },
    /** Refusals in the last minute. */
    get refusedLastMinute() {
      const t = now();
      while (refusedAt.length > 0 && (refusedAt[0] as number) <= t - 60_000) refusedAt.shift();
      return refusedAt.length;
    },
  };
}
