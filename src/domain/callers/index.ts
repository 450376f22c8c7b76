/**
 * Who a credential speaks for, the same for every transport (the admin API and the Socket.IO
 * handshake): the API_TOKEN, a JWT with `role: "admin"` (seed 004), or an end user's JWT.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { JWTPayload } from "jose";
import type { TokenService } from "../tokens";

/** An admin JWT: one whose `role` claim is `admin`. */
export const isAdminClaims = (claims: JWTPayload) => claims.role === "admin";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Who is calling, from the credential it presented (an Authorization header, a handshake token). */
export type Caller =
  | { kind: "admin"; via: "api-token" | "jwt"; userId?: string }
  | { kind: "user"; userId: string }
  | { kind: "anonymous" }
  /** A credential was sent but is not valid: `reason` says why (never the credential). */
  | { kind: "invalid"; reason: string };

const bearer = (authorization: string | null | undefined) => authorization?.replace(/^Bearer\s+/i, "").trim() ?? "";

/**
 * `Authorization: Bearer <API_TOKEN>` (or the bare token, seed 003) is an admin; so is a valid
 * end-user JWT whose `role` claim is `admin` (seed 004). Any other valid JWT is a user. The API
 * token is compared as SHA-256 digests in constant time, so neither content nor length leaks.
 */
export function createCallerAuth(apiToken: string, tokens: Pick<TokenService, "verify">) {
  const expected = digest(apiToken);
  const isApiToken = (presented: string) => presented.length > 0 && timingSafeEqual(digest(presented), expected);
  return {
    /** The API token, bare or as `Bearer <token>`. */
    isApiToken: (credential: string | null | undefined) => isApiToken(bearer(credential)),
    async identify(authorization: string | null | undefined): Promise<Caller> {
      const presented = bearer(authorization);
      if (!presented) return { kind: "anonymous" };
      if (isApiToken(presented)) return { kind: "admin", via: "api-token" };
      if (presented.split(".").length !== 3) return { kind: "invalid", reason: "not the API token nor a JWT" };
      const result = await tokens.verify(presented);
      if (!result.valid) return { kind: "invalid", reason: result.message };
      return isAdminClaims(result.payload)
        ? { kind: "admin", via: "jwt", userId: result.userId }
        : { kind: "user", userId: result.userId };
    },
  };
}

export type CallerAuth = ReturnType<typeof createCallerAuth>;
