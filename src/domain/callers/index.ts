/**
 * Who a credential speaks for, the same for every transport (the admin API and the Socket.IO
 * handshake): the API_TOKEN, a JWT with `role: "admin"` (seed 004), or an end user's JWT.
 */
import { timingSafeEqual } from "node:crypto";
import type { JWTPayload } from "jose";
import type { TokenService } from "../tokens";

/** An admin JWT: one whose `role` claim is `admin`. */
export const isAdminClaims = (claims: JWTPayload) => claims.role === "admin";

/** Who is calling, from the credential it presented (an Authorization header, a handshake token). */
export type Caller =
  | { kind: "admin"; via: "api-token" | "jwt"; userId?: string }
  | { kind: "user"; userId: string }
  | { kind: "anonymous" }
  /** A credential was sent but is not valid: `reason` says why (never the credential). */
  | { kind: "invalid"; reason: string };

/** The credential of an Authorization header: `Bearer <credential>` (any case, any spaces) or the bare credential. */
function bearer(authorization: string | null | undefined): string {
  if (!authorization) return "";
  // The common shape, "Bearer " and a credential without surrounding spaces, without a regular expression.
  if (authorization.length > 7 && authorization.startsWith("Bearer ")) {
    const rest = authorization.slice(7);
    const first = rest.charCodeAt(0);
    const last = rest.charCodeAt(rest.length - 1);
    if (first > 32 && first < 127 && last > 32 && last < 127) return rest;
  }
  return authorization.replace(/^Bearer\s+/i, "").trim();
}

const ANONYMOUS: Caller = Object.freeze({ kind: "anonymous" });
const API_TOKEN_ADMIN: Caller = Object.freeze({ kind: "admin", via: "api-token" });

/**
 * `Authorization: Bearer <API_TOKEN>` (or the bare token, seed 003) is an admin; so is a valid
 * end-user JWT whose `role` claim is `admin` (seed 004). Any other valid JWT is a user.
 *
 * The API token is compared in constant time without hashing it per request: the presented
 * credential is written into a buffer of the token's own length (cut or zero-padded), which is
 * compared whole with `timingSafeEqual`, and the byte lengths are compared apart; the time taken
 * depends on the token's length only, never on its content or on how much of it matched, and a
 * shorter or longer credential takes the same path as one of the right length.
 */
export function createCallerAuth(apiToken: string, tokens: Pick<TokenService, "verify">) {
  const expected = Buffer.from(apiToken, "utf8");
  const scratch = Buffer.alloc(expected.byteLength);
  const isApiToken = (presented: string) => {
    if (presented.length === 0) return false;
    // Synchronous from fill to compare: no other call can use the scratch buffer meanwhile.
    scratch.fill(0);
    scratch.write(presented, "utf8");
    const sameLength = Buffer.byteLength(presented, "utf8") === expected.byteLength;
    const sameBytes = timingSafeEqual(scratch, expected);
    // Both always computed, and combined without a branch on either.
    return (Number(sameLength) & Number(sameBytes)) === 1;
  };
  async function verified(presented: string): Promise<Caller> {
    const result = await tokens.verify(presented);
    if (!result.valid) return { kind: "invalid", reason: result.message };
    return isAdminClaims(result.payload)
      ? { kind: "admin", via: "jwt", userId: result.userId }
      : { kind: "user", userId: result.userId };
  }
  return {
    /** The API token, bare or as `Bearer <token>`. */
    isApiToken: (credential: string | null | undefined) => isApiToken(bearer(credential)),
    /**
     * Who an Authorization header speaks for. Synchronous for no credential, the API token and
     * what is not a JWT (nothing to wait for: the HTTP hook stays synchronous on those); a promise
     * only when a JWT must be verified. The returned callers are shared: never mutate one.
     */
    identify(authorization: string | null | undefined): Caller | Promise<Caller> {
      const presented = bearer(authorization);
      if (!presented) return ANONYMOUS;
      if (isApiToken(presented)) return API_TOKEN_ADMIN;
      if (presented.split(".").length !== 3) return { kind: "invalid", reason: "not the API token nor a JWT" };
      return verified(presented);
    },
  };
}

export type CallerAuth = ReturnType<typeof createCallerAuth>;
