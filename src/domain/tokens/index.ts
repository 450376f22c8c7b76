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
  | "NOT_YET_VALID";

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

export function createTokenService(opts: { secret: string; defaultExpiresInSeconds: number }): TokenService {
  const key = new TextEncoder().encode(opts.secret);

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
        const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"] });
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
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === "nbf") {
    return { reason: "NOT_YET_VALID", message: "token not yet valid" };
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return { reason: "MALFORMED", message: `invalid claim: ${error.claim}` };
  }
  return { reason: "MALFORMED", message: "malformed token" };
}
