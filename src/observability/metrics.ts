/** Prometheus metrics: one registry per server, every name prefixed with PROMETHEUS_PREFIX. */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export type EventOutcome = "ok" | "invalid" | "error" | "unknown" | "not_implemented" | "unavailable" | "rate_limited";

/**
 * A counter for the hottest path (every Socket.IO event): increments go to a plain map, and are
 * handed to prom-client when /metrics is scraped, so no label lookup happens per event.
 */
function eventCounter(registry: Registry, name: string) {
  const pending = new Map<string, number>();
  const counter = new Counter({
    name,
    help: "Incoming Socket.IO events by event name and outcome",
    labelNames: ["event", "outcome"] as const,
    registers: [registry],
    collect() {
      for (const [key, n] of pending) {
        const [event, outcome] = key.split("\0") as [string, string];
        counter.inc({ event, outcome }, n);
      }
      pending.clear();
    },
  });
  return {
    inc({ event, outcome }: { event: string; outcome: EventOutcome }) {
      const key = `${event}\0${outcome}`;
      pending.set(key, (pending.get(key) ?? 0) + 1);
    },
  };
}

export function createMetrics(prefix: string) {
  const registry = new Registry();
  const p = `${prefix}_`;
  collectDefaultMetrics({ register: registry, prefix: p });
  let postbackCounts: () => Promise<Record<string, number> | undefined> = async () => undefined;

  return {
    registry,
    httpRequests: new Counter({
      name: `${p}http_requests_total`,
      help: "HTTP requests by method, route and status code",
      labelNames: ["method", "route", "status_code"] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: `${p}http_request_duration_seconds`,
      help: "HTTP request duration by method, route and status code",
      labelNames: ["method", "route", "status_code"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    socketConnections: new Gauge({
      name: `${p}socket_connections`,
      help: "Open Socket.IO connections by namespace",
      labelNames: ["namespace"] as const,
      registers: [registry],
    }),
    socketEvents: eventCounter(registry, `${p}socket_events_total`),
    postbackJobs: new Gauge({
      name: `${p}postback_jobs`,
      help: "Postback jobs by status (read from the database when scraped)",
      labelNames: ["status"] as const,
      registers: [registry],
      async collect() {
        const counts = await postbackCounts().catch(() => undefined);
        if (counts) for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
      },
    }),
    postbackAttempts: new Counter({
      name: `${p}postback_attempts_total`,
      help: "Postback delivery attempts by outcome (success, http_error, network_error, timeout, refused)",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    postbackLatency: new Histogram({
      name: `${p}postback_delivery_duration_seconds`,
      help: "Duration of one postback attempt, by outcome",
      labelNames: ["outcome"] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    postbackQueueWait: new Histogram({
      name: `${p}postback_queue_wait_seconds`,
      help: "Time from a postback attempt being due to its start",
      buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300],
      registers: [registry],
    }),
    /** Where the jobs gauge reads its counts (the postback queue, once built); undefined: no data. */
    setPostbackCounts(fn: () => Promise<Record<string, number> | undefined>) {
      postbackCounts = fn;
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
