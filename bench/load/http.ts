/**
 * Keep-alive HTTP load (Bun's fetch pools connections): POSTs `body` to `url` from `concurrency`
 * workers, `count` requests in all. Args: JSON { url, count, concurrency, token, body, pid }.
 * Prints { count, errors, seconds, perSecond, p50Ms, p99Ms, serverCpu, clientCpu }.
 */
import { cpuSeconds, ownCpuSeconds, quantile } from "../lib/common";

const cfg = JSON.parse(process.argv[2] ?? "{}") as {
  url: string;
  count: number;
  concurrency: number;
  token: string;
  body: unknown;
  pid: number;
};
const headers = { authorization: `Bearer ${cfg.token}`, "content-type": "application/json" };
const body = JSON.stringify(cfg.body);
const lat: number[] = [];
let next = 0;
let errors = 0;
let firstError = "";
const s0 = cpuSeconds(cfg.pid);
const c0 = ownCpuSeconds();
const t0 = performance.now();
await Promise.all(
  Array.from({ length: cfg.concurrency }, async () => {
    while (next < cfg.count) {
      next++;
      const t = performance.now();
      const res = await fetch(cfg.url, { method: "POST", headers, body });
      const text = await res.text();
      if (res.ok) lat.push(performance.now() - t);
      else {
        errors++;
        firstError ||= `${res.status} ${text.slice(0, 200)}`;
      }
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    count: lat.length,
    errors,
    firstError,
    seconds,
    perSecond: lat.length / seconds,
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    serverCpu: (cpuSeconds(cfg.pid) - s0) / seconds,
    clientCpu: (ownCpuSeconds() - c0) / seconds,
  }),
);
