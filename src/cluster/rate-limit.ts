/**
 * The HTTP rate limit shared by every node (RATE_LIMIT_STORE=redis): the same fixed-window rule as
 * `domain/limits/rate-limit.ts`, counted in Redis by one script per hit (atomic across nodes).
 * Windows are aligned to the clock (every node agrees where one starts). When Redis does not answer,
 * the request is allowed and the outage logged once: a Redis blip must not take the API down.
 */
import type { RateLimitOptions, RateLimitVerdict } from "../domain/limits/rate-limit";
import type { Logger } from "../observability/logger";
import type { RedisLink } from "./redis";

// KEYS[1] the window's hash; ARGV: max, cost, ban, ttl ms. Returns { allowed, count, banned }.
const HIT = `
local count = tonumber(redis.call('HGET', KEYS[1], 'c') or '0')
local refused = tonumber(redis.call('HGET', KEYS[1], 'r') or '0')
local max, cost, ban, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if not (ban > 0 and refused > ban) and count + cost <= max then
  count = redis.call('HINCRBY', KEYS[1], 'c', cost)
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {1, count, 0}
end
refused = redis.call('HINCRBY', KEYS[1], 'r', 1)
redis.call('PEXPIRE', KEYS[1], ttl)
if ban > 0 and refused > ban then return {0, count, 1} end
return {0, count, 0}
`;

export function createRedisRateLimiter(
  opts: RateLimitOptions,
  redis: RedisLink,
  name: string,
  log: Logger,
  now: () => number = Date.now,
) {
  /** Keys this node saw banned, until their window ends (Socket.IO admission asks synchronously). */
  const banned = new Map<string, number>();
  let failing = false;

  return {
    async hit(key: string, cost = 1): Promise<RateLimitVerdict> {
      const t = now();
      const start = Math.floor(t / opts.windowMs) * opts.windowMs;
      const resetMs = start + opts.windowMs - t;
      try {
        const [allowed, count, isBanned] = (await redis.client.eval(HIT, {
          keys: [`${redis.prefix}:ratelimit:${name}:${key}:${start}`],
          arguments: [String(opts.max), String(cost), String(opts.ban), String(opts.windowMs)],
        })) as [number, number, number];
        failing = false;
        if (allowed === 1) return { allowed: true, remaining: opts.max - count, resetMs };
        if (isBanned === 1) banned.set(key, start + opts.windowMs);
        return { allowed: false, banned: isBanned === 1, retryAfterMs: resetMs };
      } catch (error) {
        if (!failing)
          log.error(
            { event: "rate_limit_store_down", err: (error as Error).message },
            "Redis rate limit unavailable: allowing requests",
          );
        failing = true;
        return { allowed: true, remaining: opts.max, resetMs };
      }
    },
    isBanned(key: string): boolean {
      const until = banned.get(key);
      if (until === undefined) return false;
      if (now() < until) return true;
      banned.delete(key);
      return false;
    },
  };
}
