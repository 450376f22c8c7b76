/**
 * A connection lives no longer than its token: at `exp` (plus the clock tolerance) the socket gets
 * `auth:expired` and is disconnected, unless `auth:refresh` brought a fresh token for the same user.
 */
import type { AuthRefreshed } from "../../generated/events";
import { AppError } from "../domain/errors";
import type { TokenService } from "../domain/tokens";
import type { Logger } from "../observability/logger";
import type { AppSocket } from "./types";

export interface Session {
  refresh(token: string): Promise<AuthRefreshed>;
  /** Stops the expiry timer (on disconnect). */
  end(): void;
}

/** setTimeout's ceiling (~24.8 days); later expiries are re-armed when it fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export function startSession(
  socket: AppSocket,
  deps: { tokens: TokenService; clockToleranceSeconds: number; log: Logger },
): Session {
  let timer: Timer | undefined;

  const arm = () => {
    clearTimeout(timer);
    const exp = socket.data.user.claims.exp;
    if (typeof exp !== "number") return;
    const due = exp * 1000 + deps.clockToleranceSeconds * 1000;
    const wait = due - Date.now();
    timer = setTimeout(() => (wait > MAX_DELAY_MS ? arm() : expire(exp)), Math.max(0, Math.min(wait, MAX_DELAY_MS)));
    timer.unref();
  };

  const expire = (exp: number) => {
    const expiredAt = new Date(exp * 1000).toISOString();
    deps.log.info(
      { event: "token_expired", socketId: socket.id, userId: socket.data.user.id, expiredAt },
      "token expired",
    );
    socket.emit("auth:expired", { code: "UNAUTHORIZED", message: "token expired", expiredAt });
    socket.disconnect(true);
  };

  arm();
  return {
    async refresh(token) {
      const result = await deps.tokens.verify(token);
      if (!result.valid) throw new AppError("UNAUTHORIZED", result.message);
      if (result.userId !== socket.data.user.id) {
        throw new AppError("FORBIDDEN", "the token is for another user: reconnect to change users");
      }
      socket.data.user = { id: result.userId, claims: result.payload };
      arm();
      const exp = result.payload.exp;
      return {
        userId: result.userId,
        ...(typeof exp === "number" ? { expiresAt: new Date(exp * 1000).toISOString() } : {}),
      };
    },
    end: () => clearTimeout(timer),
  };
}
