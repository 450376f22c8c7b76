/**
 * The @socket.io/bun-engine internals the native fan-out relies on, in one place: which Bun
 * ServerWebSocket carries an engine connection, and whether a frame published now reaches the
 * client right after everything the engine already wrote. `self-test.ts` exercises exactly these.
 */
import type { Server as Engine } from "@socket.io/bun-engine";
import type { Server as BunServer, ServerWebSocket } from "bun";

export type NativeSocket = ServerWebSocket<unknown>;
export type NativeServer = BunServer<unknown>;

/** An engine connection (bun-engine's Socket) as seen through its private fields. */
export interface EngineConn {
  readyState: string;
  transport: { name: string; writable: boolean; socket?: NativeSocket };
  writeBuffer: unknown[];
  on(event: "upgrade" | "drain", listener: () => void): unknown;
  once(event: "drain", listener: () => void): unknown;
  off(event: "upgrade" | "drain", listener: () => void): unknown;
}

/**
 * The connection's ServerWebSocket when a frame published to it now goes out after everything the
 * engine already wrote: open, on the websocket transport, nothing buffered. Bun keeps a socket's
 * `send` and topic publishes in one ordered queue, so from then on native and engine writes interleave
 * in call order. Undefined otherwise (polling, mid-upgrade, buffered, closing).
 */
export function nativeSocketOf(conn: EngineConn): NativeSocket | undefined {
  const { transport } = conn;
  if (conn.readyState !== "open" || transport.name !== "websocket" || !transport.writable) return undefined;
  if (!Array.isArray(conn.writeBuffer) || conn.writeBuffer.length > 0) return undefined;
  const ws = transport.socket;
  return ws && ws.readyState === 1 && typeof ws.subscribe === "function" ? ws : undefined;
}

/** The frame the engine writes on a websocket for one encoded part: its bytes, or "4" (message) + the text. */
export const frameOf = (part: unknown): string | Bun.BufferSource =>
  part instanceof ArrayBuffer || ArrayBuffer.isView(part) ? (part as Bun.BufferSource) : `4${part || ""}`;

/** Which Bun server the engine's connections live on (topics are per server). */
export interface EngineLink {
  /** The server of the first connection; publishes go through it. */
  server: NativeServer | undefined;
  /** Connections that came through another server: never on the native path. */
  foreign: WeakSet<object>;
}

/** Learns the Bun server from the engine's `connection` event (public API: it passes the server). */
export function linkEngine(engine: Engine): EngineLink {
  const link: EngineLink = { server: undefined, foreign: new WeakSet() };
  engine.on("connection", (conn, _request, server) => {
    link.server ??= server as NativeServer;
    if (server !== link.server) link.foreign.add(conn);
  });
  return link;
}
