/** Admin credentials, client addresses and response hardening for the HTTP side. */
import { createHash, timingSafeEqual } from "node:crypto";
import type { TokenService } from "../domain/tokens";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Who is calling the HTTP API, from its Authorization header. */
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
    isApiToken: (authorization: string | null | undefined) => isApiToken(bearer(authorization)),
    async identify(authorization: string | null | undefined): Promise<Caller> {
      const presented = bearer(authorization);
      if (!presented) return { kind: "anonymous" };
      if (isApiToken(presented)) return { kind: "admin", via: "api-token" };
      if (presented.split(".").length !== 3) return { kind: "invalid", reason: "not the API token nor a JWT" };
      const result = await tokens.verify(presented);
      if (!result.valid) return { kind: "invalid", reason: result.message };
      return result.payload.role === "admin"
        ? { kind: "admin", via: "jwt", userId: result.userId }
        : { kind: "user", userId: result.userId };
    },
  };
}

export type CallerAuth = ReturnType<typeof createCallerAuth>;

/**
 * The client address. Behind `hops` trusted proxies, each appends the address it received from to
 * X-Forwarded-For, so the client is `hops` entries from the right; everything left of it was written
 * by the client and is ignored. `hops` 0: the peer address.
 */
export function clientIp(
  request: Request,
  server: { requestIP(r: Request): { address: string } | null } | null | undefined,
  hops: number,
): string {
  if (hops > 0) {
    const chain = (request.headers.get("x-forwarded-for") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const forwarded = chain[chain.length - hops] ?? chain[0];
    if (forwarded) return forwarded;
  }
  return server?.requestIP(request)?.address ?? "unknown";
}

/** Headers every HTTP answer carries (the docs UI relaxes the CSP for its own page). */
export const securityHeaders: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "x-dns-prefetch-control": "off",
  "x-permitted-cross-domain-policies": "none",
};
