/**
 * Handshake authentication: a JWT from `auth.token`, `query.token`, `Authorization: Bearer …`
 * or a `token` header (seeds 000, 001, 004). A refusal reaches the client as `connect_error`
 * with `data: { code: "UNAUTHORIZED", message }`.
 */

import type { TokenService } from "../domain/tokens";
import type { Logger } from "../observability/logger";
import type { AppSocket } from "./types";

type Handshake = AppSocket["handshake"];

export function tokenFrom(handshake: Handshake): string | undefined {
  const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
  const candidates = [
    handshake.auth?.token,
    first(handshake.query?.token),
    first(handshake.headers.authorization)?.replace(/^Bearer\s+/i, ""),
    first(handshake.headers.token),
  ];
  for (const c of candidates) if (typeof c === "string" && c.trim()) return c.trim();
  return undefined;
}

export interface AuthDeps {
  tokens: TokenService;
  maxSocketsPerUser: number;
  clientIp: (socket: AppSocket) => string;
  log: Logger;
}

const refuse = (code: "UNAUTHORIZED" | "RATE_LIMITED", message: string) =>
  Object.assign(new Error(message), { data: { code, message } });

/**
 * The namespace middleware: a valid token, and fewer than MAX_SOCKETS_PER_USER sockets for its user
 * on this node (the new connection is refused; the open ones stay). Counted synchronously from the
 * moment a socket is accepted until it disconnects, so a burst of connects cannot overshoot.
 */
export function authenticate({ tokens, maxSocketsPerUser, clientIp, log }: AuthDeps) {
  const socketsOf = new Map<string, number>();
  return async (socket: AppSocket, next: (err?: Error) => void) => {
    const ip = clientIp(socket);
    const result = await tokens.verify(tokenFrom(socket.handshake));
    if (!result.valid) {
      log.info(
        { event: "connection_refused", ip, reason: result.reason, namespace: socket.nsp.name },
        "handshake refused",
      );
      return next(refuse("UNAUTHORIZED", result.message));
    }
    const userId = result.userId;
    const open = socketsOf.get(userId) ?? 0;
    if (open >= maxSocketsPerUser) {
      log.info({ event: "connection_refused", ip, userId, reason: "MAX_SOCKETS_PER_USER" }, "handshake refused");
      return next(refuse("RATE_LIMITED", `too many open connections for this user (at most ${maxSocketsPerUser})`));
    }
    socketsOf.set(userId, open + 1);
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      const n = (socketsOf.get(userId) ?? 1) - 1;
      if (n <= 0) socketsOf.delete(userId);
      else socketsOf.set(userId, n);
    };
    socket.once("disconnect", release);
    (socket.conn as unknown as { once(e: "close", f: () => void): void }).once("close", release); // never connected

    socket.data.user = { id: userId, claims: result.payload };
    socket.data.ip = ip;
    socket.data.connectedAt = new Date().toISOString();
    next();
  };
}
