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
}

export const probeRoutes = (deps: ProbeDeps) => (app: AnyElysia) =>
  app
    .get(
      systemPaths.alive,
      ({ set }) => {
        const reasons = deps.liveness.reasons();
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
        if (!reachable) set.status = 503;
        return {
          status: reachable ? "ok" : "error",
          timestamp: new Date().toISOString(),
          version: pkg.version,
          instanceId: deps.services.instance.id,
          uptimeSeconds: Math.round((performance.now() - deps.startedAt) / 100) / 10,
          database: { reachable },
          sockets: { connected: deps.connectedSockets() },
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
