/**
 * Gateway nodes on the real Redis of this machine and one PostgreSQL database of their own, for the
 * multi-node suites: started and seeing each other, then closed with their database and keys; plus a
 * node as a process of its own, which a test can freeze or kill.
 */
import { createPgDatabase, type PgDatabase, requirePostgres } from "./postgres";
import { startProcess, tempDir } from "./process";
import { dropRedisKeys, REDIS_URL, redisPrefix, requireRedis, untilNodesSee } from "./redis";
import { startTestServer, TEST_API_TOKEN, TEST_JWT_SECRET, type TestServer } from "./server";

export interface Cluster {
  nodes: TestServer[];
  db: PgDatabase;
  /** What every node of this cluster is started with. */
  env: Record<string, string>;
  node(i: number): TestServer;
  /** One more node of the cluster, in a process of its own (SIGSTOP, SIGKILL), logging at `info`. */
  startProcessNode(): ReturnType<typeof startProcess>;
  close(): Promise<void>;
}

/** `count` nodes (in this process) sharing a fresh database and a key prefix; `env` adds to theirs. */
export async function startCluster(count: number, env: Record<string, string> = {}): Promise<Cluster> {
  await requireRedis();
  await requirePostgres();
  const prefix = redisPrefix();
  const db = await createPgDatabase();
  const shared = { DATABASE_URL: db.url, REDIS_URL, REDIS_PREFIX: prefix, CLUSTER_TIMEOUT_MS: "3000", ...env };
  const nodes = await Promise.all(Array.from({ length: count }, () => startTestServer(shared)));
  await untilNodesSee(nodes);
  return {
    nodes,
    db,
    env: shared,
    node: (i) => nodes[i] as TestServer,
    startProcessNode: () =>
      startProcess(tempDir(), {
        NODE_ENV: "test",
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        API_TOKEN: TEST_API_TOKEN,
        JWT_SECRET: TEST_JWT_SECRET,
        ...shared,
      }),
    async close() {
      await Promise.all(nodes.map((n) => n.close()));
      await db.drop();
      await dropRedisKeys(prefix);
    },
  };
}
