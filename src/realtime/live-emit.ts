/**
 * Emits to one socket without keeping the event for connection state recovery (`x-replay: false`
 * in asyncapi.yaml). With recovery on, Socket.IO sends every `socket.emit` through the adapter so the
 * packet can be replayed after a reconnect; a live answer like `pong` has no use then, and that path
 * cost a fifth of a ping's server time. This writes the packet the way `socket.emit` does when
 * recovery is off: outgoing listeners first, then the socket's own packet path.
 */
import type { AppSocket } from "./types";

/** socket.io's Socket internals used here (socket.io 4.8: what `emit` calls without recovery). */
interface SocketInternals {
  notifyOutgoingListeners?: (packet: unknown) => void;
  packet?: (packet: unknown, opts: Record<string, unknown>) => void;
}

/** 2 = socket.io-parser's PacketType.EVENT. */
const EVENT = 2;

export function emitLive(socket: AppSocket, event: string, payload: unknown): void {
  const internals = socket as unknown as SocketInternals;
  if (typeof internals.packet !== "function" || typeof internals.notifyOutgoingListeners !== "function") {
    // Another socket.io than the one this was written for: the ordinary (replayed) emit is still right.
    (socket.emit as (e: string, p: unknown) => void)(event, payload);
    return;
  }
  const packet = { type: EVENT, data: [event, payload] };
  internals.notifyOutgoingListeners(packet);
  internals.packet(packet, {});
}
