/** Client addresses and response hardening for the HTTP side (who is calling: domain/callers). */

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
