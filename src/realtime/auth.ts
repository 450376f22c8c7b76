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

export function authenticate(tokens: TokenService, clientIp: (socket: AppSocket) => string, log: Logger) {
  return async (socket: AppSocket, next: (err?: Error) => void) => {
    const ip = clientIp(socket);
    const result = await tokens.verify(tokenFrom(socket.handshake));
    if (!result.valid) {
      log.info(
        { event: "connection_refused", ip, reason: result.reason, namespace: socket.nsp.name },
        "handshake refused",
      );
      const error = new Error(result.message) as Error & { data?: unknown };
      error.data = { code: "UNAUTHORIZED", message: result.message };
      return next(error);
    }
    socket.data.user = { id: result.userId, claims: result.payload };
    socket.data.ip = ip;
    socket.data.connectedAt = new Date().toISOString();
    next();
  };
}
