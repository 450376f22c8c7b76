/**
 * Per-key fixed-window rate limit (seed 000: 100 requests a minute, then 429; after `ban` refused
 * requests in the same window, 403 until the window ends). A hit may cost more than one (each call
 * of a tRPC batch counts); a hit that does not fit is refused whole and spends nothing.
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
  /** Units spent (requests, or calls of a batch). */
  count: number;
  /** Requests refused in this window. */
  refused: number;
}

export function createRateLimiter(opts: RateLimitOptions, now: () => number = Date.now) {
  const windows = new Map<string, Window>();
  let lastSweep = now();

  function sweep(t: number) {
    if (t - lastSweep < opts.windowMs) return;
    lastSweep = t;
    for (const [key, w] of windows) if (t - w.start >= opts.windowMs) windows.delete(key);
  }

  const isBanned = (w: Window) => opts.ban > 0 && w.refused > opts.ban;

  return {
    hit(key: string, cost = 1): RateLimitVerdict {
      const t = now();
      sweep(t);
      let w = windows.get(key);
      if (!w || t - w.start >= opts.windowMs) {
        w = { start: t, count: 0, refused: 0 };
        windows.set(key, w);
      }
      const resetMs = w.start + opts.windowMs - t;
      if (!isBanned(w) && w.count + cost <= opts.max) {
        w.count += cost;
        return { allowed: true, remaining: opts.max - w.count, resetMs };
      }
      w.refused++;
      return { allowed: false, banned: isBanned(w), retryAfterMs: resetMs };
    },
    /** Banned for the rest of the current window (other transports refuse it too). */
    isBanned(key: string): boolean {
      const w = windows.get(key);
      return w !== undefined && now() - w.start < opts.windowMs && isBanned(w);
    },
    get size() {
      return windows.size;
    },
  };
}
