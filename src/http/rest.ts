/** The operations table as REST routes: one loop, nothing per operation. */
import type { AnyElysia } from "elysia";
import { operations } from "../../contracts/admin";
import { type AnyOperation, isQuery } from "../../contracts/operation";
import { AppError } from "../domain/errors";
import { readJsonBody } from "./body";
import { coerceInput, queryOf } from "./coerce";
import type { OperationImpls } from "./operations";
import { checkAuth, runOperation } from "./operations/run";
import type { RequestContextFn } from "./request-context";

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Path params, then the query string (GET, DELETE) or the JSON body: one input object. Text from
 * the path and the query is converted by the input schema (`?limit=2` is the number 2).
 */
async function inputOf(op: AnyOperation, request: Request, params: Record<string, string>, maxBodyBytes: number) {
  const path = coerceInput(op.input, params);
  if (isQuery(op) || op.method === "DELETE") return { ...coerceInput(op.input, queryOf(request.url)), ...path };
  const body = await readJsonBody(request, maxBodyBytes);
  if (body === undefined) return path;
  if (!isPlainObject(body)) throw new AppError("BAD_REQUEST", "Body must be a JSON object");
  return { ...body, ...path };
}

export const restRoutes = (impls: OperationImpls, requestContext: RequestContextFn) => (app: AnyElysia) => {
  const { maxBodyBytes } = requestContext.limits;
  for (const op of operations as readonly AnyOperation[]) {
    const fn = impls[op.name as keyof OperationImpls] as never;
    app.route(
      op.method,
      op.path,
      async ({ request, params }) => {
        const ctx = requestContext(request);
        checkAuth(op, ctx); // before reading a body
        return runOperation(
          op,
          fn,
          await inputOf(op, request, (params ?? {}) as Record<string, string>, maxBodyBytes),
          ctx,
        );
      },
      // The body is ours to read (capped, JSON only): see body.ts.
      { parse: "none", detail: { hide: true } },
    );
  }
  return app;
};
