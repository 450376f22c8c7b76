/**
 * Handshake authentication: a JWT from `auth.token`, `query.token`, `Authorization: Bearer …`
 * or a `token` header (seeds 000, 001, 004). A refusal reaches the client as `connect_error`
 * with `data: { code, message }`: UNAUTHORIZED (no valid credential), FORBIDDEN (a valid one that
 * may not open this namespace), BAD_REQUEST (a trusted connection's userId or channel is invalid) or
 * RATE_LIMITED (too many sockets for the user).
 *
 * The same credential positions may carry `API_TOKEN` instead:
 * - on the main namespace it opens a trusted service connection (seed 003): the query may name
 *   `userId` and `channel` (each generated when missing), and the socket is in that channel at once
 *   (`socket.data.channel`, which the admin API's socket stats show);
 * - on `/internal` (backend services, seed 002's internal gateway) it is required, or an end-user JWT
 *   with `role: "admin"`; any other end-user token is refused with FORBIDDEN.
 */
import type { JWTPayload } from "jose";
import { type CallerAuth, isAdminClaims } from "../domain/callers";
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
  /** Recognises API_TOKEN (trusted service connections, services on /internal) and admin JWTs. */
  callers: Pick<CallerAuth, "isApiToken">;
}

/** The namespace of backend services (seed 002's internal gateway). */
export const INTERNAL_NAMESPACE = "/internal";

type RefusalCode = "UNAUTHORIZED" | "FORBIDDEN" | "BAD_REQUEST" | "RATE_LIMITED";
const refuse = (code: RefusalCode, message: string) => Object.assign(new Error(message), { data: { code, message } });

/** A trusted connection's ids: room-id characters, so a channel is a valid room and both are safe in logs. */
const ID = /^[A-Za-z0-9:_.@-]{1,128}$/;

/** A query parameter given once: undefined when absent, null when repeated or not a string. */
function queryParam(handshake: Handshake, name: string): string | undefined | null {
  const value = handshake.query?.[name];
  if (value === undefined || value === "") return undefined;
  return typeof value === "string" ? value : null;
}

interface Identity {
  userId: string;
  claims: JWTPayload;
  channel?: string;
}

/** Who a handshake speaks for, or why it is refused. */
async function identify(socket: AppSocket, deps: AuthDeps) {
  const token = tokenFrom(socket.handshake);
  const internal = socket.nsp.name === INTERNAL_NAMESPACE;
  if (token && deps.callers.isApiToken(token)) {
    const userId = queryParam(socket.handshake, "userId");
    const channel = internal ? undefined : queryParam(socket.handshake, "channel");
    for (const [name, value] of [
      ["userId", userId],
      ["channel", channel],
    ] as const) {
      if (value === null || (value !== undefined && !ID.test(value))) {
        return { refused: refuse("BAD_REQUEST", `${name}: 1-128 characters of A-Z a-z 0-9 : _ . @ -`), reason: name };
      }
    }
    // A user's room or another socket's own room would receive what is meant for them.
    if (channel !== undefined && channel !== null && (channel.startsWith("user:") || socket.nsp.sockets.has(channel))) {
      return {
        refused: refuse("BAD_REQUEST", "channel: user rooms and socket ids cannot be joined"),
        reason: "channel",
      };
    }
    // A recovered socket (RECOVERY_WINDOW_MS) keeps the ids generated for it the first time.
    const previous = socket.recovered ? (socket.data as Partial<typeof socket.data>) : undefined;
    const identity: Identity = {
      userId: userId ?? previous?.user?.id ?? `service-${crypto.randomUUID()}`,
      claims: {},
    };
    if (!internal) identity.channel = channel ?? previous?.channel ?? `channel-${crypto.randomUUID()}`;
    return { identity, service: true };
  }
  const result = await deps.tokens.verify(token);
  if (!result.valid) return { refused: refuse("UNAUTHORIZED", result.message), reason: result.reason };
  if (internal && !isAdminClaims(result.payload)) {
    return {
      refused: refuse("FORBIDDEN", `${INTERNAL_NAMESPACE} needs API_TOKEN or an admin token (role: "admin")`),
      reason: "NOT_ADMIN",
    };
  }
  return { identity: { userId: result.userId, claims: result.payload } satisfies Identity, service: false };
}

/**
 * The namespace middleware: a valid token, and fewer than MAX_SOCKETS_PER_USER sockets for its user
 * on this node (the new connection is refused; the open ones stay). Counted synchronously from the
 * moment a socket is accepted until it disconnects, so a burst of connects cannot overshoot.
 */
export function authenticate(deps: AuthDeps) {
  const { maxSocketsPerUser, clientIp, log } = deps;
  const socketsOf = new Map<string, number>();
  return async (socket: AppSocket, next: (err?: Error) => void) => {
    const ip = clientIp(socket);
    const result = await identify(socket, deps);
    if ("refused" in result) {
      log.info(
        { event: "connection_refused", ip, reason: result.reason, namespace: socket.nsp.name },
        "handshake refused",
      );
      return next(result.refused);
    }
    const { identity } = result;
    const userId = identity.userId;
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

    socket.data.user = { id: userId, claims: identity.claims };
    socket.data.ip = ip;
    socket.data.connectedAt = new Date().toISOString();
    if (identity.channel !== undefined) {
      socket.data.channel = identity.channel;
      socket.join(identity.channel);
    }
    if (result.service) {
      log.info({ event: "service_connection", ip, userId, channel: identity.channel }, "trusted service connection");
    }
    next();
  };
}
