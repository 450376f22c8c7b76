/**
 * Per-key fixed-window rate limit (seed 000: 100 requests a minute, then 429; after `ban` refused
 * requests in the same window, 403 until the window ends).
 */
export interface RateLimitOptions {
  max: number;
  windowMs: number;
  /** Refused requests tolerated in a window before the key is banned for the rest of it; 0: never ban. */
  ban: number;
}

export type RateLimitVerdict =
  | { allowed: true; remaining: number; resetMs: number }
  | { allowed: false; banned: boolean; retryAfterMs: number };

interface Window {
  start: number;
  count: number;
}

export function createRateLimiter(opts: RateLimitOptions, now: () => number = Date.now) {
  const windows = new Map<string, Window>();
  let lastSweep = now();

  function sweep(t: number) {
    if (t - lastSweep < opts.windowMs) return;
    lastSweep = t;
    for (const [key, w] of windows) if (t - w.start >= opts.windowMs) windows.delete(key);
  }

  return {
    hit(key: string): RateLimitVerdict {
      const t = now();
      sweep(t);
      let w = windows.get(key);
      if (!w || t - w.start >= opts.windowMs) {
        w = { start: t, count: 0 };
        windows.set(key, w);
      }
      w.count++;
      const resetMs = w.start + opts.windowMs - t;
      if (w.count <= opts.max) return { allowed: true, remaining: opts.max - w.count, resetMs };
      const refused = w.count - opts.max;
      return { allowed: false, banned: opts.ban > 0 && refused > opts.ban, retryAfterMs: resetMs };
    },
    get size() {
      return windows.size;
    },
  };
}
