/**
 * Whether the native fan-out may run on the installed packages. It reads private fields of
 * @socket.io/bun-engine (engine.ts) and of socket.io / socket.io-adapter (how a broadcast is encoded,
 * who gets it, how recovery offsets are kept), so two guards, both at start-up:
 * - the exact versions the compatibility suite passed with (test/realtime/adapter-*.test.ts). A probe
 *   can only check the engine fields it knows about, not a changed write path (corking, batching) or
 *   socket.io's per-socket hooks, so any other version runs the stock adapter, with a log, until the
 *   suite has passed on it and VERIFIED is raised (the suite fails while the fast path is off);
 * - a synthetic engine connection driven through a polling-to-websocket upgrade, checking the fields
 *   and events the adapter reads, and the frames the engine writes (the ones it publishes itself).
 * Bun's pub/sub (subscribe, publish, the per-socket order of sends and publishes) is Bun's public API.
 */
import { createRequire } from "node:module";
// The package entry first: its modules import each other in a cycle that only resolves from there.
import "@socket.io/bun-engine";
import { Socket } from "@socket.io/bun-engine/dist/socket.js";
import { Polling } from "@socket.io/bun-engine/dist/transports/polling.js";
import { WS } from "@socket.io/bun-engine/dist/transports/websocket.js";
import { type EngineConn, frameOf, nativeSocketOf } from "./engine";

export const VERIFIED = {
  "@socket.io/bun-engine": "0.1.2",
  "socket.io": "4.8.4",
  "socket.io-adapter": "2.5.8",
} as const;

/**
 * The cluster adapters the fan-out composes with, at the versions the suite passed with: their local
 * delivery must stay socket.io-adapter's `broadcast` (their `super.broadcast`), which it hooks.
 */
export const VERIFIED_CLUSTER = {
  "redis-streams": { "@socket.io/redis-streams-adapter": "0.3.1" },
  redis: { "@socket.io/redis-adapter": "8.3.0" },
} as const;

type Choice = "bun" | keyof typeof VERIFIED_CLUSTER;

/** The exact versions the fan-out needs for an adapter choice. */
const verifiedFor = (choice: Choice): Record<string, string> => ({
  ...VERIFIED,
  ...(choice === "bun" ? {} : VERIFIED_CLUSTER[choice]),
});

/** The installed versions of the packages `choice` needs verified. */
export function installedVersions(choice: Choice = "bun"): Record<string, string> {
  const require = createRequire(import.meta.url);
  return Object.fromEntries(
    Object.keys(verifiedFor(choice)).map((name) => [
      name,
      (require(`${name}/package.json`) as { version: string }).version,
    ]),
  );
}

/** Why the native fan-out cannot run with `choice` here, or undefined when it can. */
export function fanoutUnsupported(choice: Choice = "bun", installed = installedVersions(choice)): string | undefined {
  for (const [name, version] of Object.entries(verifiedFor(choice))) {
    if (installed[name] !== version)
      return `${name} ${installed[name]} is installed; the native fan-out is verified with ${version}`;
  }
  try {
    return probeEngine();
  } catch (err) {
    return `engine probe threw: ${(err as Error).message}`;
  }
}

/** Drives a connection without a network: packets in through the transports, frames out to a fake ServerWebSocket. */
function probeEngine(): string | undefined {
  // upgradeTimeout 0: should the probe stop half way, the engine's upgrade timer ends at once.
  const opts = { pingInterval: 60_000, pingTimeout: 60_000, upgradeTimeout: 0, maxHttpBufferSize: 1e6 };
  const frames: unknown[] = [];
  const ws = new WS(opts as never);
  const fake = {
    readyState: 1,
    send: (f: unknown) => frames.push(f),
    subscribe() {},
    close: () => ws.onCloseEvent(1000, ""),
  };
  const request = { url: "/", headers: {}, _query: {}, connection: { encrypted: false } };
  const socket = new Socket("self-test", opts as never, new Polling(opts as never), request);
  const conn = socket as unknown as EngineConn;
  const internals = socket as unknown as { _maybeUpgrade(t: unknown): void; onClose(reason: string): void };
  const packetIn = (packet: object) => (ws as unknown as { onPacket(p: object): void }).onPacket(packet);
  try {
    socket.write('2["buffered"]');
    if (conn.writeBuffer.length === 0) return "a polling connection did not buffer its output";
    if (nativeSocketOf(conn)) return "a polling connection looked native";

    ws.onOpen(fake as never);
    internals._maybeUpgrade(ws);
    packetIn({ type: "ping", data: "probe" });
    let atUpgrade: unknown = "no upgrade event";
    let atDrain: unknown = "no drain event";
    socket.on("upgrade", () => {
      atUpgrade = nativeSocketOf(conn) === undefined && conn.writeBuffer.length > 0 ? "ok" : "buffer not pending";
    });
    socket.once("drain", () => {
      atDrain = nativeSocketOf(conn) === (fake as never) && frames.at(-1) === '42["buffered"]' ? "ok" : "not flushed";
    });
    packetIn({ type: "upgrade" });
    if (atUpgrade !== "ok") return `upgrade: ${atUpgrade}`;
    if (atDrain !== "ok") return `drain after upgrade: ${atDrain}`;
    if (conn.transport.socket !== (fake as never)) return "the websocket transport does not hold its ServerWebSocket";

    // The frames the engine writes are the ones the adapter publishes (frameOf).
    socket.write('2["text"]');
    if (frames.at(-1) !== '42["text"]' || frameOf('2["text"]') !== frames.at(-1)) return "text frame differs";
    const bytes = new Uint8Array([1, 2, 3]);
    socket.write(bytes);
    if (frames.at(-1) !== bytes || frameOf(bytes) !== bytes) return "binary frame differs";
    if (conn.writeBuffer.length !== 0) return "websocket writes were buffered";
    return undefined;
  } finally {
    ws.close();
    internals.onClose("forced close");
  }
}
