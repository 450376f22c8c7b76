/**
 * The load generator for scenarios 1-4: raw Engine.IO v4 / Socket.IO v5 over WebSocket (no
 * socket.io-client), so a frame costs the client a string check and, for timed frames, one number parse.
 *
 * Wire: server `0{...}` (open) -> client `40{"token":…}` -> server `40{"sid":…}`; events `42["name",payload]`;
 * acks `42<id>["name",payload]` -> `43<id>[reply]`; server ping `2` -> client pong `3`.
 *
 * argv[2]: JSON config (see `Config`). It reads the server's CPU and RSS from /proc/<pid> at the exact
 * edges of each measuring window, and asks the server for a full GC with SIGUSR2 before RSS readings.
 * Prints one JSON line: { phases: { <name>: PhaseResult } }.
 */
import { SignJWT } from "jose";
import { API_TOKEN, cpuSeconds, JWT_SECRET, ownCpuSeconds, quantile, rssBytes, sleep } from "../lib/common";

export interface Config {
  url: string;
  pid: number;
  n: number;
  rooms: number;
  connectConcurrency: number;
  windowMs: number;
  drainMs: number;
  httpConcurrency: number;
  /** Most fan-out messages in flight (sent, not yet delivered to every member). */
  fanoutInFlight: number;
  phases: string[];
  /** Several nodes (the cluster scenario): client i connects to urls[i % urls.length]; CPU is summed over pids. */
  urls?: string[];
  pids?: number[];
}

export interface PhaseResult {
  count: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  serverCpu: number;
  clientCpu: number;
  serverCpuUsPerOp: number;
  [extra: string]: number;
}

const cfg = JSON.parse(process.argv[2] ?? "{}") as Config;
const wsUrls = (cfg.urls ?? [cfg.url]).map((u) => `${u.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
const pids = cfg.pids ?? [cfg.pid];
const serverCpuSeconds = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
const key = new TextEncoder().encode(JWT_SECRET);

type AckFn = (text: string, now: number) => void;
interface Client {
  i: number;
  ws: WebSocket;
  nextId: number;
  acks: Map<number, AckFn>;
}

// Frame counters for fan-out: counted only while `measuring`; latency from the send time after "@@" in the payload.
let fanEvent = "";
let measuring = false;
let delivered = 0;
let deliveredTotal = 0;
let latencies: number[] = [];
const MAX_SAMPLES = 200_000;

function onFrame(c: Client, msg: string) {
  const now = performance.now();
  const k = msg.charCodeAt(1);
  if (msg === "2") {
    c.ws.send("3");
    return;
  }
  if (msg.charCodeAt(0) !== 52 /* 4 */) return;
  if (k === 51 /* 43: ack */) {
    const open = msg.indexOf("[");
    const id = Number(msg.slice(2, open));
    const fn = c.acks.get(id);
    if (fn) {
      c.acks.delete(id);
      fn(msg, now);
    }
    return;
  }
  if (k === 50 /* 42: event */ && fanEvent && msg.startsWith(fanEvent, 2)) {
    deliveredTotal++;
    if (!measuring) return;
    delivered++;
    const at = msg.indexOf("@@");
    if (at > 0 && latencies.length < MAX_SAMPLES) {
      const t = Number.parseFloat(msg.slice(at + 2, at + 24));
      if (Number.isFinite(t)) latencies.push(now - t);
    }
  }
}

function emit(c: Client, event: string, payload: unknown, fn: AckFn) {
  const id = c.nextId++;
  c.acks.set(id, fn);
  c.ws.send(`42${id}${JSON.stringify([event, payload])}`);
}

const ackOk = (text: string) => !text.includes('"success":false');

function connect(i: number, token: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrls[i % wsUrls.length] as string);
    const c: Client = { i, ws, nextId: 1, acks: new Map() };
    let ready = false;
    ws.onmessage = (ev) => {
      const msg = ev.data as string;
      if (ready) return onFrame(c, msg);
      if (msg.charCodeAt(0) === 48 /* 0: open */) ws.send(`40${JSON.stringify({ token })}`);
      else if (msg.startsWith("40")) {
        ready = true;
        resolve(c);
      } else if (msg.startsWith("44")) reject(new Error(`connect refused: ${msg}`));
    };
    ws.onerror = () => reject(new Error("websocket error"));
    ws.onclose = () => {
      if (!ready) reject(new Error("closed before connect"));
    };
  });
}

/** Measures what `run` does between its start and `stop()`: server and client CPU, wall time. */
function measure() {
  const s0 = serverCpuSeconds();
  const c0 = ownCpuSeconds();
  const t0 = performance.now();
  return (count: number, lat: number[], errors: number, extra: Record<string, number> = {}): PhaseResult => {
    const seconds = (performance.now() - t0) / 1000;
    const serverCpu = (serverCpuSeconds() - s0) / seconds;
    const clientCpu = (ownCpuSeconds() - c0) / seconds;
    return {
      count,
      seconds,
      perSecond: count / seconds,
      p50Ms: quantile(lat, 0.5),
      p99Ms: quantile(lat, 0.99),
      errors,
      serverCpu,
      clientCpu,
      serverCpuUsPerOp: count > 0 ? ((serverCpu * seconds) / count) * 1e6 : Number.NaN,
      ...extra,
    };
  };
}

async function gcRss(): Promise<number> {
  try {
    process.kill(cfg.pid, "SIGUSR2");
  } catch {}
  await sleep(400);
  return rssBytes(cfg.pid);
}

const results: Record<string, PhaseResult> = {};
const tokens = await Promise.all(
  Array.from({ length: cfg.n }, (_, i) =>
    new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(`bench-user-${i}`)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(key),
  ),
);

// Scenario 3: connect storm (always runs: the other phases need the clients).
const rssBefore = await gcRss();
const clients: Client[] = new Array(cfg.n);
{
  const lat: number[] = [];
  let next = 0;
  let errors = 0;
  const stop = measure();
  await Promise.all(
    Array.from({ length: cfg.connectConcurrency }, async () => {
      while (next < cfg.n) {
        const i = next++;
        const t = performance.now();
        try {
          clients[i] = await connect(i, tokens[i] as string);
          lat.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  const r = stop(cfg.n - errors, lat, errors);
  if (errors) throw new Error(`${errors} of ${cfg.n} connections failed`);
  await sleep(300);
  const rssAfter = await gcRss();
  r.rssBeforeBytes = rssBefore;
  r.rssAfterBytes = rssAfter;
  r.rssPerConnKB = (rssAfter - rssBefore) / cfg.n / 1024;
  results.connect = r;
}

/** Sends `event` with an ack from each of `senders`, one in flight each, for a window. */
async function ackLoop(senders: Client[], event: string, payload: (c: Client) => unknown): Promise<PhaseResult> {
  const lat: number[] = [];
  let count = 0;
  let errors = 0;
  let end = 0;
  let running = senders.length;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const stop = measure();
  end = performance.now() + cfg.windowMs;
  const fire = (c: Client) => {
    const t = performance.now();
    emit(c, event, payload(c), (text, now) => {
      if (ackOk(text)) {
        count++;
        if (lat.length < MAX_SAMPLES) lat.push(now - t);
      } else errors++;
      if (now < end) fire(c);
      else if (--running === 0) done();
    });
  };
  for (const c of senders) fire(c);
  await Promise.race([finished, sleep(cfg.windowMs + cfg.drainMs)]);
  return stop(count, lat, errors);
}

const roomOf = (c: Client) => `bench-room-${c.i % cfg.rooms}`;
const members = (room: number) => Math.ceil((cfg.n - room) / cfg.rooms);

async function joinAll(room: (c: Client) => string) {
  await Promise.all(
    clients.map(
      (c) =>
        new Promise<void>((resolve, reject) =>
          emit(c, "room:join", { roomId: room(c) }, (text) =>
            ackOk(text) ? resolve() : reject(new Error(`join: ${text}`)),
          ),
        ),
    ),
  );
}

/** A fan-out window: `send(r)` sends one message to room r; expected deliveries bound the messages in flight. */
async function fanout(
  event: string,
  perMessage: (r: number) => number,
  send: (r: number) => Promise<boolean>,
  inFlight = cfg.fanoutInFlight,
) {
  fanEvent = `["${event}"`;
  delivered = 0;
  deliveredTotal = 0;
  latencies = [];
  let expected = 0;
  let sent = 0;
  let errors = 0;
  const avg = cfg.n / cfg.rooms;
  const stop = measure();
  measuring = true;
  const end = performance.now() + cfg.windowMs;
  await Promise.all(
    Array.from({ length: cfg.rooms }, async (_, r) => {
      while (performance.now() < end) {
        if (expected - deliveredTotal > inFlight * avg) {
          await sleep(1);
          continue;
        }
        expected += perMessage(r);
        sent++;
        if (!(await send(r))) errors++;
      }
    }),
  );
  const r = stop(delivered, latencies, errors, { messages: sent });
  measuring = false;
  const drainEnd = performance.now() + cfg.drainMs;
  while (deliveredTotal < expected && performance.now() < drainEnd) await sleep(10);
  r.undelivered = expected - deliveredTotal;
  fanEvent = "";
  return r;
}

const dispatchUrl = `${cfg.url}/api/socket/dispatch`;
const headers = { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" };
async function dispatch(channel: string, data: unknown): Promise<boolean> {
  const res = await fetch(dispatchUrl, {
    method: "POST",
    headers,
    body: JSON.stringify({ channel, event: "bench", data }),
  });
  await res.arrayBuffer();
  return res.ok;
}

const want = new Set(cfg.phases);
if (["fanoutDispatch", "fanoutBroadcast", "fanoutLight", "fanoutLightDispatch"].some((p) => want.has(p)))
  await joinAll(roomOf);

// Scenario 1a: fan-out through the admin dispatch path (HTTP from this process, one request in flight per room).
if (want.has("fanoutDispatch")) {
  results.fanoutDispatch = await fanout("bench", members, (r) =>
    dispatch(`bench-room-${r}`, { t: `@@${performance.now()}` }),
  );
}

// Scenario 1b: fan-out through a client's room broadcast (`message:send`; the first client of each room sends).
const broadcastFrom = (r: number) =>
  new Promise<boolean>((resolve) => {
    const c = clients[r] as Client;
    emit(c, "message:send", { roomId: roomOf(c), content: `@@${performance.now()}` }, (text) => resolve(ackOk(text)));
  });
if (want.has("fanoutBroadcast")) {
  results.fanoutBroadcast = await fanout("message:new", (r) => members(r) - 1, broadcastFrom);
}

// Scenario 1c: the same broadcast at light load, one message in flight at a time: latency, not capacity.
if (want.has("fanoutLight")) {
  results.fanoutLight = await fanout("message:new", (r) => members(r) - 1, broadcastFrom, 0);
}

// Scenario 1d: a dispatch at light load, one in flight: the broadcast path's latency with no database write.
if (want.has("fanoutLightDispatch")) {
  results.fanoutLightDispatch = await fanout(
    "bench",
    members,
    (r) => dispatch(`bench-room-${r}`, { t: `@@${performance.now()}` }),
    0,
  );
}

// Server CPU per acked event: `ping` from every client, one in flight each.
if (want.has("ping")) results.ping = await ackLoop(clients, "ping", () => ({}));

// Scenario 2: chat with durable acks, each client alone in its own room (no fan-out in the figure).
if (want.has("chat")) {
  await joinAll((c) => `bench-chat-${c.i}`);
  results.chat = await ackLoop(clients, "message:send", (c) => ({ roomId: `bench-chat-${c.i}`, content: "hello" }));
}

// Scenario 4: admin HTTP dispatch to a channel nobody is in (the request path and the emit, no fan-out).
if (want.has("admin")) {
  const lat: number[] = [];
  let count = 0;
  let errors = 0;
  const stop = measure();
  const end = performance.now() + cfg.windowMs;
  await Promise.all(
    Array.from({ length: cfg.httpConcurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        if (await dispatch("bench-nobody", { n: 1 })) {
          count++;
          lat.push(performance.now() - t);
        } else errors++;
      }
    }),
  );
  results.admin = stop(count, lat, errors);
}

for (const c of clients) c.ws.close();
console.log(JSON.stringify({ phases: results }));
process.exit(0);
