import type { JWTPayload } from "jose";
import type { Server, Socket } from "socket.io";
import type { ClientToServerEvents, ServerToClientEvents } from "../../generated/events";

/** What the handshake established about a connection. */
export interface SocketData {
  user: { id: string; claims: JWTPayload };
  ip: string;
  connectedAt: string;
  /** The channel a trusted service connection joined (seed 003); unset for end users. */
  channel?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: socket.io's inter-server events are unused
export type AppServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, any>, SocketData>;
// biome-ignore lint/suspicious/noExplicitAny: as above
export type AppSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, any>, SocketData>;
