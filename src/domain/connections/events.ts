/**
 * What domain services hear about connections, without knowing Socket.IO: the realtime layer calls
 * every listener in `Services.connectionListeners` when a socket connects and once it is gone.
 * Listeners may be async; shutdown waits for them like for any handler work.
 */
export interface SocketRef {
  socketId: string;
  userId: string;
  connectedAt: string;
}

export interface ConnectionListener {
  /** After the socket joined its user room and got `connected`. `recovered`: a reconnect within RECOVERY_WINDOW_MS. */
  connected?(socket: SocketRef & { recovered: boolean }): void | Promise<void>;
  /** After the socket left every room; `rooms`: the rooms it was in (its own and its user room aside). */
  disconnected?(socket: SocketRef & { rooms: string[]; reason: string }): void | Promise<void>;
}
