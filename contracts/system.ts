/** Public probes (seeds 000, 001, 003): shapes shared by the HTTP handlers and the OpenAPI document. */
import { z } from "zod";

export const AliveResponse = z
  .object({
    status: z.enum(["ok", "unhealthy"]),
    timestamp: z.iso.datetime(),
    reasons: z.array(z.string()).optional().meta({ description: "Which limits were passed (503 only)" }),
  })
  .meta({ id: "Alive" });
export type AliveResponse = z.infer<typeof AliveResponse>;

export const HealthResponse = z
  .object({
    status: z.enum(["ok", "error"]),
    timestamp: z.iso.datetime(),
    version: z.string(),
    instanceId: z.string(),
    uptimeSeconds: z.number(),
    database: z.object({ reachable: z.boolean() }),
    sockets: z.object({ connected: z.number().int() }),
    cluster: z
      .object({
        adapter: z.string().meta({ description: "SOCKET_ADAPTER: bun, memory, redis-streams or redis" }),
        nodes: z
          .number()
          .int()
          .nullable()
          .meta({ description: "Gateway nodes the adapter sees, this one included; null when they did not answer" }),
        redis: z
          .object({ reachable: z.boolean() })
          .nullable()
          .meta({ description: "The Redis of REDIS_URL; null when there is none" }),
      })
      .meta({ description: "How this node reaches the others (one node: adapter bun or memory, nodes 1)" }),
  })
  .meta({ id: "Health" });
export type HealthResponse = z.infer<typeof HealthResponse>;

/** Where the probes live (the HTTP routes and the OpenAPI document both read these). */
export const systemPaths = { alive: "/alive", health: "/health", metrics: "/metrics" } as const;

interface SystemEndpoint {
  name: string;
  path: string;
  summary: string;
  contentType: string;
  responses: Record<string, { description: string; schema?: z.ZodType }>;
}

export const systemEndpoints: SystemEndpoint[] = [
  {
    name: "system.alive",
    path: systemPaths.alive,
    summary: "Liveness: event-loop delay, heap, RSS and event-loop utilisation under their limits",
    contentType: "application/json",
    responses: {
      "200": { description: "Alive", schema: AliveResponse },
      "503": { description: "A limit was passed; `reasons` says which", schema: AliveResponse },
    },
  },
  {
    name: "system.health",
    path: systemPaths.health,
    summary: "Status, uptime, version, whether the database and Redis answer, and how many gateway nodes there are",
    contentType: "application/json",
    responses: {
      "200": { description: "Healthy", schema: HealthResponse },
      "503": { description: "The database or Redis does not answer", schema: HealthResponse },
    },
  },
  {
    name: "system.metrics",
    path: systemPaths.metrics,
    summary: "Prometheus metrics (text exposition format)",
    contentType: "text/plain",
    responses: { "200": { description: "Metrics" } },
  },
];
