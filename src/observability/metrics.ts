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

type HttpLabels = { method: string; route: string; status_code: string };

/** One HTTP series (method, route, status): requests and their durations, counted in plain numbers. */
export interface HttpSeries {
  /** One request of this series, which took `seconds`. */
  record(seconds: number): void;
}

interface PendingSeries extends HttpSeries {
  labels: HttpLabels;
  /** Requests not yet handed to the counter. */
  requests: number;
  /** Observations not yet handed to the histogram (with their sum and buckets). */
  count: number;
  sum: number;
  /** Observations per bucket (index of the first upper bound that holds it; the last: above every bound). */
  buckets: number[];
  /** prom-client's entry for these labels in the histogram, once made. */
  entry?: { bucketValues: Record<number, number>; sum: number; count: number } | undefined;
}

const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The HTTP request counter and duration histogram, fed per request without prom-client's label
 * hashing and validation (both showed in profiles of the admin API: prom-client hashes the labels
 * on every `inc` and `observe`, bound `labels()` children too). Each series counts in plain numbers
 * and hands its counts to prom-client when /metrics is scraped (`collect`), so the exposition is
 * prom-client's own: the same names, labels, buckets and values.
 */
function httpMetrics(registry: Registry, p: string) {
  const series = new Map<string, Map<string, Map<number, PendingSeries>>>();
  const all: PendingSeries[] = [];
  const requests = new Counter({
    name: `${p}http_requests_total`,
    help: "HTTP requests by method, route and status code",
    labelNames: ["method", "route", "status_code"] as const,
    registers: [registry],
    collect() {
      for (const s of all) {
        if (s.requests === 0) continue;
        requests.inc(s.labels, s.requests);
        s.requests = 0;
      }
    },
  });
  const duration = new Histogram({
    name: `${p}http_request_duration_seconds`,
    help: "HTTP request duration by method, route and status code",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry],
    collect() {
      for (const s of all) flushDuration(s);
    },
  });
  /** The histogram's entry for a series: made by prom-client (`zero`), then found by its labels. */
  const entryOf = (s: PendingSeries) => {
    if (s.entry) return s.entry;
    duration.zero(s.labels);
    const hashMap = (duration as unknown as { hashMap: Record<string, PendingSeries["entry"] & { labels: unknown }> })
      .hashMap;
    for (const e of Object.values(hashMap)) if (e?.labels === s.labels) s.entry = e;
    if (!s.entry) throw new Error("prom-client histogram: no entry for a series after zero()");
    return s.entry;
  };
  function flushDuration(s: PendingSeries) {
    if (s.count === 0) return;
    const entry = entryOf(s);
    for (let i = 0; i < HTTP_BUCKETS.length; i++) {
      const n = s.buckets[i] as number;
      if (n > 0)
        entry.bucketValues[HTTP_BUCKETS[i] as number] = (entry.bucketValues[HTTP_BUCKETS[i] as number] ?? 0) + n;
      s.buckets[i] = 0;
    }
    s.buckets[HTTP_BUCKETS.length] = 0;
    entry.sum += s.sum;
    entry.count += s.count;
    s.sum = 0;
    s.count = 0;
  }
  return {
    httpRequests: requests,
    httpDuration: duration,
    /**
     * The series of (method, route, status), found without building a key (route, then method and
     * status). Bounded like the series themselves: routes are the app's, Bun hands us standard methods only.
     */
    httpSeries(method: string, route: string, status: number): HttpSeries {
      let byRoute = series.get(route);
      if (!byRoute) {
        byRoute = new Map();
        series.set(route, byRoute);
      }
      let byStatus = byRoute.get(method);
      if (!byStatus) {
        byStatus = new Map();
        byRoute.set(method, byStatus);
      }
      let s = byStatus.get(status);
      if (!s) {
        const made: PendingSeries = {
          labels: { method, route, status_code: String(status) },
          requests: 0,
          count: 0,
          sum: 0,
          buckets: new Array(HTTP_BUCKETS.length + 1).fill(0),
          record(seconds) {
            let i = 0;
            while (i < HTTP_BUCKETS.length && seconds > (HTTP_BUCKETS[i] as number)) i++;
            made.buckets[i] = (made.buckets[i] as number) + 1;
            made.sum += seconds;
            made.count++;
            made.requests++;
          },
        };
        s = made;
        byStatus.set(status, s);
        all.push(s);
      }
      return s;
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
    ...httpMetrics(registry, p),
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
