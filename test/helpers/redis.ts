/**
 * The real Redis of this machine for tests of several nodes: one key prefix per test file, checked
 * reachable first (a clear failure, not a hang), and its keys dropped afterwards.
 */
import Redis from "ioredis";
import type { TestServer } from "./server";
import { until } from "./sink";

export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A prefix of its own for a test file's streams, channels and keys. */
export const redisPrefix = () => `switchboard-test-${crypto.randomUUID()}`;

/** Fails with a message saying what to do when Redis does not answer. */
export async function requireRedis(): Promise<void> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, retryStrategy: () => null, connectTimeout: 2000 });
  probe.on("error", () => {});
  try {
    await probe.connect();
    await probe.ping();
    await probe.quit();
  } catch {
    probe.disconnect();
    throw new Error(`Redis is not reachable at ${REDIS_URL} (set TEST_REDIS_URL): the cluster tests need it`);
  }
}

/** Removes every key of `prefix`. */
export async function dropRedisKeys(prefix: string): Promise<void> {
  const client = new Redis(REDIS_URL);
  client.on("error", () => {});
  for await (const keys of client.scanStream({ match: `${prefix}*`, count: 100 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) await client.del(...keys);
  }
  await client.quit();
}

/** The cluster size `/health` reports on a node. */
export const nodesSeenBy = async (node: TestServer) =>
  ((await (await node.api("/health")).json()) as { cluster: { nodes: number | null } }).cluster.nodes;

/** Waits until every node sees `count` nodes (they learn of each other through the adapter). */
export const untilNodesSee = (nodes: TestServer[], count = nodes.length) =>
  until(
    async () => (await Promise.all(nodes.map(nodesSeenBy))).every((c) => c === count),
    10_000,
    `the nodes to see ${count} nodes`,
  );
