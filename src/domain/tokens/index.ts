/**
 * End-user JWTs. HS256 tokens are checked with JWT_SECRET (and the JWT tools sign them); when
 * JWKS_URL is set, RS256 / ES256 tokens are checked against that key set too. The header's `alg`
 * picks the one key source it may use, so an HS token is never checked with JWKS key material (an
 * HS256 token "signed" with the JWKS public key fails against the secret), and an asymmetric token
 * never with the HMAC secret. JWT_ISSUER / JWT_AUDIENCE, when set, apply to every end-user token,
 * and the tokens this service signs carry them. The handshake and the JWT tools both use this.
 */
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
  SignJWT,
} from "jose";
import { AppError } from "../errors";

export type TokenFailure =
  | "MISSING"
  | "EXPIRED"
  | "BAD_SIGNATURE"
  | "ALGORITHM"
  | "MALFORMED"
  | "NO_SUBJECT"
  | "NO_EXPIRY"
  | "NOT_YET_VALID"
  | "ISSUED_IN_FUTURE"
  | "ISSUER"
  | "AUDIENCE"
  | "UNKNOWN_KEY"
  | "KEYS_UNAVAILABLE";

export type VerifyResult =
  | { valid: true; userId: string; payload: JWTPayload }
  | { valid: false; reason: TokenFailure; message: string };

export interface TokenService {
  sign(
    userId: string,
    options?: { expiresInSeconds?: number; claims?: Record<string, unknown> },
  ): Promise<{
    token: string;
    expiresAt: Date;
  }>;
  verify(token: string | undefined): Promise<VerifyResult>;
  /** Claims without checking the signature; BAD_REQUEST when it is not a JWT at all. */
  decode(token: string): JWTPayload;
}

export interface JwksOptions {
  /** JWKS_URL. Fetched on first use, cached for `cacheMaxAgeMs`, fetched again on an unknown `kid`. */
  url: string;
  /** After a fetch, an unknown `kid` triggers no new fetch for this long (default 30 s: jose's). */
  cooldownMs?: number;
  /** Keys older than this are fetched again (default 10 min). */
  cacheMaxAgeMs?: number;
  /** A fetch slower than this fails the token (default 5 s). */
  timeoutMs?: number;
}

export interface TokenOptions {
  secret: string;
  defaultExpiresInSeconds: number;
  /** Refuse tokens without `exp` (JWT_REQUIRE_EXP). */
  requireExp?: boolean;
  /** Clock skew allowed on exp, nbf and iat (JWT_CLOCK_TOLERANCE_SECONDS). */
  clockToleranceSeconds?: number;
  /** RS256 / ES256 tokens are accepted, checked against this key set (JWKS_URL). */
  jwks?: JwksOptions | undefined;
  /** JWT_ISSUER: every token must carry this `iss`; signed tokens get it. */
  issuer?: string | undefined;
  /** JWT_AUDIENCE: every token must carry this `aud`; signed tokens get it. */
  audience?: string | undefined;
}

/** Verified with JWT_SECRET. */
const SYMMETRIC = ["HS256"];
/** Verified against the JWKS, when one is configured. */
const ASYMMETRIC = ["RS256", "ES256"];

/** Date's range in seconds: a time claim outside it cannot be a moment (and breaks `new Date()`). */
const MAX_NUMERIC_DATE = 8.64e12;

export function createTokenService(opts: TokenOptions): TokenService {
  const key = new TextEncoder().encode(opts.secret);
  // Imported once (HMAC SHA-256: HS256 is the one symmetric algorithm accepted): given the raw secret, jose
  // imports it again on every verification (each handshake).
  const verifyKey = crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const tolerance = opts.clockToleranceSeconds ?? 0;
  const jwks = opts.jwks
    ? createRemoteJWKSet(new URL(opts.jwks.url), {
        cooldownDuration: opts.jwks.cooldownMs,
        cacheMaxAge: opts.jwks.cacheMaxAgeMs,
        timeoutDuration: opts.jwks.timeoutMs,
      })
    : undefined;
  const accepted = jwks ? [...SYMMETRIC, ...ASYMMETRIC] : SYMMETRIC;
  const notAllowed = `algorithm not allowed (only ${accepted.join(", ")} ${accepted.length > 1 ? "are" : "is"} accepted)`;
  const checks: JWTVerifyOptions = {
    clockTolerance: tolerance,
    requiredClaims: opts.requireExp ? ["exp"] : [],
    ...(opts.issuer === undefined ? {} : { issuer: opts.issuer }),
    ...(opts.audience === undefined ? {} : { audience: opts.audience }),
  };

  type Failure = { reason: TokenFailure; message: string };

  /** The claims, once the signature checks out with the one key source the header's alg may use. */
  const verifySignature = async (token: string): Promise<{ payload: JWTPayload } | { failure: Failure }> => {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return { failure: { reason: "MALFORMED", message: "malformed token" } };
    }
    if (alg === undefined || !accepted.includes(alg)) {
      return { failure: { reason: "ALGORITHM", message: notAllowed } };
    }
    if (SYMMETRIC.includes(alg)) return jwtVerify(token, await verifyKey, { ...checks, algorithms: SYMMETRIC });
    try {
      return await jwtVerify(token, jwks as NonNullable<typeof jwks>, { ...checks, algorithms: ASYMMETRIC });
    } catch (error) {
      if (keysUnavailable(error))
        return { failure: { reason: "KEYS_UNAVAILABLE", message: "the JWKS could not be fetched" } };
      throw error;
    }
  };

  return {
    async sign(userId, { expiresInSeconds = opts.defaultExpiresInSeconds, claims = {} } = {}) {
      const now = Math.floor(Date.now() / 1000);
      const exp = now + expiresInSeconds;
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(userId)
        .setIssuedAt(now)
        .setExpirationTime(exp);
      if (opts.issuer !== undefined) jwt.setIssuer(opts.issuer);
      if (opts.audience !== undefined) jwt.setAudience(opts.audience);
      const token = await jwt.sign(key);
      return { token, expiresAt: new Date(exp * 1000) };
    },

    async verify(token) {
      if (!token) return { valid: false, reason: "MISSING", message: "missing token" };
      try {
        const checked = await verifySignature(token);
        if ("failure" in checked) return { valid: false, ...checked.failure };
        const { payload } = checked;
        // jose takes any number (Infinity too) and checks iat only against a maximum age.
        for (const claim of ["exp", "nbf", "iat"] as const) {
          const value = payload[claim];
          if (value !== undefined && !(Math.abs(value) <= MAX_NUMERIC_DATE)) {
            return { valid: false, reason: "MALFORMED", message: `invalid claim: ${claim}` };
          }
        }
        if (payload.iat !== undefined && payload.iat > Date.now() / 1000 + tolerance) {
          return { valid: false, reason: "ISSUED_IN_FUTURE", message: "token issued in the future" };
        }
        const userId = subjectOf(payload);
        if (!userId) return { valid: false, reason: "NO_SUBJECT", message: "token has no sub or userId claim" };
        return { valid: true, userId, payload };
      } catch (error) {
        return { valid: false, ...describe(error) };
      }
    },

    decode(token) {
      try {
        return decodeJwt(token);
      } catch {
        throw new AppError("BAD_REQUEST", "Invalid input: token: is not a JWT", {
          issues: [{ path: "token", message: "is not a JWT" }],
        });
      }
    },
  };
}

/** The user a token speaks for: `sub`, else a `userId` claim (seeds 000 and 004). */
export function subjectOf(payload: JWTPayload): string | undefined {
  if (typeof payload.sub === "string" && payload.sub) return payload.sub;
  const userId = payload.userId;
  return typeof userId === "string" && userId ? userId : undefined;
}

/** A JWKS fetch failure: a timeout, a network error, a non-200 answer or no key set in it. */
function keysUnavailable(error: unknown): boolean {
  if (!(error instanceof errors.JOSEError)) return true;
  return (
    error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || error.code === "ERR_JOSE_GENERIC"
  );
}

function describe(error: unknown): { reason: TokenFailure; message: string } {
  if (error instanceof errors.JWTExpired) return { reason: "EXPIRED", message: "token expired" };
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return { reason: "BAD_SIGNATURE", message: "invalid signature" };
  if (error instanceof errors.JOSEAlgNotAllowed) return { reason: "ALGORITHM", message: "algorithm not allowed" };
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return { reason: "UNKNOWN_KEY", message: "no key of the JWKS matches the token" };
  }
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === "iss") {
    return { reason: "ISSUER", message: "unexpected iss" };
  }
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === "aud") {
    return { reason: "AUDIENCE", message: "unexpected aud" };
  }
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === "exp" && error.reason === "missing") {
    return { reason: "NO_EXPIRY", message: "token has no exp claim" };
  }
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === "nbf" && error.reason === "check_failed") {
    return { reason: "NOT_YET_VALID", message: "token not yet valid" };
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return { reason: "MALFORMED", message: `invalid claim: ${error.claim}` };
  }
  return { reason: "MALFORMED", message: "malformed token" };
}
