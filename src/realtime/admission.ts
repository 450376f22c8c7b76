/**
 * Who may open a Socket.IO connection, and what an unauthenticated one may cost. Checked on every
 * request to the Socket.IO path before the engine sees it, and on every new engine connection:
 * - the Origin must be allowed (ALLOWED_ORIGINS) and the transport enabled (SOCKET_TRANSPORTS);
 * - new sessions per IP per window (SOCKET_HANDSHAKES_PER_IP), open connections in all
 *   (MAX_CONNECTIONS) and per IP (MAX_CONNECTIONS_PER_IP), counting handshakes still in flight;
 * - until it authenticates, a connection may send only a few small text messages (no binary
 *   attachments to buffer) and is closed after SOCKET_AUTH_TIMEOUT_MS;
 * - a connection whose unsent output passes SOCKET_MAX_BUFFERED_BYTES (a client that stopped
 *   reading) is closed. WebSockets get the same limit from Bun's backpressure settings.
 */
import type { Config } from "../config";
import { AppError } from "../domain/errors";
import { createRateLimiter } from "../domain/limits/rate-limit";
import type { Logger } from "../observability/logger";

/** Before authenticating, a connection may send this many messages, each at most this big (a CONNECT with its token). */
export const PRE_AUTH_MAX_MESSAGES = 8;
export const PRE_AUTH_MAX_MESSAGE_BYTES = 16 * 1024;

/** The engine connection, as far as admission uses it (bun-engine does not export its Socket type). */
interface EngineSocket {
  on(event: string, listener: (arg: never) => void): unknown;
  off(event: string, listener: (arg: never) => void): unknown;
  once(event: string, listener: (arg: never) => void): unknown;
}

const sizeOf = (data: unknown) =>
  typeof data === "string"
    ? data.length
    : data instanceof ArrayBuffer || ArrayBuffer.isView(data)
      ? data.byteLength
      : 0;

/** Closes at once, even with unsent output (engine.io's close() waits for a drain that may never come). */
const forceClose = (conn: EngineSocket, reason: string) =>
  (conn as unknown as { onClose(reason: string): void }).onClose(reason);

export interface AdmissionDeps {
  config: Config;
  log: Logger;
  /** The HTTP rate limiter's ban: a banned IP opens no sessions either. */
  isBanned?: (ip: string) => boolean;
}

export function createAdmission({ config, log, isBanned }: AdmissionDeps) {
  const limits = config.socket;
  const origins = config.allowedOrigins;
  const handshakes = createRateLimiter({ max: limits.handshakesPerIp, windowMs: config.rateLimit.windowMs, ban: 0 });
  const openByIp = new Map<string, number>();
  const pendingByIp = new Map<string, number>();
  const ipOf = new WeakMap<object, string>();
  /** Connections not yet authenticated: their auth timer and their traffic guard. */
  const unauthenticated = new WeakMap<object, { timer: Timer; guard: (data: unknown) => void }>();
  let open = 0;
  let pending = 0;
  let closed = false;

  const bump = (map: Map<string, number>, ip: string, by: number) => {
    const n = (map.get(ip) ?? 0) + by;
    if (n <= 0) map.delete(ip);
    else map.set(ip, n);
  };

  /** Why this request may not reach the engine; undefined when it may. */
  function refusal(request: Request, ip: string): AppError | undefined {
    const url = new URL(request.url);
    const origin = request.headers.get("origin");
    if (origin && origins !== "*" && !origins.includes(origin)) {
      return new AppError("FORBIDDEN", "Origin not allowed");
    }
    const transport = url.searchParams.get("transport");
    if (transport && !(limits.transports as string[]).includes(transport)) {
      return new AppError("BAD_REQUEST", `Transport not enabled: use ${limits.transports.join(" or ")}`);
    }
    if (url.searchParams.has("sid") || request.method === "OPTIONS") return undefined;
    // A new session.
    if (closed) return new AppError("SERVICE_UNAVAILABLE", "Server is shutting down");
    if (isBanned?.(ip)) return new AppError("FORBIDDEN", "Too many requests: banned for now");
    if (open + pending >= limits.maxConnections) {
      return new AppError("SERVICE_UNAVAILABLE", "Too many connections: retry later");
    }
    if ((openByIp.get(ip) ?? 0) + (pendingByIp.get(ip) ?? 0) >= limits.maxConnectionsPerIp) {
      return new AppError("RATE_LIMITED", "Too many connections from this address");
    }
    if (!handshakes.hit(ip).allowed) return new AppError("RATE_LIMITED", "Too many new connections: retry later");
    return undefined;
  }

  return {
    /**
     * Runs `handle` (the engine) unless the request is refused. New sessions count as pending until
     * the engine has answered, so concurrent handshakes cannot overshoot the caps.
     */
    async admit(
      request: Request,
      ip: string,
      handle: () => Promise<Response> | Response,
    ): Promise<Response | AppError> {
      const refused = refusal(request, ip);
      if (refused) {
        log.info({ event: "connection_refused", ip, reason: refused.message }, "socket.io request refused");
        return refused;
      }
      const isNew = !new URL(request.url).searchParams.has("sid") && request.method !== "OPTIONS";
      if (!isNew) return handle();
      pending++;
      bump(pendingByIp, ip, 1);
      try {
        return await handle();
      } finally {
        pending--;
        bump(pendingByIp, ip, -1);
      }
    },

    /** A new engine connection (the engine's `connection` event). */
    connected(conn: EngineSocket, ip: string) {
      ipOf.set(conn, ip);
      open++;
      bump(openByIp, ip, 1);
      const timer = setTimeout(() => forceClose(conn, "authentication timeout"), limits.authTimeoutMs);
      timer.unref();

      let messages = 0;
      const guard = (data: unknown) => {
        messages++;
        if (typeof data !== "string" || data.length > PRE_AUTH_MAX_MESSAGE_BYTES || messages > PRE_AUTH_MAX_MESSAGES) {
          log.info({ event: "connection_refused", ip, reason: "unauthenticated traffic over its limit" }, "closed");
          forceClose(conn, "unauthenticated traffic over its limit");
        }
      };
      conn.on("data", guard);
      unauthenticated.set(conn, { timer, guard });

      // Unsent output is counted for polling only: a WebSocket's is Bun's (backpressureLimit), so
      // the counters come off at the upgrade and a WebSocket from the start never has them.
      if ((conn as unknown as { transport: { name: string } }).transport.name === "polling") {
        let unsent = 0;
        const created = (packet: { data?: unknown }) => {
          unsent += sizeOf(packet.data);
          if (unsent > limits.maxBufferedBytes) {
            log.warn({ event: "slow_reader", ip, unsent }, "client stopped reading: disconnected");
            forceClose(conn, "slow reader");
          }
        };
        const flushed = () => {
          unsent = 0;
        };
        conn.on("packetCreate", created);
        conn.on("flush", flushed);
        conn.once("upgrade", () => {
          conn.off("packetCreate", created);
          conn.off("flush", flushed);
        });
      }
      conn.once("close", () => {
        const pre = unauthenticated.get(conn);
        if (pre) clearTimeout(pre.timer);
        open--;
        bump(openByIp, ip, -1);
      });
    },

    /** The connection completed an authenticated Socket.IO connect: its pre-auth limits end. */
    authenticated(conn: object) {
      const pre = unauthenticated.get(conn);
      if (!pre) return;
      unauthenticated.delete(conn);
      clearTimeout(pre.timer);
      (conn as EngineSocket).off("data", pre.guard);
    },
    ipOf: (conn: object) => ipOf.get(conn) ?? "unknown",
    /** Refuse new sessions from now on (shutdown). */
    close() {
      closed = true;
    },
    stats: () => ({ open, pending }),
  };
}

export type Admission = ReturnType<typeof createAdmission>;
