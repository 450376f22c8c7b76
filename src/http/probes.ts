/** /alive, /health and /metrics (seeds 000, 001, 003). */
import type { AnyElysia } from "elysia";
import { type AliveResponse, type HealthResponse, systemPaths } from "../../contracts/system";
import pkg from "../../package.json";
import type { DatabaseHandle } from "../db/client";
import type { LivenessProbe } from "../observability/liveness";
import type { Metrics } from "../observability/metrics";
import type { Services } from "../services";

export interface ProbeDeps {
  liveness: LivenessProbe;
  database: DatabaseHandle;
  services: Services;
  /** Open Socket.IO connections on this node. */
  connectedSockets: () => number;
  metrics: Metrics;
  startedAt: number;
  cluster: ClusterStatus;
}

/** How this node reaches the others: its adapter, the node count it sees, and Redis when there is one. */
export interface ClusterStatus {
  adapter: string;
  /** Nodes the adapter sees (this one included); null when they did not answer in time. */
  nodes(): Promise<number | null>;
  redis: { readonly reachable: boolean; readonly downSince: number | undefined } | undefined;
  /** /alive fails once Redis has been unreachable this long (0: never). */
  redisDownAliveMs: number;
}

/** Why /alive fails for the cluster's sake: Redis unreachable for longer than allowed. */
function clusterReasons(cluster: ClusterStatus): string[] {
  const since = cluster.redis?.downSince;
  if (since === undefined || cluster.redisDownAliveMs === 0) return [];
  const down = Date.now() - since;
  return down > cluster.redisDownAliveMs ? [`redis unreachable for ${Math.round(down / 1000)} s`] : [];
}

export const probeRoutes = (deps: ProbeDeps) => (app: AnyElysia) =>
  app
    .get(
      systemPaths.alive,
      ({ set }) => {
        const reasons = [...deps.liveness.reasons(), ...clusterReasons(deps.cluster)];
        const body: AliveResponse = {
          status: reasons.length ? "unhealthy" : "ok",
          timestamp: new Date().toISOString(),
        };
        if (reasons.length) {
          set.status = 503;
          body.reasons = reasons;
        }
        return body;
      },
      { detail: { hide: true } },
    )
    .get(
      systemPaths.health,
      async ({ set }) => {
        const reachable = await deps.database.ping();
        const redis = deps.cluster.redis ? { reachable: deps.cluster.redis.reachable } : null;
        const ok = reachable && (redis === null || redis.reachable);
        if (!ok) set.status = 503;
        return {
          status: ok ? "ok" : "error",
          timestamp: new Date().toISOString(),
          version: pkg.version,
          instanceId: deps.services.instance.id,
          uptimeSeconds: Math.round((performance.now() - deps.startedAt) / 100) / 10,
          database: { reachable },
          sockets: { connected: deps.connectedSockets() },
          // Without Redis the other nodes cannot be asked: say so at once rather than wait for a timeout.
          cluster: {
            adapter: deps.cluster.adapter,
            nodes: redis?.reachable === false ? null : await deps.cluster.nodes(),
            redis,
          },
        } satisfies HealthResponse;
      },
      { detail: { hide: true } },
    )
    .get(
      systemPaths.metrics,
      async ({ set }) => {
        set.headers["content-type"] = deps.metrics.registry.contentType;
        return deps.metrics.registry.metrics();
      },
      { detail: { hide: true } },
    );
