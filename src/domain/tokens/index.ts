/** End-user JWTs: HS256 with JWT_SECRET. The handshake and the JWT tools both use this. */
import { decodeJwt, errors, type JWTPayload, jwtVerify, SignJWT } from "jose";
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
  | "ISSUED_IN_FUTURE";

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

export interface TokenOptions {
  secret: string;
  defaultExpiresInSeconds: number;
  /** Refuse tokens without `exp` (JWT_REQUIRE_EXP). */
  requireExp?: boolean;
  /** Clock skew allowed on exp, nbf and iat (JWT_CLOCK_TOLERANCE_SECONDS). */
  clockToleranceSeconds?: number;
}

/** Date's range in seconds: a time claim outside it cannot be a moment (and breaks `new Date()`). */
const MAX_NUMERIC_DATE = 8.64e12;

export function createTokenService(opts: TokenOptions): TokenService {
  const key = new TextEncoder().encode(opts.secret);
  const tolerance = opts.clockToleranceSeconds ?? 0;

  return {
    async sign(userId, { expiresInSeconds = opts.defaultExpiresInSeconds, claims = {} } = {}) {
      const now = Math.floor(Date.now() / 1000);
      const exp = now + expiresInSeconds;
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(userId)
        .setIssuedAt(now)
        .setExpirationTime(exp)
        .sign(key);
      return { token, expiresAt: new Date(exp * 1000) };
    },

    async verify(token) {
      if (!token) return { valid: false, reason: "MISSING", message: "missing token" };
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ["HS256"],
          clockTolerance: tolerance,
          requiredClaims: opts.requireExp ? ["exp"] : [],
        });
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

function describe(error: unknown): { reason: TokenFailure; message: string } {
  if (error instanceof errors.JWTExpired) return { reason: "EXPIRED", message: "token expired" };
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return { reason: "BAD_SIGNATURE", message: "invalid signature" };
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return { reason: "ALGORITHM", message: "algorithm not allowed (only HS256 is accepted)" };
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
