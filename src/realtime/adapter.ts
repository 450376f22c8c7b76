/**
 * The one place that chooses the Socket.IO adapter. Everything else emits to rooms and never
 * depends on which adapter carries them.
 * - `bun`: room broadcasts published once through Bun's native WebSocket pub/sub (fanout/); the
 *   stock adapter, with a log saying why, when its start-up self-test fails;
 * - `memory`: socket.io's stock in-memory adapter;
 * - `redis-streams` (several nodes): @socket.io/redis-streams-adapter, which also keeps connection
 *   state recovery across nodes (sessions and missed broadcasts live in Redis, within the stream's
 *   length); `redis`: @socket.io/redis-adapter (pub/sub: no recovery across nodes).
 * The native fan-out composes with both: a cluster adapter sends each broadcast to the other nodes
 * through Redis, and every node delivers it to its own sockets through Bun's pub/sub. Each adapter
 * runs stock, with a log saying why, when the self-test fails for it.
 */
import type { Server as Engine } from "@socket.io/bun-engine";
import type { ServerOptions } from "socket.io";
import { Adapter, type Adapter as AdapterInstance, SessionAwareAdapter } from "socket.io-adapter";
import type { RedisLink } from "../cluster/redis";
import type { Config } from "../config";
import type { Logger } from "../observability/logger";
import { withNativeFanout } from "./fanout/adapter";
import { linkEngine } from "./fanout/engine";
import { fanoutUnsupported } from "./fanout/self-test";

/**
 * The cluster adapters, loaded only when REDIS_URL asks for them: they (and the Redis client) cost a
 * single-node process start-up time and memory for nothing.
 */
export async function loadClusterAdapters() {
  const [streams, pubsub] = await Promise.all([
    import("@socket.io/redis-streams-adapter"),
    import("@socket.io/redis-adapter"),
  ]);
  return { streams: streams.createAdapter, pubsub: pubsub.createAdapter };
}
export type ClusterAdapters = Awaited<ReturnType<typeof loadClusterAdapters>>;

export interface AdapterDeps {
  engine: Engine;
  /** Connection state recovery is on: the adapter keeps broadcasts for replay (SessionAwareAdapter). */
  recovery: boolean;
  log: Logger;
  /** Several nodes (REDIS_URL): the Redis connection and the loaded cluster adapters. */
  cluster?: { redis: RedisLink; adapters: ClusterAdapters } | undefined;
  /** redis-streams: entries kept in the stream (REDIS_STREAM_MAX_LEN). */
  streamMaxLen?: number;
  /** How long a request to every node waits for answers (CLUSTER_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** Whether every socket is on this node with this adapter (the delivery port then reads lists and counts locally). */
export const isSingleNode = (choice: Config["socket"]["adapter"]): boolean => choice === "memory" || choice === "bun";

type Namespace = ConstructorParameters<typeof Adapter>[0];
type AdapterFactory = (nsp: Namespace) => AdapterInstance;
type FanoutChoice = Exclude<Config["socket"]["adapter"], "memory">;

/** The `adapter` option of `new Server()`; undefined leaves socket.io's default (stock, session-aware with recovery). */
export function socketAdapter(
  choice: Config["socket"]["adapter"],
  { engine, recovery, log, cluster, streamMaxLen = 10_000, timeoutMs = 5000 }: AdapterDeps,
): ServerOptions["adapter"] | undefined {
  /** `make` with Bun's pub/sub for room broadcasts, or `make` alone when the self-test fails for `choice`. */
  const fanout = (kind: FanoutChoice, make: AdapterFactory): AdapterFactory | undefined => {
    const unsupported = fanoutUnsupported(kind);
    if (unsupported) {
      log.warn({ event: "socket_adapter", adapter: choice, reason: unsupported }, "native fan-out off: stock delivery");
      return undefined;
    }
    const link = linkEngine(engine);
    // socket.io calls `new adapter(nsp)`: a plain function, not an arrow, returning the adapter.
    return function nativeFanout(nsp: Namespace) {
      return withNativeFanout(make(nsp), link);
    };
  };
  switch (choice) {
    case "redis-streams":
    case "redis": {
      if (!cluster) throw new Error(`SOCKET_ADAPTER=${choice} needs a Redis connection (REDIS_URL)`);
      const { redis, adapters } = cluster;
      const key = `${redis.prefix}:socket.io`;
      const make: AdapterFactory =
        choice === "redis-streams"
          ? adapters.streams(redis.client, {
              streamName: key,
              channelPrefix: key,
              sessionKeyPrefix: `${redis.prefix}:sio:session:`,
              maxLen: streamMaxLen,
            })
          : adapters.pubsub(redis.client, redis.subscriber, { key, requestsTimeout: timeoutMs });
      const withFanout = fanout(choice, make);
      log.info(
        { event: "socket_adapter", adapter: choice, native: withFanout !== undefined },
        "room broadcasts across nodes through Redis",
      );
      return (withFanout ?? make) as ServerOptions["adapter"];
    }
    case "memory":
      return undefined;
    case "bun": {
      const Stock = recovery ? SessionAwareAdapter : Adapter;
      const withFanout = fanout(choice, (nsp) => new Stock(nsp));
      if (withFanout) log.info({ event: "socket_adapter", adapter: "bun" }, "room broadcasts through Bun's pub/sub");
      return withFanout as ServerOptions["adapter"];
    }
  }
}
