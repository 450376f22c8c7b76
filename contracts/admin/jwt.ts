/** JWT tools for backends (seed 000: /jwt/create, /jwt/verify, /jwt/decode). */
import { z } from "zod";
import { operation } from "../operation";
import { DurationString } from "../shared/duration";

const RESERVED_CLAIMS = ["sub", "iat", "exp", "nbf", "iss", "aud", "jti"] as const;
/** Nesting allowed in extra claims: deeper values cannot be copied or serialised safely. */
const MAX_CLAIM_DEPTH = 32;

/** Whether `value` nests objects / arrays at most `max` levels deep (walked without recursion). */
function nestsAtMost(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [v, depth] = item;
    if (typeof v !== "object" || v === null) continue;
    if (depth > max) return false;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return true;
}

/** Any JSON value: typed for narrowing (`typeof claim === "string"`), not walked (a token may nest deep). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
const JsonValue = z.custom<Json>(() => true);

/** RFC 7519 NumericDate: seconds since the epoch (a fraction is allowed). */
const NumericDate = z.number().meta({ description: "Seconds since the epoch", example: 1767225600 });

/**
 * A token's claims exactly as it holds them. Any JSON object is a claims set: RFC 7519 says `sub`
 * is a string and `iat` a number, but a token signed elsewhere may say `sub: 123` or `iat: 1.5`,
 * and decode shows what is there rather than failing on it.
 */
export const JwtPayload = z.record(z.string(), JsonValue).meta({
  id: "JwtPayload",
  description:
    "The token's claims as signed: any JSON object. RFC 7519 names sub, iss, jti (strings), aud (a string or " +
    "strings), exp, nbf, iat (seconds since the epoch); nothing here is checked",
  example: { sub: "user123", iat: 1767225600, exp: 1767229200 },
});

/** The claims of a token that verified: exp, nbf and iat, when present, are finite numbers. */
export const VerifiedJwtPayload = z
  .object({ exp: NumericDate.optional(), nbf: NumericDate.optional(), iat: NumericDate.optional() })
  .catchall(JsonValue)
  .meta({
    id: "VerifiedJwtPayload",
    description:
      "The claims of a valid token: any JSON object whose exp, nbf and iat, when present, are numbers " +
      "(checked); the user is sub, else a userId claim (a string)",
  });

const Token = z
  .string()
  .min(1, { error: "is required" })
  .max(8192)
  .meta({ example: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyMTIzIn0.sig" });

export const createToken = operation({
  name: "jwt.create",
  method: "POST",
  path: "/jwt/create",
  auth: "admin",
  summary: "Issue an end-user JWT (HS256, signed with JWT_SECRET)",
  description: "The user id goes in `sub`. Extra claims are copied into the token; registered claims cannot be set.",
  input: z.object({
    userId: z.string().trim().min(1, { error: "is required" }).max(256).meta({ example: "user123" }),
    expiresIn: DurationString.optional().meta({ description: "Overrides JWT_EXPIRES_IN" }),
    claims: z
      .record(z.string(), z.unknown())
      .refine((c) => !RESERVED_CLAIMS.some((k) => k in c), {
        error: `must not set ${RESERVED_CLAIMS.join(", ")}`,
      })
      .refine((c) => nestsAtMost(c, MAX_CLAIM_DEPTH), { error: `must nest at most ${MAX_CLAIM_DEPTH} levels` })
      .optional(),
  }),
  output: z.object({
    token: z.string(),
    expiresAt: z.iso.datetime().meta({ description: "When the token stops being accepted" }),
  }),
  example: {
    input: { userId: "user123", expiresIn: "1h" },
    output: {
      token:
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyMTIzIiwiaWF0IjoxNzM1NzMyODAwLCJleHAiOjE3MzU3MzY0MDB9.sig",
      expiresAt: "2025-01-01T13:00:00.000Z",
    },
  },
});

export const verifyToken = operation({
  name: "jwt.verify",
  method: "POST",
  path: "/jwt/verify",
  auth: "admin",
  summary: "Check a token's signature and expiry",
  description: "An invalid token is not an error: the answer says `valid: false` and why.",
  input: z.object({ token: Token }),
  output: z.object({
    valid: z.boolean(),
    payload: VerifiedJwtPayload.nullable(),
    error: z.string().optional().meta({ example: "token expired" }),
  }),
  example: {
    input: {
      token:
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyMTIzIiwiaWF0IjoxNzM1NzMyODAwLCJleHAiOjE3MzU3MzY0MDB9.sig",
    },
    output: { valid: true, payload: { sub: "user123", iat: 1735732800, exp: 1735736400 } },
  },
});

export const decodeToken = operation({
  name: "jwt.decode",
  method: "POST",
  path: "/jwt/decode",
  auth: "admin",
  summary: "Read a token's claims without verifying its signature",
  input: z.object({ token: Token }),
  output: z.object({ payload: JwtPayload }),
  example: {
    input: {
      token:
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyMTIzIiwiaWF0IjoxNzM1NzMyODAwLCJleHAiOjE3MzU3MzY0MDB9.sig",
    },
    output: { payload: { sub: "user123", iat: 1735732800, exp: 1735736400 } },
  },
});
