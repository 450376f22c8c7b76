/**
 * The HTTP rate limit shared by every node (RATE_LIMIT_STORE=redis): the same fixed-window rule as
 * `domain/limits/rate-limit.ts`, counted in Redis by one script per hit (atomic across nodes).
 * Windows are aligned to the clock (every node agrees where one starts). When Redis does not answer,
 * the request is allowed and the outage logged once: a Redis blip must not take the API down.
 */
import type { RateLimitOptions, RateLimitVerdict } from "../domain/limits/rate-limit";
import type { Logger } from "../observability/logger";
import type { RedisLink } from "./redis";
import { within } from "./within";

const HIT_COMMAND = "switchboardRateLimitHit";
/** How long a hit waits for Redis before the request is allowed (a hung Redis must not hang the API). */
const HIT_TIMEOUT_MS = 1000;
/** allowed (1/0), the window's count, banned (1/0). */
type Hit = [number, number, number];

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
  // A script command: ioredis sends EVALSHA, and the script itself once when Redis does not have it.
  redis.client.defineCommand(HIT_COMMAND, { numberOfKeys: 1, lua: HIT });
  const client = redis.client as unknown as Record<typeof HIT_COMMAND, (...args: (string | number)[]) => Promise<Hit>>;
  const runHit = (...args: (string | number)[]) => client[HIT_COMMAND](...args);
  /** Keys this node saw banned, until their window ends (Socket.IO admission asks synchronously). */
  const banned = new Map<string, number>();
  let failing = false;

  return {
    async hit(key: string, cost = 1): Promise<RateLimitVerdict> {
      const t = now();
      const start = Math.floor(t / opts.windowMs) * opts.windowMs;
      const resetMs = start + opts.windowMs - t;
      try {
        // Not reachable: no command is queued behind the outage; a hung Redis is not waited for long.
        if (!redis.reachable) throw new Error("Redis unreachable");
        const windowKey = `${redis.prefix}:ratelimit:${name}:${key}:${start}`;
        const [allowed, count, isBanned] = await within(
          runHit(windowKey, opts.max, cost, opts.ban, opts.windowMs),
          HIT_TIMEOUT_MS,
        );
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
