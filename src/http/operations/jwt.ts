import type { createToken, decodeToken, verifyToken } from "../../../contracts/admin/jwt";
import { parseDuration } from "../../../contracts/shared/duration";
import type { Services } from "../../services";
import type { OperationFn } from "./run";

export const jwtOperations = ({ tokens }: Services) => ({
  "jwt.create": (async ({ userId, expiresIn, claims }) => {
    const expiresInSeconds = expiresIn === undefined ? undefined : parseDuration(expiresIn);
    const { token, expiresAt } = await tokens.sign(userId, { expiresInSeconds, claims });
    return { token, expiresAt: expiresAt.toISOString() };
  }) satisfies OperationFn<typeof createToken>,

  "jwt.verify": (async ({ token }) => {
    const result = await tokens.verify(token);
    return result.valid
      ? { valid: true, payload: result.payload }
      : { valid: false, payload: null, error: result.message };
  }) satisfies OperationFn<typeof verifyToken>,

  "jwt.decode": (({ token }) => ({ payload: tokens.decode(token) })) satisfies OperationFn<typeof decodeToken>,
});
