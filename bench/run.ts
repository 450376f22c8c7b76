/**
 * `bun run bench [--quick] [--reps N] [--only gateway,bare-bun,...]`: starts each server and the load
 * generators as separate processes on 127.0.0.1 (server pinned to core 0, load to core 1 when `taskset`
 * exists), interleaves the servers inside each repetition, and prints the medians with the gateway's
 * ratio to each baseline. Raw and median figures go to bench/results/<timestamp>.json.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { API_TOKEN, cpuSeconds, freePort, JWT_SECRET, median, POSTBACK_SIGNING_SECRET, sleep } from "./lib/common";
import type { Config, PhaseResult } from "./load/sio";

const ROOT = join(import.meta.dir, "..");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const argValue = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

const profile = quick
  ? { ns: [300], reps: 1, windowMs: 1500, drainMs: 1500, postbacks: 600, connectConcurrency: 50 }
  : { ns: [1000, 5000], reps: 3, windowMs: 3000, drainMs: 2000, postbacks: 3000, connectConcurrency: 100 };
profile.reps = Number(argValue("--reps") ?? profile.reps);
if (argValue("--n")) profile.ns = (argValue("--n") as string).split(",").map(Number);

const hasTaskset = cpus().length >= 2 && Bun.which("taskset") !== null;
const pin = (core: number, cmd: string[]) => (hasTaskset ? ["taskset", "-c", String(core), ...cmd] : cmd);

const tmp = mkdtempSync(join(tmpdir(), "switchboard-bench-"));
const gatewayEnv = (port: number): Record<string, string> => {
  const big = "1000000";
  return {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(port),
    API_TOKEN,
    JWT_SECRET,
    POSTBACK_SIGNING_SECRET,
    POSTBACK_ALLOW_PRIVATE: "true",
    DATABASE_PATH: join(tmp, `gateway-${port}.db`),
    LOG_LEVEL: "warn",
    SOCKET_RATE_LIMIT: big,
    SOCKET_ABUSE_LIMIT: big,
    RATE_LIMIT_MAX: "100000000",
    RATE_LIMIT_ADMIN_MAX: "100000000",
    RATE_LIMIT_BAN: "0",
    MAX_CONNECTIONS: big,
    MAX_CONNECTIONS_PER_IP: big,
    SOCKET_HANDSHAKES_PER_IP: big,
    MAX_SOCKETS_PER_USER: big,
  };
};

interface ServerSpec {
  name: string;
  label: string;
  cmd: string[];
  env: (port: number) => Record<string, string>;
}
const baseEnv = (port: number) => ({ PORT: String(port), API_TOKEN, JWT_SECRET });
const SERVERS: ServerSpec[] = [
  { name: "gateway", label: "Switchboard", cmd: ["bun", "bench/servers/gateway.ts"], env: gatewayEnv },
  { name: "bare-bun", label: "socket.io/Bun", cmd: ["bun", "bench/servers/bare-bun.ts"], env: baseEnv },
  { name: "node", label: "socket.io/Node", cmd: ["node", "--expose-gc", "bench/servers/node-sio.mjs"], env: baseEnv },
  { name: "bun-ws", label: "Bun WS", cmd: ["bun", "bench/servers/bun-ws.ts"], env: baseEnv },
];
const only = argValue("--only")?.split(",");
const servers = SERVERS.filter((s) => !only || s.name === "gateway" || only.includes(s.name));

const children = new Set<Bun.Subprocess>();
async function start(cmd: string[], env: Record<string, string>, core: number, port: number) {
  const proc = Bun.spawn(pin(core, cmd), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  children.add(proc);
  const deadline = Date.now() + 20000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${cmd.join(" ")} exited: ${await new Response(proc.stderr).text()}`);
    try {
      await fetch(`http://127.0.0.1:${port}/health`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${cmd.join(" ")} did not listen on ${port}`);
      await sleep(50);
    }
  }
  return proc;
}
async function stop(proc: Bun.Subprocess) {
  proc.kill("SIGKILL");
  await proc.exited;
  children.delete(proc);
}

async function runLoad(script: string, config: unknown): Promise<unknown> {
  const proc = Bun.spawn(pin(1, ["bun", script, JSON.stringify(config)]), {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  children.add(proc);
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  children.delete(proc);
  const line = out.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`${script} failed (exit ${proc.exitCode}): ${out.slice(-500)} ${err.slice(-1500)}`);
  }
}

const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
async function redisUp(): Promise<boolean> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, retryStrategy: () => null, connectTimeout: 1000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.quit();
    return true;
  } catch {
    client.disconnect();
    return false;
  }
}
async function dropRedisKeys(prefix: string) {
  const client = new Redis(REDIS_URL);
  client.on("error", () => {});
  for await (const keys of client.scanStream({ match: `${prefix}*`, count: 100 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) await client.del(...keys);
  }
  await client.quit();
}

/** The load generator's settings: the same rooms, windows and concurrency for every server. */
const loadConfig = (run: Pick<Config, "url" | "pid" | "n" | "phases" | "urls" | "pids">): Config => ({
  rooms: 10,
  connectConcurrency: profile.connectConcurrency,
  windowMs: profile.windowMs,
  drainMs: profile.drainMs,
  httpConcurrency: 32,
  fanoutInFlight: 4,
  ...run,
});

type Runs = Record<string, Record<string, PhaseResult[]>>; // key `${server}@${n}` -> phase -> runs
const runs: Runs = {};
const record = (key: string, phase: string, r: PhaseResult) => {
  runs[key] ??= {};
  const perPhase = runs[key];
  perPhase[phase] ??= [];
  perPhase[phase].push(r);
};

/** `count` gateway nodes on one Redis, the fan-out phases at the first N, recorded as `cluster<count>@<n>`. */
async function clusterRun(rep: number, count: number) {
  const n = profile.ns[0] as number;
  const prefix = `switchboard-bench-${Date.now()}`;
  const ports = Array.from({ length: count }, () => freePort());
  const env = (port: number) => ({ ...gatewayEnv(port), REDIS_URL, REDIS_PREFIX: prefix });
  const nodes: Bun.Subprocess[] = [];
  const what = `${count} node${count > 1 ? "s" : ""} on Redis`;
  try {
    for (const port of ports) nodes.push(await start(["bun", "bench/servers/gateway.ts"], env(port), 0, port));
    const seen = performance.now() + 10000;
    while (performance.now() < seen) {
      const h = (await (await fetch(`http://127.0.0.1:${ports[0]}/health`)).json()) as {
        cluster?: { nodes: number };
      };
      if (h.cluster?.nodes === count) break;
      await sleep(100);
    }
    const urls = ports.map((port) => `http://127.0.0.1:${port}`);
    const config = loadConfig({
      url: urls[0] as string,
      urls,
      pid: nodes[0]?.pid as number,
      pids: nodes.map((p) => p.pid),
      n,
      phases: ["fanoutDispatch", "fanoutBroadcast", ...LIGHT],
    });
    const out = (await runLoad("bench/load/sio.ts", config)) as { phases: Record<string, PhaseResult> };
    for (const [phase, r] of Object.entries(out.phases)) record(`cluster${count}@${n}`, phase, r);
    process.stderr.write(
      `rep ${rep + 1} n=${n} ${what}: ok (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
    );
  } catch (e) {
    process.stderr.write(`rep ${rep + 1} ${what}: FAILED ${(e as Error).message}\n`);
  } finally {
    for (const p of nodes) await stop(p);
    await dropRedisKeys(prefix);
  }
}

const started = performance.now();
const PHASES = ["fanoutDispatch", "fanoutBroadcast", "ping", "chat", "admin"];
const LIGHT = ["fanoutLight", "fanoutLightDispatch"];
for (let rep = 0; rep < profile.reps; rep++) {
  for (const n of profile.ns) {
    // Interleave: a different server goes first in each repetition.
    const order = servers.map((_, i) => servers[(i + rep) % servers.length] as ServerSpec);
    for (const s of order) {
      const port = freePort();
      const proc = await start(s.cmd, s.env(port), 0, port);
      await sleep(300);
      const config = loadConfig({
        url: `http://127.0.0.1:${port}`,
        pid: proc.pid,
        n,
        // The light-load latencies (one broadcast in flight) are the gateway's, for the several-nodes table.
        phases: s.name === "gateway" && n === profile.ns[0] ? [...PHASES, ...LIGHT] : PHASES,
      });
      try {
        const out = (await runLoad("bench/load/sio.ts", config)) as { phases: Record<string, PhaseResult> };
        for (const [phase, r] of Object.entries(out.phases)) record(`${s.name}@${n}`, phase, r);
        process.stderr.write(
          `rep ${rep + 1} n=${n} ${s.name}: ok (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
        );
      } catch (e) {
        process.stderr.write(`rep ${rep + 1} n=${n} ${s.name}: FAILED ${(e as Error).message}\n`);
      } finally {
        await stop(proc);
      }
    }
  }
  // Scenario 6 (issue 11): gateway nodes on Redis (redis-streams), clients alternating between them, every node
  // on the server core; fan-out only, at the first N. One node on Redis (the adapter's own cost) and two (what a
  // second node adds), against the one node without Redis of the main loop.
  if (await redisUp()) {
    // --quick keeps to its minute: the two-node run only.
    for (const count of quick ? [2] : [1, 2]) await clusterRun(rep, count);
  } else if (rep === 0) process.stderr.write(`several nodes on Redis: skipped (no Redis at ${REDIS_URL})\n`);

  // Scenario 5: postbacks, gateway vs a bare fetch loop, both against the same sink (sink on the load core).
  const sinkPort = freePort();
  const sink = await start(["bun", "bench/servers/sink.ts"], { PORT: String(sinkPort) }, 1, sinkPort);
  const sinkUrl = `http://127.0.0.1:${sinkPort}`;
  const sinkStats = async () =>
    (await (await fetch(`${sinkUrl}/stats`)).json()) as { count: number; first: number; last: number };
  const waitSink = async (count: number, ms: number) => {
    const deadline = performance.now() + ms;
    let s = await sinkStats();
    while (s.count < count && performance.now() < deadline) {
      await sleep(50);
      s = await sinkStats();
    }
    return { ...s, perSecond: s.count > 1 ? ((s.count - 1) / (s.last - s.first)) * 1000 : Number.NaN };
  };
  const M = profile.postbacks;
  const pbOrder = rep % 2 === 0 ? ["gateway", "fetch-loop"] : ["fetch-loop", "gateway"];
  for (const which of pbOrder) {
    await fetch(`${sinkUrl}/reset`, { method: "POST" });
    const port = freePort();
    if (which === "gateway") {
      // Enqueue with the scheduler off, then restart on the same database with it on: the two rates apart.
      const env = { ...gatewayEnv(port), POSTBACKS_ENABLED: "false" };
      let proc = await start(["bun", "bench/servers/gateway.ts"], env, 0, port);
      await sleep(300);
      try {
        const enq = (await runLoad("bench/load/http.ts", {
          url: `http://127.0.0.1:${port}/api/queue/postback`,
          count: M,
          concurrency: 32,
          token: API_TOKEN,
          body: { postbackUrl: `${sinkUrl}/hook`, payload: { event: "bench", n: 1 } },
          pid: proc.pid,
        })) as PhaseResult & { firstError: string };
        if (enq.errors) process.stderr.write(`postback enqueue errors: ${enq.errors} ${enq.firstError}\n`);
        record("gateway@postbacks", "enqueue", enq);
        await stop(proc);
        proc = await start(["bun", "bench/servers/gateway.ts"], { ...env, POSTBACKS_ENABLED: "true" }, 0, port);
        const c0 = cpuSeconds(proc.pid);
        const d = await waitSink(M, quick ? 15000 : 60000);
        record("gateway@postbacks", "deliver", {
          count: d.count,
          seconds: (d.last - d.first) / 1000,
          perSecond: d.perSecond,
          serverCpuUsPerOp: ((cpuSeconds(proc.pid) - c0) / d.count) * 1e6,
        } as PhaseResult);
      } finally {
        await stop(proc);
      }
    } else {
      const loop = Bun.spawn(pin(0, ["bun", "bench/servers/fetch-loop.ts", `${sinkUrl}/hook`, String(M), "10"]), {
        cwd: ROOT,
        stdout: "pipe",
      });
      children.add(loop);
      await loop.exited;
      children.delete(loop);
      const d = await waitSink(M, 5000);
      record("fetch-loop@postbacks", "deliver", {
        count: d.count,
        seconds: (d.last - d.first) / 1000,
        perSecond: d.perSecond,
      } as PhaseResult);
    }
  }
  await stop(sink);
  process.stderr.write(`rep ${rep + 1} postbacks: ok (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
}
rmSync(tmp, { recursive: true, force: true });

// Medians of every numeric field, per server, n and phase.
const medians: Record<string, Record<string, Record<string, number>>> = {};
for (const [key, phases] of Object.entries(runs)) {
  medians[key] = {};
  for (const [phase, list] of Object.entries(phases)) {
    const fields = Object.keys(list[0] ?? {}).filter(
      (f) => typeof (list[0] as Record<string, unknown>)[f] === "number",
    );
    medians[key][phase] = Object.fromEntries(fields.map((f) => [f, median(list.map((r) => r[f] as number))]));
  }
}
const med = (key: string, phase: string, field: string) => medians[key]?.[phase]?.[field] ?? Number.NaN;

// The table.
const fmt = (v: number, digits = 0) =>
  Number.isFinite(v)
    ? v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "-";
const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}x` : "-";
const CLIENT_BOUND = 0.9;
interface Row {
  label: string;
  phase: string;
  field: string;
  digits?: number;
  scale?: number;
  key?: (server: string, n: number) => string;
}
const rows: Row[] = [
  { label: "fan-out via dispatch, deliveries/s", phase: "fanoutDispatch", field: "perSecond" },
  { label: "  p99 latency ms", phase: "fanoutDispatch", field: "p99Ms", digits: 1 },
  { label: "  server CPU ms / 1k deliveries", phase: "fanoutDispatch", field: "serverCpuUsPerOp", digits: 1, scale: 1 },
  { label: "fan-out via client broadcast, deliveries/s", phase: "fanoutBroadcast", field: "perSecond" },
  { label: "  p99 latency ms", phase: "fanoutBroadcast", field: "p99Ms", digits: 1 },
  {
    label: "  server CPU ms / 1k deliveries",
    phase: "fanoutBroadcast",
    field: "serverCpuUsPerOp",
    digits: 1,
    scale: 1,
  },
  { label: "ping acks/s", phase: "ping", field: "perSecond" },
  { label: "  p99 latency ms", phase: "ping", field: "p99Ms", digits: 1 },
  { label: "  server CPU us / ack", phase: "ping", field: "serverCpuUsPerOp", digits: 1 },
  { label: "chat message:send acks/s (gw: durable)", phase: "chat", field: "perSecond" },
  { label: "  p99 latency ms", phase: "chat", field: "p99Ms", digits: 1 },
  { label: "  server CPU us / ack", phase: "chat", field: "serverCpuUsPerOp", digits: 1 },
  { label: "connects/s", phase: "connect", field: "perSecond" },
  { label: "  RSS KB / connection (after GC)", phase: "connect", field: "rssPerConnKB", digits: 1 },
  { label: "admin dispatch req/s (no members)", phase: "admin", field: "perSecond" },
  { label: "  p99 latency ms", phase: "admin", field: "p99Ms", digits: 1 },
];
const names = servers.map((s) => s.name);
const lines: string[] = [];
const header = ["measure", ...servers.map((s) => s.label), ...servers.slice(1).map((s) => `gw / ${s.label}`)];
lines.push(`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`);
const flags: string[] = [];
for (const n of profile.ns) {
  lines.push(
    `| **N = ${n.toLocaleString("en-US")} clients, 10 rooms** |${header
      .slice(1)
      .map(() => "")
      .join(" |")} |`,
  );
  for (const row of rows) {
    const vals = names.map((s) => {
      const v = med(`${s}@${n}`, row.phase, row.field);
      return row.scale ? v * row.scale : v;
    });
    const cells = vals.map((v, i) => {
      const cpu = med(`${names[i]}@${n}`, row.phase, "clientCpu");
      const bound = row.field === "perSecond" && cpu >= CLIENT_BOUND;
      if (bound) flags.push(`${names[i]} n=${n} ${row.phase}: client CPU ${(cpu * 100).toFixed(0)}%`);
      return `${fmt(v, row.digits ?? 0)}${bound ? " (c)" : ""}`;
    });
    const gw = vals[0] as number;
    lines.push(
      `| ${row.label} | ${cells.join(" | ")} | ${vals
        .slice(1)
        .map((b) => ratio(gw, b))
        .join(" | ")} |`,
    );
  }
}
const cpuLines: string[] = ["", `| CPU (cores busy: server / load) | ${servers.map((s) => s.label).join(" | ")} |`];
cpuLines.push(`|---|${servers.map(() => "---").join("|")}|`);
for (const n of profile.ns)
  for (const phase of ["connect", ...PHASES]) {
    const cells = names.map(
      (s) => `${fmt(med(`${s}@${n}`, phase, "serverCpu"), 2)} / ${fmt(med(`${s}@${n}`, phase, "clientCpu"), 2)}`,
    );
    cpuLines.push(`| n=${n} ${phase} | ${cells.join(" | ")} |`);
  }
const gwEnq = med("gateway@postbacks", "enqueue", "perSecond");
const gwDel = med("gateway@postbacks", "deliver", "perSecond");
const loopDel = med("fetch-loop@postbacks", "deliver", "perSecond");
const pbLines = [
  "",
  `| postbacks (${profile.postbacks} jobs, concurrency 10) | Switchboard | bare fetch loop | ratio |`,
  "|---|---|---|---|",
  `| enqueue req/s (durable, 32 concurrent, scheduler off) | ${fmt(gwEnq)} (p99 ${fmt(med("gateway@postbacks", "enqueue", "p99Ms"), 1)} ms) | - | - |`,
  `| deliveries/s to the sink (queue full at start) | ${fmt(gwDel)} (${fmt(med("gateway@postbacks", "deliver", "count"))} delivered) | ${fmt(loopDel)} | ${ratio(gwDel, loopDel)} |`,
];
const clusterN = profile.ns[0] as number;
const clusterLines: string[] = [];
if (medians[`cluster2@${clusterN}`]) {
  // One node on Redis runs in the full bench only (--quick keeps to its minute).
  const withOne = medians[`cluster1@${clusterN}`] !== undefined;
  const columns = withOne
    ? ["1 node", "1 node on Redis", "2 nodes on Redis", "1 on Redis / 1", "2 on Redis / 1"]
    : ["1 node", "2 nodes on Redis", "2 on Redis / 1"];
  clusterLines.push(
    "",
    `| several nodes (N = ${clusterN.toLocaleString("en-US")}, 10 rooms of ~${clusterN / 10}) | ${columns.join(" | ")} |`,
    `|---|${columns.map(() => "---").join("|")}|`,
  );
  const [one, oneOnRedis, two] = ["gateway", "cluster1", "cluster2"].map((k) => `${k}@${clusterN}`) as [
    string,
    string,
    string,
  ];
  const rowsOf = (phase: string, label: string, fields: (readonly [string, string, number])[]) => {
    for (const [field, what, digits] of fields) {
      const [a, r, b] = [one, oneOnRedis, two].map((k) => med(k, phase, field)) as [number, number, number];
      const cells = withOne
        ? [fmt(a, digits), fmt(r, digits), fmt(b, digits), ratio(r, a), ratio(b, a)]
        : [fmt(a, digits), fmt(b, digits), ratio(b, a)];
      clusterLines.push(`| ${label}, ${what} | ${cells.join(" | ")} |`);
    }
  };
  const saturated = [
    ["perSecond", "deliveries/s", 0],
    ["p50Ms", "p50 latency ms", 1],
    ["p99Ms", "p99 latency ms", 1],
    ["serverCpuUsPerOp", "server CPU ms / 1k deliveries (all nodes)", 1],
  ] as const;
  rowsOf("fanoutDispatch", "fan-out via dispatch", [...saturated]);
  rowsOf("fanoutBroadcast", "fan-out via client broadcast", [...saturated]);
  const light = [
    ["p50Ms", "p50 latency ms", 1],
    ["p99Ms", "p99 latency ms", 1],
  ] as const;
  rowsOf("fanoutLight", "one client broadcast in flight (light load; durable commit first)", [...light]);
  rowsOf("fanoutLightDispatch", "one dispatch in flight (light load; no database write)", [...light]);
}
const wall = (performance.now() - started) / 1000;
const output = [
  `Switchboard bench (${quick ? "--quick" : "full"}; ${profile.reps} repetition(s), medians; ${profile.windowMs} ms windows; ` +
    `${hasTaskset ? "server on core 0, load on core 1" : "no pinning"}; ${wall.toFixed(1)} s)`,
  "",
  ...lines,
  ...cpuLines,
  ...clusterLines,
  ...pbLines,
  "",
  flags.length
    ? `(c) client-bound (load generator >= ${CLIENT_BOUND * 100}% of its core): ${flags.join("; ")}`
    : "No run was client-bound.",
].join("\n");
console.log(output);

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const dir = join(ROOT, "bench/results");
if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
const pkg = (name: string) => {
  try {
    return (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string })
      .version;
  } catch {
    return "?";
  }
};
const file = join(dir, `${stamp}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      at: new Date().toISOString(),
      command: `bun run bench ${args.join(" ")}`.trim(),
      profile,
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, pinned: hasTaskset },
      versions: {
        bun: Bun.version,
        node: (await new Response(Bun.spawn(["node", "--version"]).stdout).text()).trim(),
        "socket.io": pkg("socket.io"),
        "@socket.io/bun-engine": pkg("@socket.io/bun-engine"),
        elysia: pkg("elysia"),
      },
      git: {
        commit: (
          await new Response(Bun.spawn(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT }).stdout).text()
        ).trim(),
        dirtySrc: (await new Response(Bun.spawn(["git", "status", "--porcelain", "src"], { cwd: ROOT }).stdout).text())
          .trim()
          .split("\n")
          .filter(Boolean),
      },
      wallSeconds: wall,
      medians,
      runs,
      table: output,
    },
    null,
    2,
  ),
);
console.log(`\nresults: ${file}`);
