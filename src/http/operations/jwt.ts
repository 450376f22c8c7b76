import type { createToken, decodeToken, Json, verifyToken } from "../../../contracts/admin/jwt";
import { parseDuration } from "../../../contracts/shared/duration";
import type { Services } from "../../services";
import type { OperationFn } from "./run";

/** Claims come out of JSON.parse, so every value is JSON (jose types them as unknown). */
const asJson = (payload: object) => payload as Record<string, Json>;

export const jwtOperations = ({ tokens }: Services) => ({
  "jwt.create": (async ({ userId, expiresIn, claims }) => {
    const expiresInSeconds = expiresIn === undefined ? undefined : parseDuration(expiresIn);
    const { token, expiresAt } = await tokens.sign(userId, { expiresInSeconds, claims });
    return { token, expiresAt: expiresAt.toISOString() };
  }) satisfies OperationFn<typeof createToken>,

  "jwt.verify": (async ({ token }) => {
    const result = await tokens.verify(token);
    return result.valid
      ? { valid: true, payload: asJson(result.payload) }
      : { valid: false, payload: null, error: result.message };
  }) satisfies OperationFn<typeof verifyToken>,

  "jwt.decode": (({ token }) => ({ payload: asJson(tokens.decode(token)) })) satisfies OperationFn<typeof decodeToken>,
});
