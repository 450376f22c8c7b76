/**
 * The HTTP series of /metrics: one counter and one duration histogram per (method, route, status),
 * prom-client's exposition, with every request counted once in both, between scrapes too.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ PROMETHEUS_PREFIX: "m" });
});
afterAll(() => server.close());

const dispatch = () =>
  server.api("/api/socket/dispatch", {
    method: "POST",
    body: JSON.stringify({ channel: "nobody", event: "e", data: {} }),
  });

/** The lines of one series: `name{labels} value`, by metric name and `le`. */
function seriesOf(text: string, labels: string) {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^(m_http_request[a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m?.[2]?.includes(labels)) continue;
    const le = /le="([^"]+)"/.exec(m[2])?.[1];
    values.set(le === undefined ? (m[1] as string) : `${m[1]}{le=${le}}`, Number(m[3]));
  }
  return values;
}

const scrape = async () => (await server.api("/metrics", { auth: false })).text();
const OK = 'method="POST",route="/api/socket/dispatch",status_code="200"';
const REFUSED = 'method="POST",route="/api/socket/dispatch",status_code="400"';

test("requests are counted once in the counter and the histogram, across scrapes", async () => {
  for (let i = 0; i < 7; i++) expect((await dispatch()).status).toBe(200);
  // Durations are recorded after each answer is sent.
  await Bun.sleep(20);
  let s = seriesOf(await scrape(), OK);
  expect(s.get("m_http_requests_total")).toBe(7);
  expect(s.get("m_http_request_duration_seconds_count")).toBe(7);
  expect(s.get("m_http_request_duration_seconds_bucket{le=+Inf}")).toBe(7);
  expect(s.get("m_http_request_duration_seconds_sum")).toBeGreaterThan(0);
  // Cumulative buckets, the configured bounds, in order.
  const bounds = [...s.keys()].filter((k) => k.includes("{le=")).map((k) => k.slice(k.indexOf("=") + 1, -1));
  expect(bounds).toEqual(["0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"]);
  const counts = bounds.map((b) => s.get(`m_http_request_duration_seconds_bucket{le=${b}}`) as number);
  for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThanOrEqual(counts[i - 1] as number);

  for (let i = 0; i < 3; i++) await dispatch();
  const refused = await server.api("/api/socket/dispatch", { method: "POST", body: "{}" });
  expect(refused.status).toBe(400);
  await Bun.sleep(20);
  const text = await scrape();
  s = seriesOf(text, OK);
  expect(s.get("m_http_requests_total")).toBe(10);
  expect(s.get("m_http_request_duration_seconds_count")).toBe(10);
  expect(s.get("m_http_request_duration_seconds_bucket{le=+Inf}")).toBe(10);
  const r = seriesOf(text, REFUSED);
  expect(r.get("m_http_requests_total")).toBe(1);
  expect(r.get("m_http_request_duration_seconds_count")).toBe(1);
  expect(text).toContain("# TYPE m_http_request_duration_seconds histogram");
  expect(text).toContain("# TYPE m_http_requests_total counter");
});
