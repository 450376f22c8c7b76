/**
 * Liveness under pressure (seed 000's /alive): event-loop delay, heap used, RSS and event-loop
 * utilisation, sampled once a second and compared with configured limits.
 */
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import type { Logger } from "./logger";

export interface LivenessLimits {
  maxEventLoopDelayMs: number;
  maxHeapBytes: number;
  maxRssBytes: number;
  maxEventLoopUtilization: number;
}

export interface LivenessSample {
  eventLoopDelayMs: number;
  heapUsedBytes: number;
  rssBytes: number;
  eventLoopUtilization: number;
}

export function createLivenessProbe(limits: LivenessLimits, log: Logger, intervalMs = 1000) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  // Bun reports zeros from performance.eventLoopUtilization(); CPU time over wall time is the
  // closest available proxy there (both are the share of time the loop was busy).
  let lastElu = performance.eventLoopUtilization();
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();

  const measure = (): LivenessSample => {
    const elu = performance.eventLoopUtilization(lastElu);
    const cpu = process.cpuUsage(lastCpu);
    const now = performance.now();
    const wallMs = Math.max(now - lastAt, 1);
    const utilization =
      elu.idle + elu.active > 0 ? elu.utilization : Math.min(1, (cpu.user + cpu.system) / 1000 / wallMs);
    lastElu = performance.eventLoopUtilization();
    lastCpu = process.cpuUsage();
    lastAt = now;
    const mean = Number.isFinite(delay.mean) ? delay.mean / 1e6 : 0;
    delay.reset();
    const mem = process.memoryUsage();
    return {
      eventLoopDelayMs: mean,
      heapUsedBytes: mem.heapUsed,
      rssBytes: mem.rss,
      eventLoopUtilization: utilization,
    };
  };

  // A timer must never throw: process.memoryUsage() fails with EMFILE when file descriptors run
  // out, and an uncaught exception would take the whole server down. The last good sample stays.
  let sample = measure();
  let failing = false;
  const timer = setInterval(() => {
    try {
      sample = measure();
      failing = false;
    } catch (err) {
      if (!failing) log.warn({ err, event: "liveness_sample_failed" }, "liveness sample failed");
      failing = true;
    }
  }, intervalMs);
  timer.unref();

  return {
    /** Which limits the last sample passes, as readable reasons; empty when alive. */
    reasons(): string[] {
      const s = sample;
      const out: string[] = failing ? ["resources could not be sampled (out of file descriptors?)"] : [];
      if (s.eventLoopDelayMs > limits.maxEventLoopDelayMs) {
        out.push(`event loop delay ${s.eventLoopDelayMs.toFixed(1)} ms > ${limits.maxEventLoopDelayMs} ms`);
      }
      if (s.heapUsedBytes > limits.maxHeapBytes) out.push(`heap used ${s.heapUsedBytes} B > ${limits.maxHeapBytes} B`);
      if (s.rssBytes > limits.maxRssBytes) out.push(`RSS ${s.rssBytes} B > ${limits.maxRssBytes} B`);
      if (s.eventLoopUtilization > limits.maxEventLoopUtilization) {
        out.push(`event loop utilisation ${s.eventLoopUtilization.toFixed(2)} > ${limits.maxEventLoopUtilization}`);
      }
      return out;
    },
    stop() {
      clearInterval(timer);
      delay.disable();
    },
  };
}

export type LivenessProbe = ReturnType<typeof createLivenessProbe>;
