/** JWT tools for backends (seed 000: /jwt/create, /jwt/verify, /jwt/decode). */
import { z } from "zod";
import { operation } from "../operation";
import { DurationString } from "../shared/duration";

const RESERVED_CLAIMS = ["sub", "iat", "exp", "nbf", "iss", "aud", "jti"] as const;

export const JwtPayload = z
  .object({
    sub: z.string().optional(),
    userId: z.string().optional(),
    iat: z.number().int().optional(),
    exp: z.number().int().optional(),
  })
  .catchall(z.unknown())
  .meta({ id: "JwtPayload", description: "The token's claims as signed" });

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
      .optional(),
  }),
  output: z.object({
    token: z.string(),
    expiresAt: z.iso.datetime().meta({ description: "When the token stops being accepted" }),
  }),
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
    payload: JwtPayload.nullable(),
    error: z.string().optional().meta({ example: "token expired" }),
  }),
});

export const decodeToken = operation({
  name: "jwt.decode",
  method: "POST",
  path: "/jwt/decode",
  auth: "admin",
  summary: "Read a token's claims without verifying its signature",
  input: z.object({ token: Token }),
  output: z.object({ payload: JwtPayload }),
});
